"""Google's side of Business Profile push: the notification settings API
(``mybusinessnotifications`` v1), the keys Google signs push tokens with (a JWKS), and a Pub/Sub
push sender that signs its OIDC token like Google does."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.sandbox.google_http import BadRequest, authorize, invalid_argument, json_response

ISSUER = "https://accounts.google.com"
SERVICE_ACCOUNT = "pubsub-push@sandbox-project.iam.gserviceaccount.com"
TYPES = frozenset({"NEW_REVIEW", "UPDATED_REVIEW", "GOOGLE_UPDATE", "NEW_CUSTOMER_MEDIA"})


class PubSub:
    """The signing key (made on first use: RSA generation takes a moment), the accounts'
    notification settings, and the push subscription plaudit's endpoint stands for."""

    def __init__(self, lock: threading.RLock) -> None:
        self.lock = lock
        self.settings: dict[str, dict[str, Any]] = {}  # by account name
        self.push_url: str | None = None
        self.audience: str | None = None
        self.deliveries: list[dict[str, Any]] = []
        self._key: rsa.RSAPrivateKey | None = None
        self.kid = uuid.uuid4().hex

    @property
    def key(self) -> rsa.RSAPrivateKey:
        with self.lock:
            if self._key is None:
                self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            return self._key

    def jwks(self) -> dict[str, Any]:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def token(self, audience: str, **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": audience,
            "iat": now,
            "exp": now + 3600,
            "sub": "1234567890",
            "email": SERVICE_ACCOUNT,
            "email_verified": True,
            **overrides,
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})

    def envelope(self, kind: str, location: str, review: str | None) -> dict[str, Any]:
        data: dict[str, Any] = {"type": kind, "location": location}
        if review:
            data["review"] = review
        return {
            "message": {
                "data": base64.b64encode(json.dumps(data).encode()).decode(),
                "messageId": str(uuid.uuid4().int)[:16],
                "publishTime": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                "attributes": {},
            },
            "subscription": "projects/sandbox-project/subscriptions/plaudit-push",
        }

    async def push(
        self,
        kind: str,
        location: str,
        review: str | None = None,
        *,
        url: str | None = None,
        token: str | None = None,
    ) -> int | None:
        """POST one push as Pub/Sub would; the status, or None with no subscription."""
        target = url or self.push_url
        if not target:
            return None
        bearer = token or self.token(self.audience or target)
        body = self.envelope(kind, location, review)
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                answer = await client.post(
                    target, json=body, headers={"Authorization": f"Bearer {bearer}"}
                )
            status = answer.status_code
        except httpx.HTTPError:
            status = 0
        with self.lock:
            self.deliveries.append({"url": target, "status": status, "type": kind})
        return status


def notification_routes(pubsub: PubSub, state: Any) -> list[BaseRoute]:
    async def setting(request: Request) -> Response:
        access = authorize(state, request)
        if isinstance(access, Response):
            return access
        account = request.path_params["account"]
        name = f"accounts/{account}/notificationSetting"
        if request.method == "GET":
            with pubsub.lock:
                return json_response(pubsub.settings.get(name, {"name": name}))
        try:
            body = json.loads(await request.body() or b"{}")
            types = body.get("notificationTypes") or []
            if not set(types) <= TYPES:
                raise BadRequest("notification_types", "Unknown notification type")
            if body.get("pubsubTopic") and not str(body["pubsubTopic"]).startswith("projects/"):
                raise BadRequest("pubsub_topic", "Invalid topic name")
        except ValueError as exc:
            return invalid_argument(request.url.path, BadRequest(None, str(exc)))
        except BadRequest as exc:
            return invalid_argument(request.url.path, exc)
        saved = {
            "name": name,
            "pubsubTopic": body.get("pubsubTopic", ""),
            "notificationTypes": types,
        }
        with pubsub.lock:
            pubsub.settings[name] = saved
        return json_response(saved)

    return [Route("/v1/accounts/{account}/notificationSetting", setting, methods=["GET", "PATCH"])]


def jwks_routes(pubsub: PubSub) -> list[BaseRoute]:
    async def certs(request: Request) -> Response:
        return JSONResponse(pubsub.jwks())

    return [Route("/v3/certs", certs, methods=["GET"])]


def admin_routes(pubsub: PubSub) -> list[BaseRoute]:
    async def subscription(request: Request) -> Response:
        body = json.loads(await request.body() or b"{}")
        with pubsub.lock:
            pubsub.push_url = body.get("push_url", pubsub.push_url)
            pubsub.audience = body.get("audience", pubsub.audience)
            return JSONResponse(
                {
                    "push_url": pubsub.push_url,
                    "audience": pubsub.audience,
                    "settings": pubsub.settings,
                }
            )

    async def push(request: Request) -> Response:
        body = json.loads(await request.body() or b"{}")
        token = body.get("token")
        if body.get("claims"):
            token = pubsub.token(body.get("audience") or pubsub.audience or "", **body["claims"])
        status = await pubsub.push(
            body.get("type", "NEW_REVIEW"),
            body["location"],
            body.get("review"),
            url=body.get("url"),
            token=token,
        )
        return JSONResponse({"delivered": status})

    return [
        Route("/subscription", subscription, methods=["GET", "PATCH"]),
        Route("/push", push, methods=["POST"]),
    ]
