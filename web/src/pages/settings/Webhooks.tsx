import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, check, unwrap, type Schemas } from "../../api/client";
import { errorFor } from "../../components/errors";
import { Field, FormError } from "../../components/Field";
import { when } from "../../components/itemBits";

const EVENTS: Schemas["WebhookEvent"][] = ["item.created", "item.updated", "reply.sent", "reply.failed", "connection.needs_reauth"];

/** Outbound webhooks: endpoints (the signing secret shown once), and each one's deliveries. */
export function Webhooks() {
  const queryClient = useQueryClient();
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<Schemas["WebhookEvent"][]>(["item.created"]);
  const [open, setOpen] = useState<number | null>(null);
  const list = useQuery({ queryKey: ["webhooks"], queryFn: async () => unwrap(await api.GET("/api/v1/webhook-endpoints")) });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ["webhooks"] });
  const create = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/webhook-endpoints", { body: { url, events } })),
    onSuccess: () => {
      setUrl("");
      refresh();
    },
  });
  const patch = useMutation({
    mutationFn: async ({ id, active }: { id: number; active: boolean }) =>
      unwrap(await api.PATCH("/api/v1/webhook-endpoints/{webhook_id}", { params: { path: { webhook_id: id } }, body: { active } })),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: async (id: number) =>
      check(await api.DELETE("/api/v1/webhook-endpoints/{webhook_id}", { params: { path: { webhook_id: id } } })),
    onSuccess: refresh,
  });
  const error = errorFor(create.error, ["url", "events"]);
  const rowError = errorFor(patch.error ?? remove.error ?? list.error, []);
  return (
    <section id="webhooks" aria-labelledby="webhooks-title">
      <h2 id="webhooks-title">Outbound webhooks</h2>
      <form
        className="inline-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <FormError message={error && !error.field ? error.message : null} />
        <Field label="Endpoint URL" name="url" value={url} onChange={setUrl} error={error?.field === "url" ? error.message : null} />
        <fieldset>
          <legend>Events</legend>
          {EVENTS.map((event) => (
            <label key={event} className="check">
              <input
                type="checkbox"
                checked={events.includes(event)}
                onChange={(e) => setEvents(e.target.checked ? [...events, event] : events.filter((x) => x !== event))}
              />
              {event}
            </label>
          ))}
          {error?.field?.startsWith("events") && (
            <p className="error" role="alert">
              {error.message}
            </p>
          )}
        </fieldset>
        <button type="submit" className="primary" disabled={create.isPending}>
          Add endpoint
        </button>
      </form>
      {create.data && (
        <div className="notice" role="status">
          <p>The signing secret, shown this once: copy it now.</p>
          <code className="secret">{create.data.secret}</code>
        </div>
      )}
      <FormError message={rowError?.message} />
      <ul className="plain endpoints">
        {list.data?.webhooks.map((w) => (
          <li key={w.id}>
            <code className="wrap">{w.url}</code> <span className="dim">{w.events.join(", ")}</span>{" "}
            <span className={w.active ? "status status-active" : "status status-error"}>{w.active ? "active" : "disabled"}</span>
            {w.consecutive_failures > 0 && <span className="dim"> · {w.consecutive_failures} failures in a row</span>}{" "}
            <button type="button" className="link" aria-expanded={open === w.id} onClick={() => setOpen(open === w.id ? null : w.id)}>
              Deliveries
            </button>
            <button type="button" className="link" onClick={() => patch.mutate({ id: w.id, active: !w.active })}>
              {w.active ? "Disable" : "Enable"}
            </button>
            <button type="button" className="link" onClick={() => window.confirm(`Delete ${w.url}?`) && remove.mutate(w.id)}>
              Delete
            </button>
            {open === w.id && <Deliveries webhookId={w.id} />}
          </li>
        ))}
      </ul>
      {list.data?.webhooks.length === 0 && <p className="dim">No endpoint yet.</p>}
    </section>
  );
}

function Deliveries({ webhookId }: { webhookId: number }) {
  const deliveries = useQuery({
    queryKey: ["webhook-deliveries", webhookId],
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/webhook-endpoints/{webhook_id}/deliveries", { params: { path: { webhook_id: webhookId } } })),
    refetchInterval: 5_000,
  });
  if (deliveries.error) return <FormError message={errorFor(deliveries.error, [])?.message} />;
  if (!deliveries.data) return <p role="status">Loading…</p>;
  if (deliveries.data.deliveries.length === 0) return <p className="dim">Nothing delivered yet.</p>;
  return (
    <div className="scroll">
      <table className="runs deliveries">
        <thead>
          <tr>
            <th scope="col">Event</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Answer</th>
            <th scope="col">When</th>
          </tr>
        </thead>
        <tbody>
          {deliveries.data.deliveries.map((d) => (
            <tr key={d.id}>
              <th scope="row">{d.event}</th>
              <td>{d.status}</td>
              <td>{d.attempts}</td>
              <td>{d.last_status_code ?? d.last_error ?? "—"}</td>
              <td>{when(d.delivered_at ?? d.created_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
