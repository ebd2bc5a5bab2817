import { useInfiniteQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, unwrap } from "../../api/client";
import { errorFor } from "../../components/errors";
import { Field, FormError } from "../../components/Field";
import { when } from "../../components/itemBits";

/** Who did what, newest first, in keyset pages; filtered by action. */
export function AuditLog() {
  const [action, setAction] = useState("");
  const events = useInfiniteQuery({
    queryKey: ["audit-events", action],
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam }) =>
      unwrap(await api.GET("/api/v1/audit-events", { params: { query: { action: action || null, cursor: pageParam, limit: 25 } } })),
    getNextPageParam: (last) => last.next_cursor,
  });
  const error = errorFor(events.error, ["action"]);
  return (
    <section id="audit" aria-labelledby="audit-title">
      <h2 id="audit-title">Audit log</h2>
      <Field label="Action" name="action" value={action} onChange={setAction} hint="Like reply.created; empty: every action"
        error={error?.field === "action" ? error.message : null} />
      <FormError message={error && !error.field ? error.message : null} />
      <div className="scroll">
        <table className="runs audit">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Action</th>
              <th scope="col">By</th>
              <th scope="col">Target</th>
            </tr>
          </thead>
          <tbody>
            {events.data?.pages.flatMap((p) => p.events).map((e) => (
              <tr key={e.id}>
                <td>{when(e.created_at)}</td>
                <th scope="row">{e.action}</th>
                <td>{e.actor_user_id === null ? "—" : `user ${e.actor_user_id}`}</td>
                <td>{e.target_type ? `${e.target_type} ${e.target_id ?? ""}` : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {events.hasNextPage && (
        <button type="button" className="more" disabled={events.isFetchingNextPage} onClick={() => void events.fetchNextPage()}>
          Older events
        </button>
      )}
    </section>
  );
}
