import { Link } from "react-router";

export function NotFound() {
  return (
    <section className="page">
      <h1>Page not found</h1>
      <p>
        <Link to="/inbox">Go to the inbox</Link>
      </p>
    </section>
  );
}
