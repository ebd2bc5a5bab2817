import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useLocation, useNavigate } from "react-router";
import { api, unwrap } from "../api/client";
import { startSession } from "../api/session";
import { AuthCard, tokenFromHash } from "../components/AuthCard";
import { errorFor } from "../components/errors";
import { Field, FormError } from "../components/Field";

/** Without a token: ask for the e-mail. With the e-mailed `#token=`: choose the new password. */
export function ResetPassword() {
  const token = tokenFromHash(useLocation().hash);
  return token ? <ChooseNewPassword token={token} /> : <AskForLink />;
}

function AskForLink() {
  const [email, setEmail] = useState("");
  const ask = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/auth/password-reset", { body: { email } })),
  });
  const error = errorFor(ask.error, ["email"]);
  function submit(event: FormEvent) {
    event.preventDefault();
    ask.mutate();
  }
  if (ask.isSuccess) {
    return (
      <AuthCard title="Check your e-mail">
        <p role="status">If {email} has an account, a link to choose a new password is on its way.</p>
        <p className="aside">
          <Link to="/login">Back to log in</Link>
        </p>
      </AuthCard>
    );
  }
  return (
    <AuthCard title="Reset your password">
      <form onSubmit={submit} noValidate>
        <FormError message={error && !error.field ? error.message : null} />
        <Field label="E-mail" name="email" type="email" autoComplete="username" value={email} onChange={setEmail}
          error={error?.field === "email" ? error.message : null} required />
        <button type="submit" className="primary" disabled={ask.isPending}>
          E-mail me a link
        </button>
      </form>
      <p className="aside">
        <Link to="/login">Back to log in</Link>
      </p>
    </AuthCard>
  );
}

function ChooseNewPassword({ token }: { token: string }) {
  const [password, setPassword] = useState("");
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const reset = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST("/api/v1/auth/password-reset/confirm", { body: { token, new_password: password } })),
    onSuccess: (tokens) => {
      startSession(tokens);
      queryClient.clear();
      navigate("/inbox", { replace: true });
    },
  });
  const error = errorFor(reset.error, ["new_password"]);
  function submit(event: FormEvent) {
    event.preventDefault();
    reset.mutate();
  }
  return (
    <AuthCard title="Choose a new password">
      <form onSubmit={submit} noValidate>
        <FormError message={error && !error.field ? error.message : null} />
        <Field label="New password" name="new_password" type="password" autoComplete="new-password" value={password}
          onChange={setPassword} error={error?.field === "new_password" ? error.message : null}
          hint="Every other session is logged out." required />
        <button type="submit" className="primary" disabled={reset.isPending}>
          Set password and log in
        </button>
      </form>
    </AuthCard>
  );
}
