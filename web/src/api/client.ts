// The typed client of /api/v1, generated from the API's /openapi.json (src/api/schema.d.ts).
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";
import { currentAccessToken, endSession, hasSession, refreshSession } from "./session";

export type Schemas = components["schemas"];
export type ErrorDetail = Schemas["ErrorDetail"];

export const SESSION_ENDED = "Your session has ended (it expired, or you were logged out). Log in again.";

/** An error answer of the API, with the field it names (if any). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | null;

  constructor(status: number, detail: ErrorDetail) {
    super(detail.message);
    this.status = status;
    this.code = detail.code;
    this.field = detail.field ?? null;
  }
}

// Asked without a session: a 401 here means a wrong password or token, not an expired session.
const PUBLIC = /^\/api\/v1\/(auth\/(login|signup|signup\/confirm|refresh|password-reset|password-reset\/confirm)|invitations\/accept)$/;

async function authorizedFetch(request: Request): Promise<Response> {
  if (PUBLIC.test(new URL(request.url).pathname)) return fetch(request);
  // Kept before sending: a request's body can be read once, and a retry needs it again.
  const retry = request.clone();
  if (currentAccessToken() === null && hasSession()) await refreshSession();
  const response = await fetch(withToken(request));
  if (response.status !== 401 || !hasSession()) return response;
  if (await refreshSession()) return fetch(withToken(retry));
  endSession(SESSION_ENDED);
  return response;
}

function withToken(request: Request): Request {
  const token = currentAccessToken();
  if (token) request.headers.set("Authorization", `Bearer ${token}`);
  return request;
}

export const api = createClient<paths>({ fetch: authorizedFetch });

/** The data of an openapi-fetch answer, or an ApiError to throw (as TanStack Query expects). */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || result.data === undefined) {
    throw toApiError(result.response, result.error);
  }
  return result.data;
}

/** For answers without a body (204). */
export function check(result: { error?: unknown; response: Response }): void {
  if (!result.response.ok) throw toApiError(result.response, result.error);
}

function toApiError(response: Response, body: unknown): ApiError {
  const detail = (body as { error?: ErrorDetail } | undefined)?.error;
  return new ApiError(
    response.status,
    detail ?? { code: "http_" + response.status, message: `The server answered ${response.status}`, field: null },
  );
}

/** A fresh Idempotency-Key (crypto.randomUUID needs a secure context; this does not). */
export function idempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
