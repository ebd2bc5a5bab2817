import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { api, idempotencyKey, unwrap, type Schemas } from "../api/client";
import { errorFor } from "./errors";
import { FormError } from "./Field";
import { ReplyChecks } from "./ReplyChecks";
import { measure, ReplyState, sourceName, when } from "./itemBits";

type Item = Schemas["ItemDetail"];

// Changes still on their way: the controls wait for them (the item page polls meanwhile).
const MOVING = new Set(["pending", "sending", "awaiting_approval"]);
const CHANGES: Record<string, string> = { update: "Edit", delete: "Deletion" };

/** The reply shown at the provider, with its own "Edit reply" and "Delete reply" controls and
 * the outbox state of the latest change to it, as it moves. A reply still queued is edited or
 * cancelled in the item's list of our replies (QueuedReply). */
export function PostedReply({ item }: { item: Item }) {
  const [mode, setMode] = useState<"view" | "edit" | "delete">("view");
  // Newest first: the latest change to the posted reply, if the latest row is one.
  const latest = item.replies[0];
  const change = latest && latest.action in CHANGES ? latest : null;
  const moving = change !== null && MOVING.has(change.status);
  const provider = item.source === "plaudit" ? "the reviewer" : sourceName(item.source);
  const changeable = item.source !== "plaudit" && !item.deleted && item.reply_limit !== null;
  if (!item.reply && !change) return null;
  return (
    <div className="provider-reply">
      <h2>Reply shown at {provider}</h2>
      {item.reply ? <p className="body">{item.reply.text}</p> : <p className="dim">No reply is shown now.</p>}
      <p className="reply-change" aria-live="polite">
        {change && (
          <>
            {CHANGES[change.action]}: <ReplyState status={change.status} />{" "}
            <span className="dim">{when(change.updated_at)}</span>
            {change.last_error && (change.status === "failed" || change.status === "rejected") && (
              <span className="error"> {change.last_error}</span>
            )}
          </>
        )}
      </p>
      {changeable && item.reply && mode === "view" && (
        <div className="actions">
          <button type="button" onClick={() => setMode("edit")} disabled={moving}>
            Edit reply
          </button>
          <button type="button" onClick={() => setMode("delete")} disabled={moving}>
            Delete reply
          </button>
        </div>
      )}
      {changeable && item.reply && mode === "edit" && (
        <EditReply item={item} text={item.reply.text} onDone={() => setMode("view")} />
      )}
      {changeable && item.reply && mode === "delete" && (
        <ConfirmDelete item={item} provider={provider} onDone={() => setMode("view")} />
      )}
    </div>
  );
}

function EditReply({ item, text: posted, onDone }: { item: Item; text: string; onDone: () => void }) {
  const limit = item.reply_limit!;
  const [text, setText] = useState(posted);
  const [confirmPersonal, setConfirmPersonal] = useState(false);
  const [key, setKey] = useState(idempotencyKey);
  const id = useId();
  const queryClient = useQueryClient();
  const save = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.PUT("/api/v1/items/{item_id}/reply", {
          params: { path: { item_id: item.id }, header: { "Idempotency-Key": key } },
          body: { text, confirm_personal_data: confirmPersonal },
        }),
      ),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["item", item.id] });
      void queryClient.invalidateQueries({ queryKey: ["items"] });
      onDone();
    },
  });
  const used = measure(text, limit.unit);
  const over = used > limit.size;
  const error = errorFor(save.error, ["text"]);
  const personal = save.error && "code" in save.error && save.error.code === "personal_data";
  function submit(event: FormEvent) {
    event.preventDefault();
    save.mutate();
  }
  return (
    <form className="edit-reply" onSubmit={submit} noValidate>
      <label htmlFor={id}>Edited reply</label>
      <textarea
        id={id}
        rows={4}
        value={text}
        autoFocus
        onChange={(e) => {
          setText(e.target.value);
          // A changed text is a new edit: a new key, so a retry never sends the old one.
          setKey(idempotencyKey());
        }}
        aria-invalid={over || error?.field === "text" ? true : undefined}
        aria-describedby={`${id}-count${error ? ` ${id}-error` : ""}`}
      />
      <ReplyChecks id={id} used={used} limit={limit} over={over} error={error}
        personal={Boolean(personal)} confirmed={confirmPersonal} onConfirm={setConfirmPersonal} />
      <div className="actions">
        <button type="submit" className="primary" disabled={save.isPending || over || !text.trim() || text === posted}>
          {save.isPending ? "Saving…" : "Save the edit"}
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function ConfirmDelete({ item, provider, onDone }: { item: Item; provider: string; onDone: () => void }) {
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.DELETE("/api/v1/items/{item_id}/reply", {
          params: { path: { item_id: item.id }, header: { "Idempotency-Key": idempotencyKey() } },
        }),
      ),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["item", item.id] });
      void queryClient.invalidateQueries({ queryKey: ["items"] });
      onDone();
    },
  });
  const error = errorFor(remove.error, []);
  return (
    <div role="group" aria-label="Delete the reply" className="confirm">
      <p>Delete this reply at {provider}? The reviewer will no longer see it.</p>
      <div className="actions">
        <button type="button" className="danger" onClick={() => remove.mutate()} disabled={remove.isPending}>
          {remove.isPending ? "Deleting…" : `Delete at ${provider}`}
        </button>
        <button type="button" onClick={onDone} autoFocus>
          Keep it
        </button>
      </div>
      <FormError message={error?.message} />
    </div>
  );
}
