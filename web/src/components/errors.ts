import { ApiError } from "../api/client";

/** Splits an error into the message for one of the form's fields, or for the whole form. */
export function errorFor(error: unknown, fields: readonly string[]): { field: string | null; message: string } | null {
  if (!error) return null;
  if (error instanceof ApiError) {
    const field = error.field && fields.includes(error.field) ? error.field : null;
    return { field, message: error.message };
  }
  return { field: null, message: "The server could not be reached. Check your connection and try again." };
}
