import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap } from "../api/client";
import { errorFor } from "../components/errors";
import { FormError } from "../components/Field";
import { when } from "../components/itemBits";

/** Replies waiting for a manager: approve to send, reject to drop. */
export function Approvals() {
  const queryClient = useQueryClient();
  const waiting = useQuery({
    queryKey: ["replies", "awaiting_approval"],
    queryFn: async () => unwrap(await api.GET("/api/v1/replies", { params: { query: { status: "awaiting_approval" } } })),
  });
  const decide = useMutation({
    mutationFn: async ({ id, approve }: { id: number; approve: boolean }) =>
      unwrap(
        approve
          ? await api.POST("/api/v1/replies/{reply_id}/approve", { params: { path: { reply_id: id } } })
          : await api.POST("/api/v1/replies/{reply_id}/reject", { params: { path: { reply_id: id } } }),
      ),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["replies"] }),
  });
  const error = errorFor(decide.error ?? waiting.error, []);
  const list = waiting.data?.replies ?? [];
  return (
    <section className="page">
      <h1>Approvals</h1>
      <FormError message={error?.message} />
      {waiting.isSuccess && list.length === 0 && <p className="empty">No reply is waiting for approval.</p>}
      <ul className="outbox">
        {list.map((r) => (
          <li key={r.id}>
            <p className="dim">
              <Link to={`/inbox/${r.item_id}`}>The item</Link> · {when(r.created_at)}
            </p>
            <p className="body">{r.body}</p>
            <div className="actions">
              <button type="button" className="primary" onClick={() => decide.mutate({ id: r.id, approve: true })}>
                Approve and send
              </button>
              <button type="button" onClick={() => decide.mutate({ id: r.id, approve: false })}>
                Reject
              </button>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
