import type { ReactNode } from "react";

/** What every reply box shows under its text: the provider's limit counted as one types, the
 * API's error for the text, and, when the API found contact details, the owner's confirmation
 * that they are the business's own. */
export function ReplyChecks({ id, used, limit, over, note, error, personal, confirmed, onConfirm }: {
  id: string;
  used: number;
  limit: { size: number; unit: string } | null;
  over: boolean;
  note?: ReactNode;
  error: { message: string } | null;
  personal: boolean;
  confirmed: boolean;
  onConfirm: (confirmed: boolean) => void;
}) {
  return (
    <>
      <p id={`${id}-count`} className={over ? "count over" : "count"} aria-live="polite">
        {limit && `${used.toLocaleString()} / ${limit.size.toLocaleString()} ${limit.unit}`}
        {note}
      </p>
      {error && (
        <p id={`${id}-error`} className="error" role="alert">
          {error.message}
        </p>
      )}
      {personal && (
        <label className="check">
          <input type="checkbox" checked={confirmed} onChange={(e) => onConfirm(e.target.checked)} />
          These are our own contact details: publish them
        </label>
      )}
    </>
  );
}
