import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { api, unwrap, type Schemas } from "../api/client";
import { errorFor } from "./errors";
import { FormError } from "./Field";
import { ReplyChecks } from "./ReplyChecks";
import { measure } from "./itemBits";

type Item = Schemas["ItemDetail"];
type Reply = Schemas["ReplyOut"];

/** "Edit" and "Cancel" on one of our replies not yet sent. The API says which applies now
 * (`editable`: never attempted; `cancellable`: not yet sent); the item page polls while a reply
 * moves, so the controls go away as soon as the worker takes it. */
export function QueuedReply({ item, reply }: { item: Item; reply: Reply }) {
  const [editing, setEditing] = useState(false);
  const queryClient = useQueryClient();
  const cancel = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST("/api/v1/replies/{reply_id}/cancel", { params: { path: { reply_id: reply.id } } })),
    onSettled: () => refresh(queryClient, item.id),
  });
  if (!reply.editable && !reply.cancellable) return null;
  const error = errorFor(cancel.error, []);
  if (editing && reply.editable) {
    return <EditQueued item={item} reply={reply} onDone={() => setEditing(false)} />;
  }
  return (
    <>
      <div className="actions">
        {reply.editable && (
          <button type="button" onClick={() => setEditing(true)}>
            Edit
          </button>
        )}
        <button
          type="button"
          onClick={() => cancel.mutate()}
          disabled={cancel.isPending}
        >
          {cancel.isPending ? "Cancelling…" : "Cancel"}
        </button>
      </div>
      <FormError message={error?.message} />
    </>
  );
}

function refresh(queryClient: ReturnType<typeof useQueryClient>, itemId: number): Promise<void> {
  void queryClient.invalidateQueries({ queryKey: ["items"] });
  void queryClient.invalidateQueries({ queryKey: ["replies"] });
  return queryClient.invalidateQueries({ queryKey: ["item", itemId] });
}

function EditQueued({ item, reply, onDone }: { item: Item; reply: Reply; onDone: () => void }) {
  const limit = item.reply_limit;
  const [text, setText] = useState(reply.body);
  const [confirmPersonal, setConfirmPersonal] = useState(false);
  const id = useId();
  const queryClient = useQueryClient();
  const save = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.PATCH("/api/v1/replies/{reply_id}", {
          params: { path: { reply_id: reply.id } },
          body: { text, confirm_personal_data: confirmPersonal },
        }),
      ),
    onSuccess: async () => {
      await refresh(queryClient, item.id);
      onDone();
    },
    // Taken by the worker meanwhile, or sent: the item shows where it is now.
    onError: () => void refresh(queryClient, item.id),
  });
  const used = limit ? measure(text, limit.unit) : 0;
  const over = limit !== null && used > limit.size;
  const error = errorFor(save.error, ["text"]);
  const personal = save.error && "code" in save.error && save.error.code === "personal_data";
  function submit(event: FormEvent) {
    event.preventDefault();
    save.mutate();
  }
  return (
    <form className="edit-reply" onSubmit={submit} noValidate>
      <label htmlFor={id}>Queued reply</label>
      <textarea
        id={id}
        rows={4}
        value={text}
        autoFocus
        onChange={(e) => setText(e.target.value)}
        aria-invalid={over || error?.field === "text" ? true : undefined}
        aria-describedby={`${id}-count${error ? ` ${id}-error` : ""}`}
      />
      <ReplyChecks id={id} used={used} limit={limit} over={over} error={error}
        personal={Boolean(personal)} confirmed={confirmPersonal} onConfirm={setConfirmPersonal} />
      <div className="actions">
        <button type="submit" className="primary" disabled={save.isPending || over || !text.trim() || text === reply.body}>
          {save.isPending ? "Saving…" : "Save the reply"}
        </button>
        <button type="button" onClick={onDone}>
          Keep it as it was
        </button>
      </div>
    </form>
  );
}
