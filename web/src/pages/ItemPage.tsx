import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router";
import { api, idempotencyKey, unwrap, type Schemas } from "../api/client";
import { errorFor } from "../components/errors";
import { FormError } from "../components/Field";
import { ReplyChecks } from "../components/ReplyChecks";
import { authorName, measure, ReplyState, SourceBadge, Stars, when } from "../components/itemBits";
import { Notes, TemplatePicker, Triage } from "../components/ItemWorkflow";
import { PostedReply } from "../components/PostedReply";
import { QueuedReply } from "../components/QueuedReply";

// Replies still on their way: the item is read again until each one settles.
const MOVING = new Set(["pending", "sending"]);

export function ItemPage() {
  const itemId = Number(useParams().itemId);
  const item = useQuery({
    queryKey: ["item", itemId],
    queryFn: async () => unwrap(await api.GET("/api/v1/items/{item_id}", { params: { path: { item_id: itemId } } })),
    refetchInterval: (query) => (query.state.data?.replies.some((r) => MOVING.has(r.status)) ? 1000 : false),
  });
  const thread = useQuery({
    queryKey: ["thread", itemId],
    enabled: item.data?.source === "plaudit",
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/items/{item_id}/thread", { params: { path: { item_id: itemId } } })),
  });
  const error = errorFor(item.error, []);
  if (item.isPending) {
    return (
      <section className="page">
        <p role="status">Loading…</p>
      </section>
    );
  }
  if (!item.data) {
    return (
      <section className="page">
        <h1>Item</h1>
        <FormError message={error?.message} />
        <Link to="/inbox">Back to the inbox</Link>
      </section>
    );
  }
  const data = item.data;
  return (
    <section className="page item">
      <p className="back">
        <BackToInbox />
      </p>
      <article className="review" aria-labelledby="item-title">
        <h1 id="item-title">
          <SourceBadge source={data.source} /> <Stars rating={data.rating} /> {authorName(data)}
        </h1>
        <p className="meta">
          {data.kind} · <time dateTime={data.posted_at}>{when(data.posted_at)}</time>
          {data.deleted && " · deleted at the provider"} · {data.status}
        </p>
        <p className="body">{data.text || <em>No text</em>}</p>
        {data.original_text && (
          <details>
            <summary>Original{data.language ? ` (${data.language})` : ""}</summary>
            <p className="body">{data.original_text}</p>
          </details>
        )}
        <PostedReply item={data} />
      </article>
      <Triage key={data.id} item={data} />
      {thread.data && thread.data.messages.length > 0 && (
        <section aria-labelledby="thread-title">
          <h2 id="thread-title">Conversation</h2>
          <ol className="thread">
            {thread.data.messages.map((m, i) => (
              <li key={i} className={m.direction}>
                <p className="body">{m.body}</p>
              </li>
            ))}
          </ol>
        </section>
      )}
      {data.replies.length > 0 && (
        <section aria-labelledby="outbox-title">
          <h2 id="outbox-title">Our replies</h2>
          <ol className="outbox" aria-live="polite">
            {data.replies.map((r) => (
              <li key={r.id} data-reply-id={r.id}>
                <ReplyState status={r.status} /> <span className="dim">{r.action} · {when(r.created_at)}</span>
                <p className="body">{r.body}</p>
                {r.last_error && (r.status === "failed" || r.status === "rejected") && (
                  <p className="error">{r.last_error}</p>
                )}
                <QueuedReply item={data} reply={r} />
              </li>
            ))}
          </ol>
        </section>
      )}
      {data.reply_limit && !data.deleted && <Composer item={data} />}
      <Notes itemId={data.id} />
    </section>
  );
}

/** Back to the inbox as it was left (filters, scroll), or to the inbox itself on a fresh tab. */
function BackToInbox() {
  const navigate = useNavigate();
  return (
    <Link
      to="/inbox"
      onClick={(event) => {
        if ((window.history.state as { idx?: number } | null)?.idx) {
          event.preventDefault();
          navigate(-1);
        }
      }}
    >
      ← Inbox
    </Link>
  );
}

function Composer({ item }: { item: Schemas["ItemDetail"] }) {
  const limit = item.reply_limit!;
  // Facebook shows every answer the page wrote: the person says whether to add one or edit the
  // one shown (nothing is edited silently). Google keeps one reply, created or replaced.
  const several = !item.single_reply;
  const canEdit = item.reply_modes.includes("edit");
  const [picked, setPicked] = useState<Schemas["ReplyMode"] | null>(null);
  const mode = several ? (canEdit ? picked : "add") : null;
  const editing = several ? mode === "edit" : item.reply !== null;
  const [text, setText] = useState("");
  const [confirmPersonal, setConfirmPersonal] = useState(false);
  const [key, setKey] = useState(idempotencyKey);
  const box = useRef<HTMLTextAreaElement>(null);
  const { hash } = useLocation();
  const id = useId();
  const queryClient = useQueryClient();
  useEffect(() => {
    if (hash === "#reply") box.current?.focus();
  }, [hash]);

  const send = useMutation({
    mutationFn: async () => {
      const options = {
        params: { path: { item_id: item.id }, header: { "Idempotency-Key": key } },
        body: { text, confirm_personal_data: confirmPersonal, ...(mode ? { mode } : {}) },
      };
      return unwrap(
        editing && !several
          ? await api.PUT("/api/v1/items/{item_id}/reply", options)
          : await api.POST("/api/v1/items/{item_id}/reply", options),
      );
    },
    onSuccess: () => {
      setText("");
      setConfirmPersonal(false);
      setKey(idempotencyKey());
      void queryClient.invalidateQueries({ queryKey: ["item", item.id] });
      void queryClient.invalidateQueries({ queryKey: ["items"] });
    },
  });
  const used = measure(text, limit.unit);
  const over = used > limit.size;
  const error = errorFor(send.error, ["text", "mode"]);
  const personal = send.error && "code" in send.error && send.error.code === "personal_data";

  function submit(event: FormEvent) {
    event.preventDefault();
    send.mutate();
  }
  return (
    <form className="composer" onSubmit={submit} noValidate>
      <h2>
        <label htmlFor={id}>{several ? { edit: "Edit the answer", add: "Add an answer", none: "Answer" }[mode ?? "none"] : editing ? "Edit the reply" : "Reply"}</label>
      </h2>
      {several && canEdit && item.reply && (
        <fieldset className="reply-mode">
          <legend>The page already answered on Facebook</legend>
          <blockquote className="body">{item.reply.text}</blockquote>
          {(["edit", "add"] as const).map((m) => (
            <label key={m} className="check">
              <input
                type="radio"
                name="mode"
                value={m}
                checked={picked === m}
                onChange={() => {
                  setPicked(m);
                  if (m === "edit" && !text) setText(item.reply!.text);
                  setKey(idempotencyKey());
                }}
              />
              {m === "edit" ? "Edit the answer" : "Add an answer"}
            </label>
          ))}
        </fieldset>
      )}
      <TemplatePicker itemId={item.id} onText={(t) => { setText(t); setKey(idempotencyKey()); box.current?.focus(); }} />
      <textarea
        id={id}
        ref={box}
        name="text"
        rows={5}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          // A changed text is a new reply: a new key, so a retry never sends the old one.
          setKey(idempotencyKey());
        }}
        aria-invalid={over || error?.field === "text" ? true : undefined}
        aria-describedby={`${id}-count${error ? ` ${id}-error` : ""}`}
      />
      <ReplyChecks id={id} used={used} limit={limit} over={over} note={over && " — too long for " + item.source} error={error}
        personal={Boolean(personal)} confirmed={confirmPersonal} onConfirm={setConfirmPersonal} />
      <button type="submit" className="primary" disabled={send.isPending || over || !text.trim() || (several && !mode)}>
        {send.isPending ? "Sending…" : editing ? (several ? "Update the answer" : "Update reply") : "Send reply"}
      </button>
    </form>
  );
}
