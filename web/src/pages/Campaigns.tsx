import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { api, unwrap } from "../api/client";
import { errorFor } from "../components/errors";
import { Field, FormError } from "../components/Field";
import { when } from "../components/itemBits";

export function Campaigns() {
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [location, setLocation] = useState("");
  const campaigns = useQuery({ queryKey: ["campaigns"], queryFn: async () => unwrap(await api.GET("/api/v1/campaigns")) });
  const locations = useQuery({ queryKey: ["locations"], queryFn: async () => unwrap(await api.GET("/api/v1/locations")) });
  const create = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST("/api/v1/campaigns", { body: { name, location_id: location ? Number(location) : null } })),
    onSuccess: () => {
      setName("");
      void queryClient.invalidateQueries({ queryKey: ["campaigns"] });
    },
  });
  const error = errorFor(create.error ?? campaigns.error, ["name", "location_id"]);
  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate();
  }
  return (
    <section className="page">
      <h1>Feedback campaigns</h1>
      <form className="inline-form" onSubmit={submit} noValidate>
        <FormError message={error && !error.field ? error.message : null} />
        <Field label="Campaign name" name="name" value={name} onChange={setName} error={error?.field === "name" ? error.message : null} />
        <label>
          <span>Location</span>
          <select value={location} onChange={(e) => setLocation(e.target.value)}>
            <option value="">None</option>
            {locations.data?.locations.map((l) => (
              <option key={l.id} value={l.id}>
                {l.name}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary" disabled={create.isPending}>
          Create campaign
        </button>
      </form>
      <ul className="plain campaigns">
        {campaigns.data?.campaigns.map((c) => (
          <li key={c.id}>
            <Link to={`/campaigns/${c.id}`}>{c.name}</Link> <span className="dim">· {c.total} recipients · {when(c.created_at)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function CampaignPage() {
  const campaignId = Number(useParams().campaignId);
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const campaign = useQuery({
    queryKey: ["campaign", campaignId],
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/campaigns/{campaign_id}", { params: { path: { campaign_id: campaignId } } })),
    refetchInterval: 5000, // sending goes on in the background: counts move
  });
  const recipients = useQuery({
    queryKey: ["recipients", campaignId],
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/campaigns/{campaign_id}/recipients", {
          params: { path: { campaign_id: campaignId }, query: { limit: 100 } },
        }),
      ),
  });
  const upload = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/v1/campaigns/{campaign_id}/recipients", {
          params: { path: { campaign_id: campaignId } },
          body: await file!.text(),
          bodySerializer: (body: unknown) => body as string,
          headers: { "Content-Type": "text/csv" },
        }),
      ),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["campaign", campaignId] });
      void queryClient.invalidateQueries({ queryKey: ["recipients", campaignId] });
    },
  });
  const error = errorFor(upload.error ?? campaign.error, []);
  const data = campaign.data?.campaign;
  return (
    <section className="page">
      <p className="back">
        <Link to="/campaigns">← Campaigns</Link>
      </p>
      <h1>{data?.name ?? "Campaign"}</h1>
      {data && (
        <dl className="figures">
          <div>
            <dt>Recipients</dt>
            <dd>{data.total}</dd>
          </div>
          {Object.entries(data.counts).map(([status, n]) => (
            <div key={status}>
              <dt>{label(status)}</dt>
              <dd>{n as number}</dd>
            </div>
          ))}
        </dl>
      )}
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          upload.mutate();
        }}
      >
        <label>
          <span>Recipients as CSV (name, email, location_id, external_ref)</span>
          <input type="file" accept=".csv,text/csv" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
        </label>
        <button type="submit" className="primary" disabled={!file || upload.isPending}>
          {upload.isPending ? "Uploading…" : "Upload"}
        </button>
      </form>
      <FormError message={error?.message} />
      {upload.data && (
        <div role="status" className="notice">
          {upload.data.accepted} added, {upload.data.merged} already there, {upload.data.suppressed} suppressed,{" "}
          {upload.data.rejected_count} refused.
        </div>
      )}
      {upload.data && upload.data.rejected.length > 0 && (
        <table className="runs rejected">
          <caption>Lines refused</caption>
          <thead>
            <tr>
              <th scope="col">Line</th>
              <th scope="col">Field</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            {upload.data.rejected.map((r) => (
              <tr key={`${r.line}-${r.field}`}>
                <td>{r.line}</td>
                <td>{r.field ?? "—"}</td>
                <td>{r.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Recipients</h2>
      <div className="scroll">
        <table className="runs">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">E-mail</th>
              <th scope="col">Status</th>
              <th scope="col">Answered</th>
            </tr>
          </thead>
          <tbody>
            {recipients.data?.recipients.map((r) => (
              <tr key={r.id}>
                <td>{r.name}</td>
                <td>{r.email}</td>
                <td>{r.status}</td>
                <td>{r.item_id ? <Link to={`/inbox/${r.item_id}`}>{when(r.answered_at)}</Link> : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** A status as a figure's label: "not_sent" as "Not sent", beside "Recipients". */
function label(status: string): string {
  const words = status.replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}
