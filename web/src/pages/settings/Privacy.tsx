import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, unwrap, type Schemas } from "../../api/client";
import { errorFor } from "../../components/errors";
import { Field, FormError } from "../../components/Field";
import { when } from "../../components/itemBits";

type Redaction = Schemas["RedactionSettings"];
type Detector = NonNullable<Redaction["disabled_detectors"]>[number];
const DETECTORS: Detector[] = ["secret", "card", "iban", "ssn", "email", "phone"];
type DataClass = Schemas["DataClass"];
const DATA_CLASSES: [DataClass, string][] = [
  ["recipients", "Feedback recipients"],
  ["first_party_feedback", "Feedback answers"],
  ["disconnected_connections", "Disconnected connections"],
  ["sync_runs", "Sync runs"],
  ["delivery_logs", "Delivery logs"],
  ["audit_events", "Audit events"],
];

/** What is masked in texts before they are stored or shown: built-in detectors, own patterns. */
export function Redaction() {
  const saved = useQuery({ queryKey: ["redaction"], queryFn: async () => unwrap(await api.GET("/api/v1/privacy/redaction")) });
  return (
    <section id="redaction" aria-labelledby="redaction-title">
      <h2 id="redaction-title">Redaction</h2>
      <FormError message={errorFor(saved.error, [])?.message} />
      {saved.data && <RedactionForm saved={saved.data} />}
    </section>
  );
}

function RedactionForm({ saved }: { saved: Redaction }) {
  const queryClient = useQueryClient();
  const [disabled, setDisabled] = useState<Detector[]>(saved.disabled_detectors ?? []);
  const [patterns, setPatterns] = useState(saved.patterns ?? []);
  const save = useMutation({
    mutationFn: async () =>
      unwrap(await api.PUT("/api/v1/privacy/redaction", { body: { disabled_detectors: disabled, patterns } })),
    onSuccess: (out) => queryClient.setQueryData(["redaction"], out),
  });
  const error = errorFor(save.error, [
    "disabled_detectors",
    ...patterns.flatMap((_, n) => [`patterns.${n}.name`, `patterns.${n}.pattern`]),
  ]);
  const under = (field: string) => (error?.field === field ? error.message : null);
  const setPattern = (n: number, change: Partial<Schemas["CustomPattern"]>) =>
    setPatterns(patterns.map((p, i) => (i === n ? { ...p, ...change } : p)));
  return (
    <form
      className="settings-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <FormError message={error && !error.field ? error.message : null} />
      <fieldset>
        <legend>Built-in detectors</legend>
        {DETECTORS.map((d) => (
          <label key={d} className="check">
            <input
              type="checkbox"
              checked={!disabled.includes(d)}
              onChange={(e) => setDisabled(e.target.checked ? disabled.filter((x) => x !== d) : [...disabled, d])}
            />
            {d}
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Own patterns (regular expressions)</legend>
        {patterns.map((p, n) => (
          <div key={n} className="pattern-row">
            <Field label={`Name of pattern ${n + 1}`} name={`pattern-name-${n}`} value={p.name}
              onChange={(name) => setPattern(n, { name })} error={under(`patterns.${n}.name`)} />
            <Field label={`Pattern ${n + 1}`} name={`pattern-${n}`} value={p.pattern}
              onChange={(pattern) => setPattern(n, { pattern })} error={under(`patterns.${n}.pattern`)} />
            <button type="button" className="link" onClick={() => setPatterns(patterns.filter((_, i) => i !== n))}>
              Remove pattern {n + 1}
            </button>
          </div>
        ))}
        <button type="button" onClick={() => setPatterns([...patterns, { name: "", pattern: "" }])}>
          Add a pattern
        </button>
      </fieldset>
      <button type="submit" className="primary" disabled={save.isPending}>
        Save redaction
      </button>
      {save.isSuccess && <p role="status">Redaction saved.</p>}
    </form>
  );
}

/** How long each class of data is kept (owner only). */
export function Retention() {
  const saved = useQuery({ queryKey: ["retention"], queryFn: async () => unwrap(await api.GET("/api/v1/privacy/retention")) });
  return (
    <section id="retention" aria-labelledby="retention-title">
      <h2 id="retention-title">Retention</h2>
      <FormError message={errorFor(saved.error, [])?.message} />
      {saved.data && <RetentionForm saved={saved.data} />}
    </section>
  );
}

function RetentionForm({ saved }: { saved: Schemas["RetentionSettings"] }) {
  const queryClient = useQueryClient();
  const [days, setDays] = useState<Record<string, string>>(() =>
    Object.fromEntries(DATA_CLASSES.map(([c]) => [c, saved.days[c] == null ? "" : String(saved.days[c])])),
  );
  const save = useMutation({
    mutationFn: async () => {
      // An unparsable number goes as typed, so the API names the field that is wrong.
      const body = Object.fromEntries(
        DATA_CLASSES.map(([c]) => {
          const value = (days[c] ?? "").trim();
          return [c, value === "" ? null : /^-?\d+$/.test(value) ? Number(value) : value];
        }),
      );
      return unwrap(await api.PUT("/api/v1/privacy/retention", { body: { days: body as Schemas["RetentionSettings"]["days"] } }));
    },
    onSuccess: (out) => queryClient.setQueryData(["retention"], out),
  });
  const error = errorFor(save.error, DATA_CLASSES.map(([c]) => `days.${c}`));
  return (
    <form
      className="settings-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <FormError message={error && !error.field ? error.message : null} />
      {DATA_CLASSES.map(([c, label]) => (
        <Field key={c} label={`${label}: days kept`} name={`days-${c}`} type="number" value={days[c] ?? ""} hint="Empty: kept until erased"
          onChange={(value) => setDays({ ...days, [c]: value })} error={error?.field === `days.${c}` ? error.message : null} />
      ))}
      <button type="submit" className="primary" disabled={save.isPending}>
        Save retention
      </button>
      {save.isSuccess && <p role="status">Retention saved.</p>}
    </form>
  );
}

/** Export or erase what is held about one person, by e-mail or by reviewer id. */
export function SubjectRequests() {
  const queryClient = useQueryClient();
  const [kind, setKind] = useState<"export" | "erasure">("export");
  const [email, setEmail] = useState("");
  const [reviewer, setReviewer] = useState("");
  const list = useQuery({
    queryKey: ["subject-requests"],
    queryFn: async () => unwrap(await api.GET("/api/v1/privacy/requests")),
    // Requests run in the background: poll while one is not finished.
    refetchInterval: (query) => (query.state.data?.requests.some((r) => !r.completed_at) ? 2_000 : false),
  });
  const create = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/v1/privacy/requests", {
          body: { kind, email: email.trim() || null, reviewer_id: reviewer.trim() || null },
        }),
      ),
    onSuccess: () => {
      setEmail("");
      setReviewer("");
      void queryClient.invalidateQueries({ queryKey: ["subject-requests"] });
    },
  });
  const error = errorFor(create.error, ["email", "reviewer_id", "kind"]);
  return (
    <section id="requests" aria-labelledby="requests-title">
      <h2 id="requests-title">Data-subject requests</h2>
      <form
        className="inline-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (kind === "erasure" && !window.confirm("Erase everything held about this person? This cannot be undone.")) return;
          create.mutate();
        }}
      >
        <FormError message={error && !error.field ? error.message : null} />
        <label>
          <span>Request</span>
          <select value={kind} onChange={(e) => setKind(e.target.value as "export" | "erasure")}>
            <option value="export">export</option>
            <option value="erasure">erasure</option>
          </select>
        </label>
        <Field label="Person's e-mail" name="subject-email" type="email" value={email} onChange={setEmail}
          error={error?.field === "email" ? error.message : null} />
        <Field label="Or reviewer id" name="reviewer-id" value={reviewer} onChange={setReviewer}
          error={error?.field === "reviewer_id" ? error.message : null} />
        <button type="submit" className="primary" disabled={create.isPending}>
          Record request
        </button>
      </form>
      <FormError message={errorFor(list.error, [])?.message} />
      <ul className="plain requests">
        {list.data?.requests.map((r) => (
          <li key={r.id}>
            <strong>{r.kind}</strong> #{r.id} · {r.status}
            {r.overdue && <span className="status status-error"> overdue</span>}
            <span className="dim"> · received {when(r.received_at)} · due {when(r.due_at)}</span>
            {r.completed_at && <span className="dim"> · done {when(r.completed_at)}</span>}
            {Object.keys(r.counts).length > 0 && (
              <span className="dim">
                {" "}
                · {Object.entries(r.counts).map(([k, v]) => `${k}: ${String(v)}`).join(", ")}
              </span>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** How many of the organisation's values are encrypted, and on which key (owner only). */
export function Encryption() {
  const status = useQuery({ queryKey: ["encryption"], queryFn: async () => unwrap(await api.GET("/api/v1/privacy/encryption")) });
  return (
    <section id="encryption" aria-labelledby="encryption-title">
      <h2 id="encryption-title">Encryption</h2>
      <FormError message={errorFor(status.error, [])?.message} />
      {status.data && (
        <dl className="facts">
          <dt>Current key</dt>
          <dd>
            <code>{status.data.current_key}</code>
          </dd>
          <dt>Encrypted values</dt>
          <dd>{status.data.values.toLocaleString()}</dd>
          <dt>On older keys</dt>
          <dd>{status.data.values_on_old_keys.toLocaleString()}</dd>
          <dt>Key rotation</dt>
          <dd>{status.data.rotation_done ? "done: every value is on the current key" : "in progress"}</dd>
        </dl>
      )}
    </section>
  );
}
