"""Everything the sandbox knows, in memory, behind one lock.

The server thread and tests in the same process both call these methods; each one takes the
lock for a short, bounded piece of work so listing stays fast under concurrent edits.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

from connectors.sandbox import seed as seeding
from connectors.sandbox.facebook_state import FacebookState
from connectors.sandbox.faults import Fault, FaultBook
from connectors.sandbox.google_pubsub import PubSub
from connectors.sandbox.google_qanda_state import QandaState
from connectors.sandbox.models import (
    REPLY_STATES,
    STAR_RATINGS,
    Account,
    Location,
    Reply,
    Review,
    dumps,
)
from connectors.sandbox.oauth_grants import GrantStore
from connectors.sandbox.page_tokens import PageTokenCodec
from connectors.sandbox.review_index import SORT_KEYS, ReviewIndex
from connectors.sandbox.timestamps import Clock, format_rfc3339
from connectors.sandbox.traffic import Traffic

MAX_REPLY_BYTES = 4096


class _Unset:
    """Marks an edit argument the caller did not pass (None means "remove")."""


UNSET: Any = _Unset()


def parse_star_rating(value: str | int) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5:
        return value
    if isinstance(value, str) and value in STAR_RATINGS[1:]:
        return STAR_RATINGS.index(value)
    raise ValueError(f"starRating must be ONE..FIVE, got {value!r}")


class SandboxState:
    def __init__(self, *, seed: int = 1) -> None:
        self.lock = threading.RLock()
        self.seed = seed
        self.clock = Clock()
        self.grants = GrantStore(self.lock)
        self.faults = FaultBook(self.lock)
        self.traffic = Traffic(self.lock)
        secret = hashlib.sha256(f"plaudit-sandbox-page-tokens:{seed}".encode()).digest()
        self.page_tokens = PageTokenCodec(secret)
        self.accounts: dict[str, Account] = {}
        self.locations: dict[str, Location] = {}  # by location id, in creation order
        self.reviews: dict[str, Review] = {}  # by reviewId
        self.reply_calls: list[dict[str, Any]] = []
        # v4 with `accounts/-` is unconfirmed (PROVIDERS.md §A ⚠️): rejected unless enabled.
        self.v4_account_wildcard = False
        self.facebook = FacebookState(self.lock, seed=seed)
        self.qanda = QandaState(self.lock, self.clock, self.page_tokens)
        self.pubsub = PubSub(self.lock)
        # What a reply sent through the API becomes (§G.1): ACTIVE at once by default, or held
        # PENDING for `moderate_reply`, or REJECTED with `reply_violation`.
        self.reply_moderation = "ACTIVE"
        self.reply_violation = "POLICY_VIOLATION_UNSPECIFIED"
        # Google's "10 edits a minute per profile" (§G.3), applied to reply writes per location.
        self.reply_edit_limit = 10
        self.reply_edit_window_seconds = 60.0
        self._edits: dict[str, deque[float]] = {}
        # Google's known paging issue (§G.2): these reviews are left out of every page but the
        # first of reviews.list, while reviews.get still finds them.
        self.list_omits: set[str] = set()
        self._rng = random.Random(f"plaudit-sandbox:{seed}:live")
        self._seq = 0

    @classmethod
    def seeded(
        cls,
        seed: int = 1,
        accounts: int = 1,
        locations: int = 3,
        reviews_per_location: int = 20,
        client_id: str = "sandbox-client",
        client_secret: str = "sandbox-secret",
        anchor: datetime | None = None,
        facebook_pages: int = 2,
        posts_per_page: int = 3,
        comments_per_post: int = 4,
        ratings_per_page: int = 5,
        questions_per_location: int = 3,
    ) -> SandboxState:
        state = cls(seed=seed)
        state.facebook.populate(
            pages=facebook_pages,
            posts_per_page=posts_per_page,
            comments_per_post=comments_per_post,
            ratings_per_page=ratings_per_page,
        )
        state.add_client(client_id, client_secret)
        seeding.populate(
            state,
            seed=seed,
            accounts=accounts,
            locations=locations,
            reviews_per_location=reviews_per_location,
            anchor=anchor,
        )
        state.qanda.populate(list(state.locations), questions_per_location, seed)
        return state

    # -- building -------------------------------------------------------------------------

    def warm(self) -> None:
        """Serialise every review now, so the first listing pass is as fast as later ones."""
        with self.lock:
            reviews = list(self.reviews.values())
        for review in reviews:
            with self.lock:
                review.to_json()

    def next_seq(self) -> int:
        with self.lock:
            self._seq += 1
            return self._seq

    def add_account(self, account: Account) -> None:
        with self.lock:
            self.accounts[account.id] = account

    def add_location(self, location: Location) -> None:
        with self.lock:
            self.locations[location.id] = location

    def load_reviews(self, location: Location, reviews: list[Review]) -> None:
        with self.lock:
            for review in reviews:
                self.reviews[review.review_id] = review
            location.reviews.load(reviews)

    # -- lookups --------------------------------------------------------------------------

    def account_locations(self, account_id: str) -> list[Location] | None:
        """Locations of one account, or of all accounts for `-`; None if unknown."""
        with self.lock:
            if account_id == "-":
                return list(self.locations.values())
            if account_id not in self.accounts:
                return None
            return [loc for loc in self.locations.values() if loc.account.id == account_id]

    def resolve_location(self, account_id: str, location_id: str) -> Location | None:
        with self.lock:
            location = self.locations.get(location_id)
        if location is None:
            return None
        if account_id == location.account.id:
            return location
        if account_id == "-" and self.v4_account_wildcard:
            return location
        return None

    def resolve_review(self, account_id: str, location_id: str, review_id: str) -> Review | None:
        location = self.resolve_location(account_id, location_id)
        with self.lock:
            review = self.reviews.get(review_id)
        if location is None or review is None or review.location is not location:
            return None
        return review

    def location_by_name(self, name: str) -> Location | None:
        """`accounts/{a}/locations/{l}` or `locations/{l}`."""
        parts = name.strip("/").split("/")
        if len(parts) == 4 and parts[0] == "accounts" and parts[2] == "locations":
            return self.resolve_location(parts[1], parts[3])
        if len(parts) == 2 and parts[0] == "locations":
            with self.lock:
                return self.locations.get(parts[1])
        return None

    # -- listing as Google does -----------------------------------------------------------

    def review_page(
        self,
        location: Location,
        order: str,
        page_token: str | None,
        page_size: int,
        corrupt: Callable[[], Fault | None] | None = None,
    ) -> bytes:
        """The reviews.list response body. Raises InvalidPageToken for a foreign token."""
        scope = f"reviews:{location.id}:{order}"
        after = tuple(self.page_tokens.decode(scope, page_token)) if page_token else None
        with self.lock:
            reviews, more = location.reviews.page(order, after, page_size)
            items = [
                r.to_json() for r in reviews if after is None or r.review_id not in self.list_omits
            ]
            total = len(location.reviews)
            average = location.reviews.average_rating()
            next_key = _sort_key(order, reviews[-1]) if more else None
        if items and corrupt is not None:
            fault = corrupt()
            if fault is not None and len(items) == len(reviews):
                middle = len(reviews) // 2
                items[middle] = dumps(malformed(reviews[middle], fault.malformed_review))
        parts = []
        if items:
            parts.append(b'"reviews":[' + b",".join(items) + b"]")
        if total:
            parts.append(b'"averageRating":' + dumps(average))
            parts.append(b'"totalReviewCount":' + str(total).encode())
        if next_key is not None:
            token = self.page_tokens.encode(scope, list(next_key))
            parts.append(b'"nextPageToken":"' + token.encode() + b'"')
        return b"{" + b",".join(parts) + b"}"

    def batch_review_page(
        self,
        locations: list[Location],
        order: str,
        page_token: str | None,
        page_size: int,
    ) -> dict[str, Any]:
        """locations.batchGetReviews: the named locations' reviews merged in one order."""
        scope = "batch:" + ",".join(loc.id for loc in locations) + ":" + order
        after = tuple(self.page_tokens.decode(scope, page_token)) if page_token else None
        with self.lock:
            merged: list[Review] = []
            more = False
            for location in locations:
                chunk, has_more = location.reviews.page(order, after, page_size)
                merged.extend(chunk)
                more = more or has_more
            merged.sort(key=lambda r: _sort_key(order, r))
            more = more or len(merged) > page_size
            page = merged[:page_size]
            body: dict[str, Any] = {}
            if page:
                body["locationReviews"] = [
                    {"name": r.location.v4_name, "review": r.resource()} for r in page
                ]
            if more:
                body["nextPageToken"] = self.page_tokens.encode(
                    scope, list(_sort_key(order, page[-1]))
                )
        return body

    def account_page(self, type_filter: str | None, page_token: str | None, size: int) -> dict:
        scope = f"accounts:{type_filter or ''}"
        offset = self.page_tokens.decode(scope, page_token)[0] if page_token else 0
        with self.lock:
            accounts = [
                a for a in self.accounts.values() if type_filter is None or a.type == type_filter
            ]
        chunk = accounts[offset : offset + size]
        body: dict[str, Any] = {}
        if chunk:
            body["accounts"] = [a.resource() for a in chunk]
        if offset + size < len(accounts):
            body["nextPageToken"] = self.page_tokens.encode(scope, [offset + size])
        return body

    # -- replies through the API ----------------------------------------------------------

    def put_reply(self, review: Review, comment: str) -> dict[str, Any]:
        """Upsert the owner's reply. Sandbox assumption: a reply change also bumps the
        review's updateTime, so "updateTime desc" incremental syncs see it."""
        with self.lock:
            now = self.clock.now_ns()

            mode = self.reply_moderation
            violation = self.reply_violation if mode == "REJECTED" else None

            def change() -> None:
                review.reply = Reply(comment, now, self.clock.digits, mode, violation)

            self._mutate(review, change, now)
            return review.reply.resource()

    def take_edit(self, location: Location) -> float | None:
        """Count one reply write of `location`; None if allowed, else seconds until one is.
        A sliding window: a refused write is not counted."""
        with self.lock:
            now = time.monotonic()
            edits = self._edits.setdefault(location.id, deque())
            while edits and edits[0] <= now - self.reply_edit_window_seconds:
                edits.popleft()
            if len(edits) >= self.reply_edit_limit:
                return edits[0] + self.reply_edit_window_seconds - now
            edits.append(now)
            return None

    def set_reply_moderation(self, mode: str, violation: str | None = None) -> None:
        if mode not in REPLY_STATES:
            raise ValueError(f"mode must be one of {', '.join(REPLY_STATES)}")
        with self.lock:
            self.reply_moderation = mode
            if violation:
                self.reply_violation = violation

    def moderate_reply(
        self, review_id: str, state: str, violation: str | None = None
    ) -> dict[str, Any]:
        """Google's verdict on a reply, later. Sandbox assumption: it does not move the
        review's updateTime (nothing says it does), so only a re-read shows it."""
        if state not in REPLY_STATES:
            raise ValueError(f"state must be one of {', '.join(REPLY_STATES)}")
        with self.lock:
            review = self.reviews.get(review_id)
            if review is None or review.reply is None:
                raise KeyError(review_id)
            review.reply.state = state
            review.reply.policy_violation = (
                (violation or self.reply_violation) if state == "REJECTED" else None
            )
            review.changed()
            return review.resource()

    def set_media(self, review_id: str, media: list[dict[str, Any]]) -> dict[str, Any]:
        if not isinstance(media, list) or not all(isinstance(m, dict) for m in media):
            raise ValueError("reviewMediaItems must be a list of objects")
        with self.lock:
            review = self.reviews.get(review_id)
            if review is None:
                raise KeyError(review_id)
            review.media = [dict(m) for m in media]
            review.changed()
            return review.resource()

    def delete_reply(self, review: Review) -> None:
        with self.lock:
            if review.reply is None:
                return

            def change() -> None:
                review.reply = None

            self._mutate(review, change, self.clock.now_ns())

    def log_reply_call(self, method: str, review: str, comment: str | None, status: int) -> None:
        with self.lock:
            self.reply_calls.append(
                {
                    "method": method,
                    "review": review,
                    "comment": comment,
                    "at": format_rfc3339(self.clock.now_ns(), self.clock.digits),
                    "status": status,
                }
            )

    def replies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(call) for call in self.reply_calls]

    def clear_replies(self) -> None:
        with self.lock:
            self.reply_calls.clear()

    # -- what reviewers and owners do on Google directly (the admin API) ------------------

    def create_review(
        self,
        location: str,
        star_rating: str | int = "FIVE",
        comment: str | None = None,
        reviewer: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A new review, created and updated now. `location` is a v4 or v1 location name."""
        target = self.location_by_name(location)
        if target is None:
            raise KeyError(location)
        star = parse_star_rating(star_rating)
        reviewer = reviewer or {}
        with self.lock:
            if reviewer.get("isAnonymous"):
                name = photo = None
            else:
                name = reviewer.get("displayName") or "Sandbox Reviewer"
                photo = reviewer.get("profilePhotoUrl") or (
                    f"https://lh3.googleusercontent.com/a-/ALV-{self._rng.getrandbits(64):016x}"
                )
            now = self.clock.now_ns()
            review = Review(
                seq=self.next_seq(),
                review_id=seeding.opaque_id(self._rng, "ChdDSUhN", 24),
                location=target,
                star=star,
                comment=comment or None,
                reviewer_name=name,
                reviewer_photo=photo,
                create_ns=now,
                create_digits=self.clock.digits,
                update_ns=now,
                update_digits=self.clock.digits,
            )
            self.reviews[review.review_id] = review
            target.reviews.add(review)
            return review.resource()

    def edit_review(
        self,
        review_id: str,
        *,
        comment: str | None = UNSET,
        star_rating: str | int = UNSET,
        reply: str | None = UNSET,
    ) -> dict[str, Any]:
        """Edit as the reviewer (comment, rating) or as the owner on Google (reply text, or
        None to remove it). Any change bumps updateTime."""
        star = UNSET if star_rating is UNSET else parse_star_rating(star_rating)
        if reply is not UNSET and reply is not None:
            check_reply_comment(reply)
        with self.lock:
            review = self.reviews.get(review_id)
            if review is None:
                raise KeyError(review_id)
            now = self.clock.now_ns()

            def change() -> None:
                if comment is not UNSET:
                    review.comment = comment or None
                if star is not UNSET:
                    review.star = star
                if reply is not UNSET:
                    review.reply = None if reply is None else Reply(reply, now, self.clock.digits)

            self._mutate(review, change, now)
            return review.resource()

    def delete_review(self, review_id: str) -> bool:
        with self.lock:
            review = self.reviews.pop(review_id, None)
            if review is None:
                return False
            review.location.reviews.remove(review)
            review.deleted = True
            return True

    def review(self, review_id: str) -> dict[str, Any] | None:
        with self.lock:
            review = self.reviews.get(review_id)
            return None if review is None else review.resource()

    def locations_summary(self) -> list[dict[str, Any]]:
        with self.lock:
            return [
                {
                    "account": loc.account.name,
                    "location": loc.name,
                    "name": loc.v4_name,
                    "title": loc.title,
                    "placeId": loc.place_id,
                    "reviewCount": len(loc.reviews),
                }
                for loc in self.locations.values()
            ]

    # -- tokens, faults, traffic ----------------------------------------------------------

    def add_client(
        self, client_id: str, client_secret: str, redirect_uris: list[str] | None = None
    ) -> None:
        self.grants.add_client(client_id, client_secret, redirect_uris)

    def mint_tokens(
        self, client_id: str = "sandbox-client", scopes: list[str] | None = None
    ) -> dict[str, Any]:
        return self.grants.mint(client_id, scopes)

    def google_trust_refresh_token(
        self, token: str, client_id: str = "sandbox-client", scopes: list[str] | None = None
    ) -> None:
        self.grants.trust_refresh_token(
            token, client_id, scopes or ["https://www.googleapis.com/auth/business.manage"]
        )

    def revoke(self, refresh_token: str | None = None) -> int:
        return self.grants.revoke(refresh_token)

    def expire_access_tokens(self) -> int:
        return self.grants.expire_access_tokens()

    def tokens(self) -> dict[str, Any]:
        return self.grants.snapshot()

    def add_fault(self, spec: dict[str, Any]) -> int:
        return self.faults.add(spec).id

    def clear_faults(self) -> None:
        self.faults.clear()

    def request_counts(self, path_regex: str | None = None) -> dict[str, Any]:
        return self.traffic.counts(path_regex)

    def reset_request_counts(self) -> None:
        self.traffic.reset()

    # -- internals ------------------------------------------------------------------------

    def _mutate(self, review: Review, change: Callable[[], None], now_ns: int) -> None:
        """Apply `change` and move the review to its new place in the sort orders."""
        if review.deleted:
            raise KeyError(review.review_id)
        index: ReviewIndex = review.location.reviews
        index.remove(review)
        change()
        review.update_ns = now_ns
        review.update_digits = self.clock.digits
        review.changed()
        index.add(review)


def check_reply_comment(comment: object) -> str:
    if not isinstance(comment, str) or not comment.strip():
        raise ValueError("comment is required")
    if len(comment.encode("utf-8")) > MAX_REPLY_BYTES:
        raise ValueError(f"comment is longer than {MAX_REPLY_BYTES} bytes")
    return comment


def _sort_key(order: str, review: Review) -> tuple[int, ...]:
    return SORT_KEYS[order](review)


def malformed(review: Review, kind: str | None) -> dict[str, Any]:
    """A copy of `review` broken the way real payloads occasionally are."""
    data = review.resource()
    if kind == "missing_id":
        del data["reviewId"], data["name"]
    elif kind == "bad_rating":
        data["starRating"] = "SEVEN"
    else:
        data["createTime"] = "yesterday"
    return data
