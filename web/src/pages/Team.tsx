import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, check, unwrap, type Schemas } from "../api/client";
import { errorFor } from "../components/errors";
import { Field, FormError } from "../components/Field";
import { when } from "../components/itemBits";
import { useMe } from "../components/Layout";

type Role = Schemas["Role"];
const ROLES: Role[] = ["owner", "admin", "manager", "responder", "viewer"];

export function Team() {
  const me = useMe();
  const admin = me.data ? ["owner", "admin"].includes(me.data.role) : false;
  return (
    <section className="page team">
      <h1>Team and settings</h1>
      <Organisation canEdit={admin} />
      <Members canEdit={admin} />
      {admin && <Invitations />}
      {admin && <ApiKeys />}
    </section>
  );
}

function Organisation({ canEdit }: { canEdit: boolean }) {
  const queryClient = useQueryClient();
  const org = useQuery({ queryKey: ["organisation"], queryFn: async () => unwrap(await api.GET("/api/v1/organisation")) });
  const patch = useMutation({
    mutationFn: async (body: Schemas["OrganisationPatch"]) => unwrap(await api.PATCH("/api/v1/organisation", { body })),
    onSuccess: (out) => queryClient.setQueryData(["organisation"], out),
  });
  const error = errorFor(patch.error ?? org.error, []);
  if (!org.data) return <FormError message={error?.message} />;
  return (
    <section aria-labelledby="org-title">
      <h2 id="org-title">{org.data.name}</h2>
      <label className="check">
        <input
          type="checkbox"
          checked={org.data.reply_approval_required}
          disabled={!canEdit || patch.isPending}
          onChange={(e) => patch.mutate({ reply_approval_required: e.target.checked })}
        />
        Replies by responders wait for a manager's approval
      </label>
      <FormError message={error?.message} />
    </section>
  );
}

function Members({ canEdit }: { canEdit: boolean }) {
  const queryClient = useQueryClient();
  const members = useQuery({ queryKey: ["members"], queryFn: async () => unwrap(await api.GET("/api/v1/members")) });
  const change = useMutation({
    mutationFn: async ({ id, role }: { id: number; role: Role }) =>
      unwrap(await api.PATCH("/api/v1/members/{member_id}", { params: { path: { member_id: id } }, body: { role } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["members"] }),
  });
  const remove = useMutation({
    mutationFn: async (id: number) =>
      check(await api.DELETE("/api/v1/members/{member_id}", { params: { path: { member_id: id } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["members"] }),
  });
  const error = errorFor(change.error ?? remove.error ?? members.error, []);
  return (
    <section aria-labelledby="members-title">
      <h2 id="members-title">Members</h2>
      <FormError message={error?.message} />
      <div className="scroll">
        <table className="runs">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">E-mail</th>
              <th scope="col">Role</th>
              <th scope="col">Locations</th>
              {canEdit && <th scope="col"><span className="sr-only">Actions</span></th>}
            </tr>
          </thead>
          <tbody>
            {members.data?.members.map((m) => (
              <tr key={m.id}>
                <th scope="row">{m.name}</th>
                <td>{m.email}</td>
                <td>
                  {canEdit ? (
                    <select
                      aria-label={`Role of ${m.name}`}
                      value={m.role}
                      onChange={(e) => change.mutate({ id: m.id, role: e.target.value as Role })}
                    >
                      {ROLES.map((r) => (
                        <option key={r} value={r}>
                          {r}
                        </option>
                      ))}
                    </select>
                  ) : (
                    m.role
                  )}
                </td>
                <td>{m.location_ids ? `${m.location_ids.length} only` : "all"}</td>
                {canEdit && (
                  <td>
                    <button type="button" className="link" onClick={() => window.confirm(`Remove ${m.name}?`) && remove.mutate(m.id)}>
                      Remove
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Invitations() {
  const queryClient = useQueryClient();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("responder");
  const pending = useQuery({ queryKey: ["invitations"], queryFn: async () => unwrap(await api.GET("/api/v1/invitations")) });
  const invite = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/invitations", { body: { email, role } })),
    onSuccess: () => {
      setEmail("");
      void queryClient.invalidateQueries({ queryKey: ["invitations"] });
    },
  });
  const withdraw = useMutation({
    mutationFn: async (id: number) =>
      check(await api.DELETE("/api/v1/invitations/{invitation_id}", { params: { path: { invitation_id: id } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["invitations"] }),
  });
  const error = errorFor(invite.error ?? withdraw.error, ["email", "role"]);
  function submit(event: FormEvent) {
    event.preventDefault();
    invite.mutate();
  }
  return (
    <section aria-labelledby="invitations-title">
      <h2 id="invitations-title">Invitations</h2>
      <form className="inline-form" onSubmit={submit} noValidate>
        <FormError message={error && !error.field ? error.message : null} />
        <Field label="E-mail to invite" name="email" type="email" value={email} onChange={setEmail}
          error={error?.field === "email" ? error.message : null} />
        <label>
          <span>Role</span>
          <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.filter((r) => r !== "owner").map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary" disabled={invite.isPending}>
          Send invitation
        </button>
      </form>
      {invite.isSuccess && <p role="status">Invitation sent.</p>}
      <ul className="plain">
        {pending.data?.invitations.map((i) => (
          <li key={i.id}>
            {i.email} as {i.role} <span className="dim">· until {when(i.expires_at)}</span>{" "}
            <button type="button" className="link" onClick={() => withdraw.mutate(i.id)}>
              Withdraw
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function ApiKeys() {
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<Schemas["Scope"][]>(["read"]);
  const keys = useQuery({ queryKey: ["api-keys"], queryFn: async () => unwrap(await api.GET("/api/v1/api-keys")) });
  const create = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/api-keys", { body: { name, scopes } })),
    onSuccess: () => {
      setName("");
      void queryClient.invalidateQueries({ queryKey: ["api-keys"] });
    },
  });
  const revoke = useMutation({
    mutationFn: async (id: number) =>
      check(await api.DELETE("/api/v1/api-keys/{api_key_id}", { params: { path: { api_key_id: id } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["api-keys"] }),
  });
  const error = errorFor(create.error ?? revoke.error, ["name", "scopes"]);
  function toggle(scope: Schemas["Scope"], on: boolean) {
    setScopes(on ? [...scopes, scope] : scopes.filter((s) => s !== scope));
  }
  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">API keys</h2>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
        noValidate
      >
        <FormError message={error && !error.field ? error.message : null} />
        <Field label="Key name" name="name" value={name} onChange={setName} error={error?.field === "name" ? error.message : null} />
        <fieldset>
          <legend>Scopes</legend>
          {(["read", "reply", "admin"] as const).map((scope) => (
            <label key={scope} className="check">
              <input type="checkbox" checked={scopes.includes(scope)} onChange={(e) => toggle(scope, e.target.checked)} />
              {scope}
            </label>
          ))}
          {error?.field?.startsWith("scopes") && <p className="error">{error.message}</p>}
        </fieldset>
        <button type="submit" className="primary" disabled={create.isPending}>
          Create key
        </button>
      </form>
      {create.data && (
        <div className="notice" role="status">
          <p>The key, shown this once: copy it now.</p>
          <code className="secret">{create.data.key}</code>
        </div>
      )}
      <ul className="plain">
        {keys.data?.api_keys.map((k) => (
          <li key={k.id}>
            <strong>{k.name}</strong> <code>{k.prefix}…</code> <span className="dim">{k.scopes.join(", ")}</span>
            {k.revoked_at ? (
              <span className="dim"> · revoked</span>
            ) : (
              <button type="button" className="link" onClick={() => revoke.mutate(k.id)}>
                Revoke
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
