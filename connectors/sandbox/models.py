"""The sandbox's records: Google accounts, locations, reviews and their JSON forms.

JSON follows proto3 rules as Google serialises them: camelCase, and fields that are empty or at
their default value (a false `isAnonymous`, a missing comment or reply) are left out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from connectors.sandbox.review_index import ReviewIndex
from connectors.sandbox.timestamps import format_rfc3339

STAR_RATINGS = ("STAR_RATING_UNSPECIFIED", "ONE", "TWO", "THREE", "FOUR", "FIVE")


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass
class Account:
    id: str
    account_name: str
    type: str
    role: str | None
    verification_state: str
    permission_level: str | None
    account_number: str | None = None

    @property
    def name(self) -> str:
        return f"accounts/{self.id}"

    def resource(self) -> dict[str, Any]:
        data = {
            "name": self.name,
            "accountName": self.account_name,
            "type": self.type,
            "role": self.role,
            "verificationState": self.verification_state,
            "vettedState": "NOT_VETTED",
            "permissionLevel": self.permission_level,
            "accountNumber": self.account_number,
        }
        return {k: v for k, v in data.items() if v is not None}


@dataclass(eq=False)
class Location:
    id: str
    account: Account
    title: str
    store_code: str
    language_code: str
    primary_phone: str
    category: tuple[str, str]
    address: dict[str, Any]
    website_uri: str
    latlng: tuple[float, float]
    place_id: str
    reviews: ReviewIndex = field(default_factory=ReviewIndex, repr=False)

    @property
    def name(self) -> str:
        return f"locations/{self.id}"

    @property
    def v4_name(self) -> str:
        return f"accounts/{self.account.id}/locations/{self.id}"

    def resource(self) -> dict[str, Any]:
        category_id, category_name = self.category
        return {
            "name": self.name,
            "languageCode": self.language_code,
            "storeCode": self.store_code,
            "title": self.title,
            "phoneNumbers": {"primaryPhone": self.primary_phone},
            "categories": {"primaryCategory": {"name": category_id, "displayName": category_name}},
            "storefrontAddress": self.address,
            "websiteUri": self.website_uri,
            "latlng": {"latitude": self.latlng[0], "longitude": self.latlng[1]},
            "openInfo": {"status": "OPEN", "canReopen": True},
            "metadata": {
                "hasGoogleUpdated": False,
                "canDelete": True,
                "canOperateLocalPost": True,
                "canModifyServiceList": True,
                "canOperateHealthData": False,
                "hasVoiceOfMerchant": True,
                "placeId": self.place_id,
                "mapsUri": f"https://maps.google.com/maps?cid={int(self.id) % 10**19}",
                "newReviewUri": (
                    f"https://search.google.com/local/writereview?placeid={self.place_id}"
                ),
            },
        }


# Moderation states of a reply (PROVIDERS.md §G.1: the members are docs.gmbapi.com's ⚠️).
REPLY_STATES = ("PENDING", "ACTIVE", "REJECTED")


@dataclass(slots=True)
class Reply:
    comment: str
    update_ns: int
    update_digits: int
    state: str = "ACTIVE"
    policy_violation: str | None = None  # only while REJECTED

    def resource(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "comment": self.comment,
            "updateTime": format_rfc3339(self.update_ns, self.update_digits),
            "reviewReplyState": self.state,
        }
        if self.policy_violation:
            data["policyViolation"] = self.policy_violation
        return data


@dataclass(slots=True, eq=False)
class Review:
    seq: int  # creation order; breaks ties between equal sort keys
    review_id: str
    location: Location
    star: int  # 1..5
    comment: str | None
    reviewer_name: str | None
    reviewer_photo: str | None
    create_ns: int
    create_digits: int
    update_ns: int
    update_digits: int
    reply: Reply | None = None
    # ReviewMediaItem objects as Google sends them ({"thumbnailUrl", "videoUrl"}, §G.1).
    media: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False
    _json: bytes | None = None

    @property
    def name(self) -> str:
        return f"{self.location.v4_name}/reviews/{self.review_id}"

    @property
    def reply_url(self) -> str:
        # Google documents no format for reviewReplyUrl (§G.1); this one is stable and unique.
        return (
            f"https://business.google.com/reviews/reply?location={self.location.id}"
            f"&review={self.review_id}"
        )

    @property
    def anonymous(self) -> bool:
        return self.reviewer_name is None

    def resource(self) -> dict[str, Any]:
        if self.anonymous:
            reviewer: dict[str, Any] = {"isAnonymous": True}
        else:
            reviewer = {"profilePhotoUrl": self.reviewer_photo, "displayName": self.reviewer_name}
        data: dict[str, Any] = {
            "name": self.name,
            "reviewId": self.review_id,
            "reviewer": reviewer,
            "starRating": STAR_RATINGS[self.star],
        }
        if self.comment:
            data["comment"] = self.comment
        data["createTime"] = format_rfc3339(self.create_ns, self.create_digits)
        data["updateTime"] = format_rfc3339(self.update_ns, self.update_digits)
        if self.reply is not None:
            data["reviewReply"] = self.reply.resource()
        if self.media:
            data["reviewMediaItems"] = [dict(m) for m in self.media]
        data["reviewReplyUrl"] = self.reply_url
        return data

    def to_json(self) -> bytes:
        """Serialised once and reused until the review changes: listing is the hot path."""
        if self._json is None:
            self._json = dumps(self.resource())
        return self._json

    def changed(self) -> None:
        self._json = None


@dataclass
class OAuthClient:
    client_id: str
    client_secret: str
    redirect_uris: list[str] | None = None  # None accepts any redirect URI


@dataclass
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    scopes: list[str]
    code_challenge: str | None
    code_challenge_method: str | None
    offline: bool
    expires_at: float
    used: bool = False


@dataclass
class RefreshToken:
    token: str
    client_id: str
    scopes: list[str]
    issued_at: float
    revoked: bool = False


@dataclass
class AccessToken:
    token: str
    client_id: str
    scopes: list[str]
    expires_at: float
    refresh_token: RefreshToken | None
    revoked: bool = False
