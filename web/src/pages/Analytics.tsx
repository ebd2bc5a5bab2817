import { useQueries, useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { useSearchParams } from "react-router";
import { api, unwrap, type Schemas } from "../api/client";
import { errorFor } from "../components/errors";
import { FormError } from "../components/Field";
import { TimeChart } from "../components/TimeChart";

type Period = Schemas["Period"];
const PERIODS: [Period, string][] = [["day", "Day"], ["week", "Week"], ["month", "Month"]];

function duration(seconds: number | null | undefined): string {
  if (seconds == null) return "—";
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86400 * 2) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} days`;
}

function average(distribution: Record<string, number>): number | null {
  let sum = 0;
  let count = 0;
  for (const [stars, n] of Object.entries(distribution)) {
    if (!/^\d$/.test(stars)) continue;
    sum += Number(stars) * n;
    count += n;
  }
  return count ? sum / count : null;
}

const percent = (rate: number | null | undefined) => (rate == null ? "—" : `${Math.round(rate * 100)} %`);

export function Analytics() {
  const [params, setParams] = useSearchParams();
  const period = (params.get("period") as Period | null) ?? "month";
  const location = params.get("location");
  const since = params.get("since") ?? "";
  const query = {
    period,
    ...(location ? { location_id: [Number(location)] } : {}),
    ...(since ? { since } : {}),
  };
  const locations = useQuery({ queryKey: ["locations"], queryFn: async () => unwrap(await api.GET("/api/v1/locations")) });
  const figures = useQuery({
    queryKey: ["analytics", query],
    queryFn: async () => unwrap(await api.GET("/api/v1/analytics", { params: { query } })),
  });
  // Every location side by side, over the same period.
  const perLocation = useQueries({
    queries: (locations.data?.locations ?? []).map((l) => ({
      queryKey: ["analytics", { period, location_id: [l.id], since }],
      queryFn: async () =>
        unwrap(await api.GET("/api/v1/analytics", { params: { query: { period, location_id: [l.id], ...(since ? { since } : {}) } } })),
    })),
  });
  const data = figures.data;
  const series = useMemo(() => {
    const rows = data?.series ?? [];
    return {
      periods: rows.map((r) => Date.parse(r.period_start) / 1000),
      counts: rows.map((r) => r.count),
      ratings: rows.map((r) => r.average_rating ?? null),
    };
  }, [data]);

  function set(name: string, value: string) {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  }

  const error = errorFor(figures.error, []);
  const distribution = data?.rating_distribution ?? {};
  const most = Math.max(1, ...Object.values(distribution));
  return (
    <section className="page analytics">
      <h1>Analytics</h1>
      <form className="filters" aria-label="Analytics filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          <span>Location</span>
          <select value={location ?? ""} onChange={(e) => set("location", e.target.value)}>
            <option value="">All locations</option>
            {locations.data?.locations.map((l) => (
              <option key={l.id} value={l.id}>
                {l.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Per</span>
          <select value={period} onChange={(e) => set("period", e.target.value)}>
            {PERIODS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Since</span>
          <input type="date" value={since} onChange={(e) => set("since", e.target.value)} />
        </label>
      </form>
      <FormError message={error?.message} />
      {figures.isPending && <p role="status">Loading…</p>}
      {data && (
        <>
          <dl className="figures">
            <div>
              <dt>Items</dt>
              <dd>{data.total.toLocaleString()}</dd>
            </div>
            <div>
              <dt>Average rating</dt>
              <dd>{average(distribution)?.toFixed(2) ?? "—"}</dd>
            </div>
            <div>
              <dt>Reply rate</dt>
              <dd>{percent(data.reply_rate)}</dd>
            </div>
            <div>
              <dt>Time to reply</dt>
              <dd>
                {duration(data.median_seconds_to_reply)} <span className="dim">median</span>
                <br />
                {duration(data.p90_seconds_to_reply)} <span className="dim">p90</span>
              </dd>
            </div>
          </dl>
          <h2>Volume and rating per {period}</h2>
          <TimeChart label={`Items and average rating per ${period}`} {...series} />
          <details>
            <summary>The numbers</summary>
            <table className="runs">
              <thead>
                <tr>
                  <th scope="col">From</th>
                  <th scope="col">Items</th>
                  <th scope="col">Average rating</th>
                </tr>
              </thead>
              <tbody>
                {data.series.map((r) => (
                  <tr key={r.period_start}>
                    <td>{new Date(r.period_start).toLocaleDateString()}</td>
                    <td>{r.count}</td>
                    <td>{r.average_rating?.toFixed(2) ?? "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
          <h2>Ratings</h2>
          <table className="distribution">
            <tbody>
              {["5", "4", "3", "2", "1"].map((stars) => (
                <tr key={stars}>
                  <th scope="row">{stars} ★</th>
                  <td>
                    <span className="bar" style={{ width: `${((distribution[stars] ?? 0) / most) * 100}%` }} />
                  </td>
                  <td className="num">{distribution[stars] ?? 0}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {(locations.data?.locations.length ?? 0) > 1 && (
        <>
          <h2>By location</h2>
          <div className="scroll">
            <table className="runs">
              <thead>
                <tr>
                  <th scope="col">Location</th>
                  <th scope="col">Items</th>
                  <th scope="col">Average</th>
                  <th scope="col">Reply rate</th>
                  <th scope="col">Median reply</th>
                </tr>
              </thead>
              <tbody>
                {locations.data?.locations.map((l, i) => {
                  const row = perLocation[i]?.data;
                  return (
                    <tr key={l.id}>
                      <th scope="row">{l.name}</th>
                      <td>{row?.total ?? "…"}</td>
                      <td>{row ? (average(row.rating_distribution)?.toFixed(2) ?? "—") : "…"}</td>
                      <td>{row ? percent(row.reply_rate) : "…"}</td>
                      <td>{row ? duration(row.median_seconds_to_reply) : "…"}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
