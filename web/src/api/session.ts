// The log-in session: the access token lives in memory only; the refresh token is kept in
// localStorage so a reload or a new tab stays logged in (each use rotates it).
import type { components } from "./schema";

type Tokens = components["schemas"]["TokenOut"];

const REFRESH_KEY = "plaudit.refresh";

let accessToken: string | null = null;
let refreshing: Promise<boolean> | null = null;
const listeners = new Set<(reason: string) => void>();

export function hasSession(): boolean {
  return accessToken !== null || localStorage.getItem(REFRESH_KEY) !== null;
}

export function startSession(tokens: Tokens): void {
  accessToken = tokens.access_token;
  localStorage.setItem(REFRESH_KEY, tokens.refresh_token);
}

export function clearSession(): void {
  accessToken = null;
  localStorage.removeItem(REFRESH_KEY);
}

export function currentAccessToken(): string | null {
  return accessToken;
}

/** Called when the API refuses both the access token and the refresh token. */
export function onSessionEnded(listener: (reason: string) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function endSession(reason: string): void {
  const had = hasSession();
  clearSession();
  if (had) listeners.forEach((listener) => listener(reason));
}

/** One refresh at a time: concurrent 401s wait for the same rotation. */
export function refreshSession(): Promise<boolean> {
  if (!refreshing) {
    refreshing = rotate().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

async function rotate(): Promise<boolean> {
  const refreshToken = localStorage.getItem(REFRESH_KEY);
  if (!refreshToken) return false;
  const response = await fetch("/api/v1/auth/refresh", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: refreshToken }),
  });
  if (!response.ok) return false;
  startSession((await response.json()) as Tokens);
  return true;
}
