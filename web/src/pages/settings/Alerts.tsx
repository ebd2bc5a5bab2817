import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, unwrap, type Schemas } from "../../api/client";
import { errorFor } from "../../components/errors";
import { FormError } from "../../components/Field";

/** The member's own alerts: an e-mail per low-rated review, and the daily digest. */
export function Alerts() {
  const saved = useQuery({ queryKey: ["alerts"], queryFn: async () => unwrap(await api.GET("/api/v1/alerts")) });
  return (
    <section id="alerts" aria-labelledby="alerts-title">
      <h2 id="alerts-title">Alerts and digests</h2>
      <FormError message={errorFor(saved.error, [])?.message} />
      {saved.data && <AlertsForm saved={saved.data} />}
    </section>
  );
}

function AlertsForm({ saved }: { saved: Schemas["AlertsOut"] }) {
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState(saved);
  const save = useMutation({
    mutationFn: async (body: Schemas["AlertsIn"]) => unwrap(await api.PUT("/api/v1/alerts", { body })),
    onSuccess: (out) => queryClient.setQueryData(["alerts"], out),
  });
  const error = errorFor(save.error, ["immediate_max_rating", "daily_digest"]);
  return (
    <form
      className="inline-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate(draft);
      }}
    >
      <FormError message={error && !error.field ? error.message : null} />
      <label>
        <span>E-mail me each new review rated</span>
        <select
          value={draft.immediate_max_rating ?? ""}
          aria-invalid={error?.field === "immediate_max_rating" || undefined}
          onChange={(e) => setDraft({ ...draft, immediate_max_rating: e.target.value ? Number(e.target.value) : null })}
        >
          <option value="">never</option>
          {[1, 2, 3, 4, 5].map((n) => (
            <option key={n} value={n}>
              {n === 5 ? "any rating" : `${n} star${n === 1 ? "" : "s"} or lower`}
            </option>
          ))}
        </select>
        {error?.field === "immediate_max_rating" && (
          <p className="error" role="alert">
            {error.message}
          </p>
        )}
      </label>
      <label className="check">
        <input type="checkbox" checked={draft.daily_digest} onChange={(e) => setDraft({ ...draft, daily_digest: e.target.checked })} />
        A daily digest of what came in
      </label>
      <button type="submit" className="primary" disabled={save.isPending}>
        Save alerts
      </button>
      {save.isSuccess && <p role="status">Alerts saved.</p>}
    </form>
  );
}
