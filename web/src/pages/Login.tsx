import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useLocation, useNavigate } from "react-router";
import { api, unwrap } from "../api/client";
import { startSession } from "../api/session";
import { AuthCard } from "../components/AuthCard";
import { errorFor } from "../components/errors";
import { Field, FormError } from "../components/Field";

type Arrival = { message?: string; from?: string } | null;

export function Login() {
  const location = useLocation();
  const arrival = location.state as Arrival;
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const login = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/auth/login", { body: { email, password } })),
    onSuccess: (tokens) => {
      startSession(tokens);
      queryClient.clear();
      navigate(arrival?.from && arrival.from !== "/login" ? arrival.from : "/inbox", { replace: true });
    },
  });
  const error = errorFor(login.error, ["email", "password"]);

  function submit(event: FormEvent) {
    event.preventDefault();
    login.mutate();
  }

  return (
    <AuthCard title="Log in">
      {arrival?.message && (
        <p className="notice" role="status">
          {arrival.message}
        </p>
      )}
      <form onSubmit={submit} noValidate>
        <FormError message={error && !error.field ? error.message : null} />
        <Field label="E-mail" name="email" type="email" autoComplete="username" value={email} onChange={setEmail}
          error={error?.field === "email" ? error.message : null} required />
        <Field label="Password" name="password" type="password" autoComplete="current-password" value={password}
          onChange={setPassword} error={error?.field === "password" ? error.message : null} required />
        <button type="submit" className="primary" disabled={login.isPending}>
          {login.isPending ? "Logging in…" : "Log in"}
        </button>
      </form>
      <p className="aside">
        <Link to="/reset-password">Forgot your password?</Link> · <Link to="/signup">Create an account</Link>
      </p>
    </AuthCard>
  );
}
