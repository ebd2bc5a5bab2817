import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useSearchParams } from "react-router";
import { api, unwrap, type Schemas } from "../api/client";
import { errorFor } from "../components/errors";
import { FormError } from "../components/Field";
import { when } from "../components/itemBits";

const PROVIDERS = [
  ["google", "Google Business Profile"],
  ["facebook", "Facebook Pages"],
] as const;
const CAPABILITY_STATES: Record<string, string> = {
  available: "active",
  retired: "retired by the provider",
  missing_permission: "permission missing",
  disabled: "off",
};

export function Connections() {
  const [params] = useSearchParams();
  const justConnected = params.get("connection_id");
  const refused = params.get("error") === "access_denied";
  const queryClient = useQueryClient();
  const connections = useQuery({
    queryKey: ["connections"],
    queryFn: async () => unwrap(await api.GET("/api/v1/connections")),
    // While a connection is being set up its state changes by the second; then calm.
    refetchInterval: (query) =>
      query.state.data?.connections.some(
        (c) => c.status === "connecting" || (c.status === "active" && c.last_synced_at === null),
      )
        ? 1500
        : 15000,
  });
  const connect = useMutation({
    mutationFn: async (provider: string) =>
      unwrap(
        await api.POST("/api/v1/connections/{provider}/authorize", {
          params: { path: { provider } },
          body: { redirect_after: `${window.location.origin}/connections` },
        }),
      ),
    // The OAuth round trip: the provider's consent page, then its callback sends the browser
    // back here with ?connection_id=N.
    onSuccess: (out) => window.location.assign(out.authorization_url),
  });
  const error = errorFor(connect.error ?? connections.error, []);
  const list = connections.data?.connections ?? [];

  return (
    <section className="page">
      <h1>Connections</h1>
      {justConnected && (
        <p className="notice" role="status">
          Connected. The first sync is running; reviews appear in the inbox as they arrive.
        </p>
      )}
      {refused && (
        <p className="error banner" role="alert">
          Access was not granted at the provider, so nothing was connected. Try again and choose Allow.
        </p>
      )}
      <FormError message={error?.message} />
      <div className="connect">
        {PROVIDERS.map(([provider, label]) => (
          <button
            key={provider}
            type="button"
            className="primary"
            disabled={connect.isPending}
            onClick={() => connect.mutate(provider)}
          >
            Connect {label}
          </button>
        ))}
      </div>
      {connections.isPending && <p role="status">Loading…</p>}
      {connections.isSuccess && list.length === 0 && <p className="empty">No connections yet.</p>}
      <ul className="connections" aria-live="polite">
        {list.map((c) => (
          <ConnectionCard
            key={c.id}
            connection={c}
            onReconnect={() => connect.mutate(c.provider)}
            onChanged={() => void queryClient.invalidateQueries({ queryKey: ["connections"] })}
          />
        ))}
      </ul>
    </section>
  );
}

function ConnectionCard(props: {
  connection: Schemas["ConnectionOut"];
  onReconnect: () => void;
  onChanged: () => void;
}) {
  const c = props.connection;
  const [showRuns, setShowRuns] = useState(false);
  const sync = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST("/api/v1/connections/{connection_id}/sync", { params: { path: { connection_id: c.id } } })),
    onSuccess: props.onChanged,
  });
  const runs = useQuery({
    queryKey: ["sync-runs", c.id],
    enabled: showRuns,
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/connections/{connection_id}/sync-runs", {
          params: { path: { connection_id: c.id }, query: { limit: 5 } },
        }),
      ),
  });
  const capabilities = Object.entries(c.capabilities as Record<string, { state?: string; message?: string | null }>);
  const error = errorFor(sync.error, []);
  const title = c.provider === "google" ? "Google" : c.provider === "facebook" ? "Facebook" : c.provider;
  return (
    <li className="connection" data-connection-id={c.id}>
      <h2>
        {title} {c.account_label && <span className="dim">· {c.account_label}</span>}
      </h2>
      <p>
        <span className={`status status-${c.status}`}>{c.needs_reauth ? "needs reconnecting" : c.status}</span>{" "}
        {c.status_message && <span className="dim">{c.status_message}</span>}
      </p>
      {c.warnings.length > 0 && (
        <ul className="notice warnings" aria-label="Warnings">
          {c.warnings.map((w) => (
            <li key={w.code} data-code={w.code}>
              {w.message}
            </li>
          ))}
        </ul>
      )}
      <dl className="facts">
        <dt>Locations</dt>
        <dd>{c.location_count}</dd>
        <dt>Last sync</dt>
        <dd>{when(c.last_synced_at)}</dd>
        <dt>Next sync</dt>
        <dd>{when(c.next_sync_at)}</dd>
      </dl>
      {capabilities.length > 0 && (
        <ul className="capabilities" aria-label="Capabilities">
          {capabilities.map(([name, cap]) => (
            <li key={name}>
              <strong>{name.replaceAll("_", " ")}</strong>: {CAPABILITY_STATES[cap.state ?? ""] ?? cap.state}
              {cap.message && <span className="dim"> — {cap.message}</span>}
            </li>
          ))}
        </ul>
      )}
      <FormError message={error?.message} />
      <div className="actions">
        {c.needs_reauth ? (
          <button type="button" className="primary" onClick={props.onReconnect}>
            Reconnect
          </button>
        ) : (
          <button type="button" onClick={() => sync.mutate()} disabled={sync.isPending || c.status !== "active"}>
            {sync.isPending ? "Asking…" : sync.isSuccess ? "Sync requested" : "Sync now"}
          </button>
        )}
        <button type="button" className="link" aria-expanded={showRuns} onClick={() => setShowRuns(!showRuns)}>
          {showRuns ? "Hide" : "Show"} recent syncs
        </button>
      </div>
      {showRuns && runs.data && (
        <table className="runs">
          <caption className="sr-only">Recent syncs of this connection</caption>
          <thead>
            <tr>
              <th scope="col">Started</th>
              <th scope="col">What</th>
              <th scope="col">State</th>
              <th scope="col">Fetched</th>
            </tr>
          </thead>
          <tbody>
            {runs.data.sync_runs.map((run) => (
              <tr key={run.id}>
                <td>{when(run.started_at)}</td>
                <td>{run.capability}</td>
                <td>{run.status}{run.error_class ? ` (${run.error_class})` : ""}</td>
                <td>{run.fetched}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </li>
  );
}
