import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useLocation, useNavigate } from "react-router";
import { api, unwrap } from "../api/client";
import { startSession } from "../api/session";
import { AuthCard, tokenFromHash } from "../components/AuthCard";
import { errorFor } from "../components/errors";
import { Field, FormError } from "../components/Field";

/** The page an invitation e-mail links to. A new person gives a name and a password; someone
 * who already has an account leaves them empty. */
export function AcceptInvitation() {
  const token = tokenFromHash(useLocation().hash);
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const accept = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/v1/invitations/accept", {
          body: { token, name: name || null, password: password || null },
        }),
      ),
    onSuccess: (tokens) => {
      startSession(tokens);
      queryClient.clear();
      navigate("/inbox", { replace: true });
    },
  });
  const error = errorFor(accept.error, ["name", "password"]);
  function submit(event: FormEvent) {
    event.preventDefault();
    accept.mutate();
  }
  return (
    <AuthCard title="Join your team">
      {!token && <FormError message="This link has no token. Open the link from the e-mail again." />}
      <form onSubmit={submit} noValidate>
        <FormError message={error && !error.field ? error.message : null} />
        <Field label="Your name" name="name" autoComplete="name" value={name} onChange={setName}
          error={error?.field === "name" ? error.message : null} hint="Only if you have no plaudit account yet." />
        <Field label="Password" name="password" type="password" autoComplete="new-password" value={password}
          onChange={setPassword} error={error?.field === "password" ? error.message : null} />
        <button type="submit" className="primary" disabled={accept.isPending || !token}>
          Accept the invitation
        </button>
      </form>
    </AuthCard>
  );
}
