import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { Link, useLocation, useNavigate } from "react-router";
import { api, unwrap } from "../api/client";
import { startSession } from "../api/session";
import { AuthCard, tokenFromHash } from "../components/AuthCard";
import { errorFor } from "../components/errors";
import { FormError } from "../components/Field";

/** The page the sign-up e-mail links to: confirming creates the organisation and logs in. */
export function ConfirmSignup() {
  const { hash } = useLocation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const token = tokenFromHash(hash);
  const confirm = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/auth/signup/confirm", { body: { token } })),
    onSuccess: (out) => {
      startSession(out);
      queryClient.clear();
      navigate("/connections", { replace: true, state: { welcome: true } });
    },
  });
  // The token works once: StrictMode's second effect run must not spend it again.
  const sent = useRef(false);
  useEffect(() => {
    if (token && !sent.current) {
      sent.current = true;
      confirm.mutate();
    }
  }, [token, confirm]);

  const error = errorFor(confirm.error, []);
  return (
    <AuthCard title="Confirming your account">
      {!token && <FormError message="This link has no token. Open the link from the e-mail again." />}
      {confirm.isPending && <p role="status">One moment…</p>}
      <FormError message={error?.message} />
      {(error || !token) && (
        <p className="aside">
          <Link to="/signup">Sign up again</Link> · <Link to="/login">Log in</Link>
        </p>
      )}
    </AuthCard>
  );
}
