import type { ReactNode } from "react";

/** The frame of the pages one sees before logging in. */
export function AuthCard({ title, children }: { title: string; children: ReactNode }) {
  return (
    <main id="main" className="auth">
      <div className="card">
        <p className="brand" aria-hidden="true">★ plaudit</p>
        <h1>{title}</h1>
        {children}
      </div>
    </main>
  );
}

/** The token an e-mailed link carries after `#token=` (a fragment never reaches a server log). */
export function tokenFromHash(hash: string): string {
  return new URLSearchParams(hash.replace(/^#/, "")).get("token") ?? "";
}
