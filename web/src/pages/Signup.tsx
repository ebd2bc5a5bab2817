import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { api, unwrap } from "../api/client";
import { AuthCard } from "../components/AuthCard";
import { errorFor } from "../components/errors";
import { Field, FormError } from "../components/Field";

const FIELDS = ["email", "password", "name", "organisation_name"] as const;

export function Signup() {
  const [values, setValues] = useState({ email: "", password: "", name: "", organisation_name: "" });
  const signup = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/auth/signup", { body: values })),
  });
  const error = errorFor(signup.error, FIELDS);
  const set = (key: keyof typeof values) => (value: string) => setValues({ ...values, [key]: value });
  const fieldError = (key: string) => (error?.field === key ? error.message : null);

  function submit(event: FormEvent) {
    event.preventDefault();
    signup.mutate();
  }

  if (signup.isSuccess) {
    return (
      <AuthCard title="Check your e-mail">
        <p role="status">
          We sent a link to <strong>{values.email}</strong>. Open it to create your organisation; it works for a day.
        </p>
        <p className="aside">
          <Link to="/login">Back to log in</Link>
        </p>
      </AuthCard>
    );
  }
  return (
    <AuthCard title="Create an account">
      <form onSubmit={submit} noValidate>
        <FormError message={error && !error.field ? error.message : null} />
        <Field label="Your name" name="name" autoComplete="name" value={values.name} onChange={set("name")}
          error={fieldError("name")} required />
        <Field label="Business name" name="organisation_name" autoComplete="organization"
          value={values.organisation_name} onChange={set("organisation_name")} error={fieldError("organisation_name")} required />
        <Field label="E-mail" name="email" type="email" autoComplete="email" value={values.email} onChange={set("email")}
          error={fieldError("email")} required />
        <Field label="Password" name="password" type="password" autoComplete="new-password" value={values.password}
          onChange={set("password")} error={fieldError("password")} hint="At least 10 characters, hard to guess." required />
        <button type="submit" className="primary" disabled={signup.isPending}>
          {signup.isPending ? "Sending…" : "Create account"}
        </button>
      </form>
      <p className="aside">
        Already have one? <Link to="/login">Log in</Link>
      </p>
    </AuthCard>
  );
}
