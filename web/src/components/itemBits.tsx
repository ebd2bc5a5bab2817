import type { Schemas } from "../api/client";

const SOURCE_NAMES: Record<string, string> = { google: "Google", facebook: "Facebook", plaudit: "Feedback" };

export function sourceName(source: string): string {
  return SOURCE_NAMES[source] ?? source;
}

export function SourceBadge({ source }: { source: string }) {
  return <span className={`source source-${source}`}>{sourceName(source)}</span>;
}

export function Stars({ rating }: { rating: number | null | undefined }) {
  if (rating == null) return null;
  return (
    <span className="stars" role="img" aria-label={`${rating} of 5 stars`}>
      {"★".repeat(rating)}
      <span className="dim">{"★".repeat(5 - rating)}</span>
    </span>
  );
}

const REPLY_STATES: Record<string, string> = {
  pending: "Queued",
  sending: "Sending",
  sent: "Sent",
  failed: "Failed",
  awaiting_approval: "Awaiting approval",
  rejected: "Rejected",
  cancelled: "Cancelled",
};

export function replyStateLabel(status: string): string {
  return REPLY_STATES[status] ?? status;
}

export function ReplyState({ status }: { status: string }) {
  return <span className={`state state-${status}`}>{replyStateLabel(status)}</span>;
}

export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function authorName(item: Schemas["ItemOut"]): string {
  return item.author.anonymous || !item.author.name ? "Anonymous" : item.author.name;
}

/** A reply's length as the API counts it: UTF-8 bytes or code points (Python's len), not
 * UTF-16 units. */
export function measure(text: string, unit: string): number {
  return unit === "bytes" ? new TextEncoder().encode(text).length : [...text].length;
}
