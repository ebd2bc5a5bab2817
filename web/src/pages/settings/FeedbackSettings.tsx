import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useDeferredValue, useState } from "react";
import { api, unwrap, type Schemas } from "../../api/client";
import { errorFor } from "../../components/errors";
import { Field, FormError } from "../../components/Field";

type Saved = Schemas["FeedbackSettingsOut"];
const FIELDS = ["logo_url", "brand_colour", "facebook_url", "frequency_cap_days", "hourly_limit", "max_reminders", "reminder_days"] as const;
type Name = (typeof FIELDS)[number];
type Draft = Record<Name, string>;

/** Branding, caps and reminders of the feedback e-mails, with a live preview of the e-mail and
 * of the public page (rendered by the API from the real templates, shown in frames). */
export function FeedbackSettings({ canEdit }: { canEdit: boolean }) {
  const saved = useQuery({ queryKey: ["feedback-settings"], queryFn: async () => unwrap(await api.GET("/api/v1/feedback/settings")) });
  return (
    <section id="feedback" aria-labelledby="feedback-title">
      <h2 id="feedback-title">Feedback and branding</h2>
      <FormError message={errorFor(saved.error, [])?.message} />
      {saved.data && <FeedbackForm saved={saved.data} canEdit={canEdit} />}
    </section>
  );
}

function toDraft(saved: Saved): Draft {
  return Object.fromEntries(FIELDS.map((name) => [name, saved[name] === null ? "" : String(saved[name])])) as Draft;
}

/** What the form says, as the API takes it: an emptied field restores the default (null). */
function toBody(draft: Draft, saved: Saved): Schemas["FeedbackSettingsIn"] {
  const body: Record<string, string | number | null> = {};
  for (const name of FIELDS) {
    const value = draft[name].trim();
    if (value === (saved[name] === null ? "" : String(saved[name]))) continue;
    const numeric = typeof saved[name] === "number";
    body[name] = value === "" ? null : numeric && /^\d+$/.test(value) ? Number(value) : value;
  }
  return body as Schemas["FeedbackSettingsIn"];
}

function FeedbackForm({ saved, canEdit }: { saved: Saved; canEdit: boolean }) {
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState(() => toDraft(saved));
  const save = useMutation({
    mutationFn: async () => unwrap(await api.PATCH("/api/v1/feedback/settings", { body: toBody(draft, saved) })),
    onSuccess: (out) => queryClient.setQueryData(["feedback-settings"], out),
  });
  // The preview follows the branding fields as typed, a moment behind the keystrokes.
  const branding = useDeferredValue({ logo_url: draft.logo_url.trim() || null, brand_colour: draft.brand_colour.trim() || null });
  const preview = useQuery({
    queryKey: ["feedback-preview", branding],
    queryFn: async () => unwrap(await api.POST("/api/v1/feedback/settings/preview", { body: branding as Schemas["FeedbackSettingsIn"] })),
    placeholderData: (previous) => previous,
    retry: false,
  });
  const error = errorFor(save.error, FIELDS);
  const previewError = errorFor(preview.error, FIELDS);
  const messageFor = (name: Name) =>
    error?.field === name ? error.message : previewError?.field === name ? previewError.message : null;
  const field = (name: Name, label: string, hint?: string, type = "text") => (
    <Field key={name} label={label} name={name} type={type} value={draft[name]} hint={hint}
      onChange={(value) => setDraft({ ...draft, [name]: value })} error={messageFor(name)} />
  );
  return (
    <div className="feedback-settings">
      <form
        className="settings-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <FormError message={error && !error.field ? error.message : null} />
        <fieldset disabled={!canEdit}>
          <legend>Branding</legend>
          {field("logo_url", "Logo URL", "An https address of an image; empty: the name in bold")}
          {field("brand_colour", "Brand colour", "Like #336699; empty: the default blue")}
          {field("facebook_url", "Facebook review link", "Where the thank-you page sends happy customers")}
        </fieldset>
        <fieldset disabled={!canEdit}>
          <legend>Sending</legend>
          {field("frequency_cap_days", "Ask a person at most once in (days)", undefined, "number")}
          {field("hourly_limit", "E-mails per hour at most", undefined, "number")}
          {field("max_reminders", "Reminders", undefined, "number")}
          {field("reminder_days", "Days before a reminder", undefined, "number")}
        </fieldset>
        {canEdit && (
          <button type="submit" className="primary" disabled={save.isPending}>
            Save feedback settings
          </button>
        )}
        {save.isSuccess && <p role="status">Feedback settings saved.</p>}
      </form>
      <div className="preview" aria-live="polite">
        <h3>Preview</h3>
        {/* A new frame for each draft: a frame whose src changes mid-load may keep the old page. */}
        {preview.data && (
          <>
            <p>
              <span className="dim">Subject:</span> <strong className="preview-subject">{preview.data.subject}</strong>
            </p>
            <iframe key={preview.data.email_url} title="Preview of the feedback e-mail" src={preview.data.email_url} sandbox="" className="preview-frame" />
            <iframe key={preview.data.page_url} title="Preview of the public feedback page" src={preview.data.page_url} sandbox="" className="preview-frame" />
          </>
        )}
      </div>
    </div>
  );
}
