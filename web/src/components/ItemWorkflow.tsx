import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, check, unwrap, type Schemas } from "../api/client";
import { errorFor } from "./errors";
import { FormError } from "./Field";
import { when } from "./itemBits";

type Item = Schemas["ItemDetail"];

/** Status, assignee and tags of an item: one PATCH, its errors under the control they name. */
export function Triage({ item }: { item: Item }) {
  const queryClient = useQueryClient();
  const members = useQuery({ queryKey: ["members"], queryFn: async () => unwrap(await api.GET("/api/v1/members")) });
  const [tags, setTags] = useState(item.tags.join(", "));
  const patch = useMutation({
    mutationFn: async (body: Schemas["ItemPatch"]) =>
      unwrap(await api.PATCH("/api/v1/items/{item_id}", { params: { path: { item_id: item.id } }, body })),
    onSuccess: (updated) => {
      queryClient.setQueryData(["item", item.id], updated);
      void queryClient.invalidateQueries({ queryKey: ["items"] });
      void queryClient.invalidateQueries({ queryKey: ["facets"] });
    },
  });
  const error = errorFor(patch.error, ["status", "assignee_user_id", "tags"]);
  const under = (field: string) =>
    error?.field === field || error?.field?.startsWith(field + ".") ? (
      <p className="error" role="alert">
        {error.message}
      </p>
    ) : null;

  function saveTags(event: FormEvent) {
    event.preventDefault();
    const list = tags.split(",").map((t) => t.trim()).filter(Boolean);
    patch.mutate({ tags: list });
  }
  return (
    <section className="triage" aria-label="Triage">
      <FormError message={error && !error.field ? error.message : null} />
      <label>
        <span>Status</span>
        <select value={item.status} onChange={(e) => patch.mutate({ status: e.target.value as Schemas["ItemStatus"] })}>
          <option value="open">Open</option>
          <option value="closed">Closed</option>
          <option value="archived">Archived</option>
        </select>
        {under("status")}
      </label>
      <label>
        <span>Assignee</span>
        <select
          value={item.assignee_user_id ?? ""}
          onChange={(e) => patch.mutate({ assignee_user_id: e.target.value ? Number(e.target.value) : null })}
        >
          <option value="">Nobody</option>
          {members.data?.members.map((m) => (
            <option key={m.user_id} value={m.user_id}>
              {m.name}
            </option>
          ))}
        </select>
        {under("assignee_user_id")}
      </label>
      <form onSubmit={saveTags} className="tags">
        <label>
          <span>Tags (comma-separated)</span>
          <input value={tags} onChange={(e) => setTags(e.target.value)} />
        </label>
        <button type="submit">Save tags</button>
        {under("tags")}
      </form>
    </section>
  );
}

/** Internal notes: never shown to the customer. */
export function Notes({ itemId }: { itemId: number }) {
  const queryClient = useQueryClient();
  const [body, setBody] = useState("");
  const notes = useQuery({
    queryKey: ["notes", itemId],
    queryFn: async () => unwrap(await api.GET("/api/v1/items/{item_id}/notes", { params: { path: { item_id: itemId } } })),
  });
  const add = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST("/api/v1/items/{item_id}/notes", { params: { path: { item_id: itemId } }, body: { body } })),
    onSuccess: () => {
      setBody("");
      void queryClient.invalidateQueries({ queryKey: ["notes", itemId] });
    },
  });
  const remove = useMutation({
    mutationFn: async (noteId: number) =>
      check(
        await api.DELETE("/api/v1/items/{item_id}/notes/{note_id}", {
          params: { path: { item_id: itemId, note_id: noteId } },
        }),
      ),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["notes", itemId] }),
  });
  const error = errorFor(add.error ?? remove.error, ["body"]);
  return (
    <section aria-labelledby="notes-title" className="notes">
      <h2 id="notes-title">Internal notes</h2>
      <ul>
        {notes.data?.notes.map((n) => (
          <li key={n.id}>
            <p className="body">{n.body}</p>
            <span className="dim">{when(n.created_at)}</span>{" "}
            <button type="button" className="link" onClick={() => remove.mutate(n.id)}>
              Delete note
            </button>
          </li>
        ))}
      </ul>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          add.mutate();
        }}
      >
        <label htmlFor="note-body" className="sr-only">
          New note
        </label>
        <textarea id="note-body" rows={2} value={body} onChange={(e) => setBody(e.target.value)} placeholder="A note for the team" />
        {error && (
          <p className="error" role="alert">
            {error.message}
          </p>
        )}
        <button type="submit" disabled={!body.trim() || add.isPending}>
          Add note
        </button>
      </form>
    </section>
  );
}

/** The organisation's templates, filled in for this item by the API. */
export function TemplatePicker({ itemId, onText }: { itemId: number; onText: (text: string) => void }) {
  const templates = useQuery({
    queryKey: ["templates"],
    queryFn: async () => unwrap(await api.GET("/api/v1/reply-templates")),
  });
  const render = useMutation({
    mutationFn: async (templateId: number) =>
      unwrap(
        await api.POST("/api/v1/reply-templates/{template_id}/render", {
          params: { path: { template_id: templateId } },
          body: { item_id: itemId },
        }),
      ),
    onSuccess: (out) => onText(out.text),
  });
  const list = templates.data?.templates ?? [];
  if (list.length === 0) return null;
  const error = errorFor(render.error, []);
  return (
    <label className="template">
      <span>Start from a template</span>
      <select value="" onChange={(e) => e.target.value && render.mutate(Number(e.target.value))}>
        <option value="">Choose…</option>
        {list.map((t) => (
          <option key={t.id} value={t.id}>
            {t.name}
          </option>
        ))}
      </select>
      {error && <span className="error">{error.message}</span>}
    </label>
  );
}
