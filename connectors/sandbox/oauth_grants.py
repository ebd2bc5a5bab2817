"""Google OAuth clients, authorization codes and tokens, with Google's error answers.

Codes are single-use, live ten minutes and are bound to the client, redirect URI, scopes and
PKCE challenge. Access tokens die when they expire, when the admin API expires them, or when
their refresh token is revoked.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from typing import Any

from connectors.sandbox.models import AccessToken, AuthCode, OAuthClient, RefreshToken

CODE_LIFETIME_S = 600
ACCESS_TOKEN_LIFETIME_S = 3599
BUSINESS_SCOPES = frozenset(
    {
        "https://www.googleapis.com/auth/business.manage",
        "https://www.googleapis.com/auth/plus.business.manage",
    }
)


class GrantError(Exception):
    """An OAuth error answer: HTTP status, `error` and `error_description`."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class GrantStore:
    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self.clients: dict[str, OAuthClient] = {}
        self.codes: dict[str, AuthCode] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        # Google is reported to send a refresh token only on first consent or with
        # prompt=consent (PROVIDERS.md §D ⚠️); off by default so every offline grant gets one.
        self.refresh_token_on_first_consent_only = False
        self._consented: set[str] = set()

    def add_client(
        self, client_id: str, client_secret: str, redirect_uris: list[str] | None = None
    ) -> OAuthClient:
        with self._lock:
            client = OAuthClient(client_id, client_secret, redirect_uris)
            self.clients[client_id] = client
            return client

    def client(self, client_id: str | None) -> OAuthClient | None:
        with self._lock:
            return self.clients.get(client_id or "")

    def issue_code(
        self,
        *,
        client_id: str,
        redirect_uri: str,
        scopes: list[str],
        code_challenge: str | None,
        code_challenge_method: str | None,
        offline: bool,
        prompt: str,
    ) -> str:
        code = "4/0A" + secrets.token_urlsafe(48)
        with self._lock:
            first_consent = client_id not in self._consented
            self._consented.add(client_id)
            wants_refresh = offline and (
                not self.refresh_token_on_first_consent_only
                or first_consent
                or "consent" in prompt.split()
            )
            self.codes[code] = AuthCode(
                code=code,
                client_id=client_id,
                redirect_uri=redirect_uri,
                scopes=scopes,
                code_challenge=code_challenge,
                code_challenge_method=code_challenge_method,
                offline=wants_refresh,
                expires_at=time.time() + CODE_LIFETIME_S,
            )
        return code

    def authenticate(self, client_id: str | None, client_secret: str | None) -> OAuthClient:
        client = self.client(client_id)
        if client is None or not secrets.compare_digest(client.client_secret, client_secret or ""):
            raise GrantError(401, "invalid_client", "The OAuth client was not found.")
        return client

    def exchange_code(
        self, client: OAuthClient, code: str | None, redirect_uri: str | None, verifier: str | None
    ) -> dict[str, Any]:
        if not code:
            raise GrantError(400, "invalid_request", "Missing required parameter: code")
        with self._lock:
            grant = self.codes.get(code)
            if (
                grant is None
                or grant.used
                or grant.expires_at < time.time()
                or grant.client_id != client.client_id
            ):
                raise GrantError(400, "invalid_grant", "Bad Request")
            if redirect_uri != grant.redirect_uri:
                raise GrantError(400, "redirect_uri_mismatch", "Bad Request")
            if grant.code_challenge is not None:
                if not verifier:
                    raise GrantError(400, "invalid_grant", "Missing code verifier.")
                derived = verifier if grant.code_challenge_method == "plain" else s256(verifier)
                if not secrets.compare_digest(derived, grant.code_challenge):
                    raise GrantError(400, "invalid_grant", "Invalid code verifier.")
            # Consumed only on success, so a client that forgot the verifier can retry.
            grant.used = True
            refresh = None
            if grant.offline:
                refresh = RefreshToken(
                    "1//0" + secrets.token_urlsafe(64), client.client_id, grant.scopes, time.time()
                )
                self.refresh_tokens[refresh.token] = refresh
            access = self._new_access_token(client.client_id, grant.scopes, refresh)
        body = self._token_body(access)
        if refresh is not None:
            body["refresh_token"] = refresh.token
        return body

    def refresh(self, client: OAuthClient, refresh_token: str | None) -> dict[str, Any]:
        if not refresh_token:
            raise GrantError(400, "invalid_request", "Missing required parameter: refresh_token")
        with self._lock:
            refresh = self.refresh_tokens.get(refresh_token)
            if refresh is None or refresh.revoked or refresh.client_id != client.client_id:
                raise GrantError(400, "invalid_grant", "Token has been expired or revoked.")
            access = self._new_access_token(client.client_id, refresh.scopes, refresh)
        return self._token_body(access)

    def mint(
        self, client_id: str, scopes: list[str] | None = None, offline: bool = True
    ) -> dict[str, Any]:
        """Tokens without the consent dance, for tests and benchmarks."""
        scopes = scopes or sorted(BUSINESS_SCOPES)[:1]
        with self._lock:
            if client_id not in self.clients:
                raise KeyError(client_id)
            refresh = None
            if offline:
                refresh = RefreshToken(
                    "1//0" + secrets.token_urlsafe(64), client_id, scopes, time.time()
                )
                self.refresh_tokens[refresh.token] = refresh
            access = self._new_access_token(client_id, scopes, refresh)
        body = self._token_body(access)
        if refresh is not None:
            body["refresh_token"] = refresh.token
        return body

    def trust_refresh_token(self, token: str, client_id: str, scopes: list[str]) -> None:
        """Honour a refresh token issued by an earlier run of the sandbox (grants live in
        memory; the demo's database outlives them)."""
        with self._lock:
            if token not in self.refresh_tokens:
                self.refresh_tokens[token] = RefreshToken(token, client_id, scopes, time.time())

    def valid_access_token(self, token: str | None) -> AccessToken | None:
        if not token:
            return None
        with self._lock:
            access = self.access_tokens.get(token)
            if access is None or access.revoked or access.expires_at <= time.time():
                return None
            if access.refresh_token is not None and access.refresh_token.revoked:
                return None
            return access

    def revoke(self, refresh_token: str | None = None) -> int:
        """Revoke one refresh token, or all of them; returns how many were revoked."""
        with self._lock:
            if refresh_token is None:
                targets = list(self.refresh_tokens.values())
            else:
                found = self.refresh_tokens.get(refresh_token)
                targets = [found] if found else []
            for refresh in targets:
                refresh.revoked = True
            if refresh_token is None:
                for access in self.access_tokens.values():
                    access.revoked = True
            return len(targets)

    def revoke_token(self, token: str) -> bool:
        """Google's revoke endpoint: an access token takes its refresh token with it."""
        with self._lock:
            if token in self.refresh_tokens:
                self.refresh_tokens[token].revoked = True
                return True
            access = self.access_tokens.get(token)
            if access is None:
                return False
            access.revoked = True
            if access.refresh_token is not None:
                access.refresh_token.revoked = True
            return True

    def expire_access_tokens(self) -> int:
        with self._lock:
            now = time.time()
            live = [a for a in self.access_tokens.values() if a.expires_at > now]
            for access in live:
                access.expires_at = now
            return len(live)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            now = time.time()
            return {
                "clients": [c.client_id for c in self.clients.values()],
                "access_tokens": [
                    {
                        "access_token": a.token,
                        "client_id": a.client_id,
                        "scope": " ".join(a.scopes),
                        "refresh_token": a.refresh_token.token if a.refresh_token else None,
                        "expires_in": max(0, int(a.expires_at - now)),
                        "valid": self.valid_access_token(a.token) is not None,
                    }
                    for a in self.access_tokens.values()
                ],
                "refresh_tokens": [
                    {
                        "refresh_token": r.token,
                        "client_id": r.client_id,
                        "scope": " ".join(r.scopes),
                        "revoked": r.revoked,
                    }
                    for r in self.refresh_tokens.values()
                ],
            }

    def _new_access_token(
        self, client_id: str, scopes: list[str], refresh: RefreshToken | None
    ) -> AccessToken:
        access = AccessToken(
            token="ya29.a0" + secrets.token_urlsafe(96),
            client_id=client_id,
            scopes=scopes,
            expires_at=time.time() + ACCESS_TOKEN_LIFETIME_S,
            refresh_token=refresh,
        )
        self.access_tokens[access.token] = access
        return access

    @staticmethod
    def _token_body(access: AccessToken) -> dict[str, Any]:
        return {
            "access_token": access.token,
            "expires_in": ACCESS_TOKEN_LIFETIME_S,
            "scope": " ".join(access.scopes),
            "token_type": "Bearer",
        }
