"""Facebook as the sandbox plays it: one app, people who manage pages, and each page's posts,
comments, ratings and tagged posts, with the tokens and error modes of PROVIDERS.md §E.

Times are whole seconds, printed as Facebook does (``2024-01-02T03:04:05+0000``). A comment
anywhere under a post moves the post's ``updated_time``.
"""

from __future__ import annotations

import itertools
import random
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors.sandbox import texts
from connectors.sandbox.facebook_usage import UsageBudget

APP_ID = "sandbox-app"
APP_SECRET = "sandbox-app-secret"
USER_ID = "100000000000001"
USER_NAME = "Sandbox Manager"
PERMISSIONS = (
    "pages_show_list",
    "pages_read_engagement",
    "pages_read_user_content",
    "pages_manage_engagement",
    "pages_manage_metadata",
)
LONG_LIVED_S = 5_183_944
SHORT_LIVED_S = 7_200
# Facebook answers ratings with error 12 from this Graph API version on.
RATINGS_RETIRED_FROM = 22
# The oldest Graph API version still served (v20.0 ended 2026-09-24); an older or missing
# version is answered as this one (PROVIDERS.md §E). 22 stands for a day after 2027-01-21.
OLDEST_VERSION = 21


def graph_time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


@dataclass(frozen=True)
class Nested:
    """A field expansion of ``comments`` (``comments.order(…).limit(n){…}``), as asked."""

    limit: int = 25
    reverse: bool = False

    @classmethod
    def parse(cls, fields: str | None) -> Nested | None:
        match = re.search(r"comments((?:\.\w+\([^)]*\))*)", fields or "")
        if match is None:
            return None
        limit = re.search(r"\.limit\((\d+)\)", match[1])
        return cls(int(limit[1]) if limit else 25, "reverse_chronological" in match[1])

    def block(self, comments: list[Comment]) -> dict[str, Any] | None:
        """Graph leaves an empty edge out of an expansion; a longer one says there is more."""
        live = [c for c in comments if not c.deleted]
        if self.reverse:
            live = sorted(live, key=lambda c: c.created, reverse=True)
        if not live:
            return None
        paging: dict[str, Any] = {"cursors": {"before": "MA", "after": "MQ"}}
        if len(live) > self.limit:
            paging["next"] = "https://graph.facebook.com/v21.0/comments?after=MQ"
        return {"data": [c.resource(False) for c in live[: self.limit]], "paging": paging}


@dataclass(eq=False)
class Comment:
    id: str
    parent_id: str  # the post, story or comment it answers
    message: str
    created: int
    author: dict[str, str]
    replies: list[Comment] = field(default_factory=list)
    deleted: bool = False

    def resource(self, nested: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "message": self.message,
            "created_time": graph_time(self.created),
            "from": dict(self.author),
            "comment_count": len(self.live_replies()),
        }
        if nested and self.live_replies():
            data["comments"] = {
                "data": [r.resource(False) for r in self.live_replies()],
                "paging": {"cursors": {"before": "MA", "after": "MQ"}},
            }
        return data

    def live_replies(self) -> list[Comment]:
        return [r for r in self.replies if not r.deleted]

    def expanded(self, nested: Nested | None) -> dict[str, Any]:
        """The comment read on its own (``GET /{comment-id}``), its replies as a field
        expansion of ``comments`` asks for them."""
        data = self.resource(False)
        block = nested.block(self.replies) if nested else None
        if block is not None:
            data["comments"] = block
        return data


@dataclass(eq=False)
class Post:
    id: str
    page_id: str
    message: str
    created: int
    updated: int
    author: dict[str, str]
    comments: list[Comment] = field(default_factory=list)

    def resource(self, nested: Nested | None = None) -> dict[str, Any]:
        data = {
            "id": self.id,
            "message": self.message,
            "created_time": graph_time(self.created),
            "updated_time": graph_time(self.updated),
            "from": dict(self.author),
            "permalink_url": f"https://www.facebook.com/{self.id}",
        }
        block = nested.block(self.comments) if nested else None
        if block is not None:
            data["comments"] = block
        return data


@dataclass(eq=False)
class Rating:
    story_id: str
    reviewer: dict[str, str]
    created: int
    recommendation_type: str
    review_text: str | None
    rating: int | None = None
    comments: list[Comment] = field(default_factory=list)

    def resource(self, nested: Nested | None = None) -> dict[str, Any]:
        story: dict[str, Any] = {"id": self.story_id}
        block = nested.block(self.comments) if nested else None
        if block is not None:
            story["comments"] = block
        data: dict[str, Any] = {
            "created_time": graph_time(self.created),
            "has_rating": self.rating is not None,
            "has_review": bool(self.review_text),
            "open_graph_story": story,
            "recommendation_type": self.recommendation_type,
            "reviewer": dict(self.reviewer),
        }
        if self.rating is not None:
            data["rating"] = self.rating
        if self.review_text:
            data["review_text"] = self.review_text
        return data


@dataclass(eq=False)
class Page:
    id: str
    name: str
    token: str
    posts: list[Post] = field(default_factory=list)  # newest first
    ratings: list[Rating] = field(default_factory=list)  # newest first
    tagged: list[Post] = field(default_factory=list)  # newest first
    subscribed_fields: list[str] = field(default_factory=list)

    @property
    def identity(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name}

    def account(self) -> dict[str, Any]:
        return {
            "access_token": self.token,
            "category": "Local business",
            "category_list": [{"id": "2500", "name": "Local business"}],
            "name": self.name,
            "id": self.id,
            "tasks": ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"],
        }


@dataclass
class Token:
    token: str
    kind: str  # "user" or "page"
    permissions: set[str]
    expires_at: float | None
    page_id: str | None = None


@dataclass
class GraphFault:
    """An error Facebook answers instead: ``path`` is a regex on the path after the version."""

    path: re.Pattern[str]
    code: int
    subcode: int | None
    message: str
    times: int  # -1: forever
    regain_minutes: int | None = None
    method: str | None = None
    kind: str = "OAuthException"
    # Carry the request out, then answer the error anyway: Graph can answer a comment's POST
    # with "(#100) Unsupported request - method type: post" although it created it (§G.5).
    after_handling: bool = False

    def error(self) -> GraphError:
        return GraphError(
            self.code,
            self.message,
            self.subcode,
            kind=self.kind,
            regain_minutes=self.regain_minutes,
        )


_MESSAGES = {
    1: "An unknown error occurred",
    2: "Service temporarily unavailable",
    4: "(#4) Application request limit reached",
    10: "(#10) Application does not have permission for this action",
    12: "(#12) ratings is deprecated for versions v22.0 and higher",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    190: "Error validating access token: Session has expired",
    200: "(#200) Permissions error",
    283: "(#283) Requires pages_read_user_content permission to manage the object",
    613: "(#613) Calls to this api have exceeded the rate limit.",
    80001: "(#80001) There have been too many calls to this Page account.",
}


class GraphError(Exception):
    def __init__(
        self,
        code: int,
        message: str | None = None,
        subcode: int | None = None,
        *,
        kind: str = "OAuthException",
        status: int = 400,
        regain_minutes: float | None = None,
    ) -> None:
        super().__init__(message or _MESSAGES.get(code, "An error occurred"))
        self.code, self.subcode, self.kind, self.status = code, subcode, kind, status
        self.regain_minutes = regain_minutes

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": str(self), "type": self.kind, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.code in (1, 2, 4, 17, 32, 613, 80001):
            error["is_transient"] = True
        error["fbtrace_id"] = "A" + secrets.token_urlsafe(8)
        return {"error": error}


class FacebookState:
    def __init__(self, lock: threading.RLock, *, seed: int = 1) -> None:
        self.lock = lock
        self.app_id, self.app_secret = APP_ID, APP_SECRET
        self.pages: dict[str, Page] = {}
        self.objects: dict[str, Post | Comment | Rating] = {}  # what /{id}/comments can address
        self.tokens: dict[str, Token] = {}
        self.codes: dict[str, tuple[str, set[str]]] = {}  # code -> (redirect_uri, permissions)
        self.faults: list[GraphFault] = []
        self.usage = UsageBudget()  # the usage headers, and the budgets that refuse calls
        self.ratings_retired_from = RATINGS_RETIRED_FROM
        self.oldest_version = OLDEST_VERSION
        # §G.5: a recommendation's story can list its comments as empty although it has some.
        self.story_comments_empty = False
        self.granted = set(PERMISSIONS)  # what the person grants in the login dialog
        self.webhook_url: str | None = None
        self.deliveries: list[dict[str, Any]] = []
        self._rng = random.Random(f"plaudit-sandbox-facebook:{seed}")
        self._ids = itertools.count(1)

    # -- building -------------------------------------------------------------------------

    def next_id(self) -> int:
        with self.lock:
            return next(self._ids)

    def populate(
        self,
        *,
        pages: int = 2,
        posts_per_page: int = 3,
        comments_per_post: int = 4,
        ratings_per_page: int = 5,
        tagged_per_page: int = 2,
    ) -> None:
        now = int(time.time())
        rng = self._rng
        for p in range(pages):
            page = self.add_page(f"{texts.BUSINESS_WORDS[p % 8]} {texts.BUSINESS_KINDS[p % 8]}")
            for n in range(posts_per_page):
                created = now - (posts_per_page - n) * 3600 - rng.randrange(600)
                post = self.add_post(page.id, f"News #{n + 1} from {page.name}", created)
                for c in range(comments_per_post):
                    comment = self.add_comment(
                        post.id, self._text(), self._person(), created + 60 + c
                    )
                    # Some threads: another person answers, or the page already did.
                    if c % 4 == 1:
                        self.add_comment(comment.id, self._text(), self._person(), created + 90)
                    elif c % 4 == 2:
                        reply = texts.REPLIES[rng.randrange(len(texts.REPLIES))]
                        self.add_comment(comment.id, reply, page.identity, created + 120)
            for r in range(ratings_per_page):
                created = now - (ratings_per_page - r) * 7200
                roll, person, text = rng.random(), self._person(), self._text()
                # Recommends when the text is glad, not when it complains; a mixed text
                # either way. Drawn in the old order, so other seeded values stay as they were.
                middle = sum(texts.STARS[text]) / 2
                positive = middle > 3 or (middle == 3 and roll < 0.5)
                story = self.add_rating(page.id, person, positive, text, created)
                if r % 3 == 1:  # some the page already answered on Facebook
                    answer = texts.REPLIES[r % len(texts.REPLIES)]
                    self.add_comment(story.story_id, answer, page.identity, created + 600)
            for t in range(tagged_per_page):
                created = now - (tagged_per_page - t) * 5400
                post = self.add_tagged(
                    page.id, f"Great time at @{page.name}!", self._person(), created
                )
                if t % 2 == 1:
                    self.add_comment(post.id, "Thanks for the tag!", page.identity, created + 300)

    def _text(self) -> str:
        return texts.ENGLISH[self._rng.randrange(len(texts.ENGLISH))]

    def _person(self) -> dict[str, str]:
        rng = self._rng
        first = texts.FIRST_NAMES[rng.randrange(len(texts.FIRST_NAMES))]
        last = texts.LAST_INITIALS[rng.randrange(len(texts.LAST_INITIALS))]
        return {"id": str(10**14 + rng.getrandbits(40)), "name": f"{first} {last}."}

    def add_page(self, name: str) -> Page:
        with self.lock:
            page_id = str(10**14 + 500_000 + len(self.pages))
            # From the seed, so that a restarted sandbox (the demo) honours stored page tokens.
            token = "EAAPage" + f"{self._rng.getrandbits(128):032x}"
            page = Page(page_id, name, token)
            self.pages[page_id] = page
            return page

    def add_post(self, page_id: str, message: str, created: int | None = None) -> Post:
        with self.lock:
            page = self.pages[page_id]
            created = created or int(time.time())
            post = Post(
                f"{page_id}_{self.next_id()}", page_id, message, created, created, page.identity
            )
            page.posts.insert(0, post)
            page.posts.sort(key=lambda p: p.created, reverse=True)
            self.objects[post.id] = post
            return post

    def add_comment(
        self, parent_id: str, message: str, author: dict[str, str], created: int | None = None
    ) -> Comment:
        """A comment on a post, a rating's story or (as a reply) another comment."""
        with self.lock:
            parent = self.objects[parent_id]
            created = created or int(time.time())
            post_part = parent_id.split("_")[-1]
            comment = Comment(f"{post_part}_{self.next_id()}", parent_id, message, created, author)
            if isinstance(parent, Comment):
                parent.replies.append(comment)
            else:
                parent.comments.append(comment)
            self.objects[comment.id] = comment
            post = self._post_of(comment)
            if post is not None:
                post.updated = max(post.updated, created)
            return comment

    def add_rating(
        self,
        page_id: str,
        reviewer: dict[str, str],
        positive: bool,
        text: str | None,
        created: int | None = None,
        rating: int | None = None,
    ) -> Rating:
        with self.lock:
            page = self.pages[page_id]
            story = Rating(
                f"{page_id}_{self.next_id()}",
                reviewer,
                created or int(time.time()),
                "positive" if positive else "negative",
                text,
                rating,
            )
            page.ratings.insert(0, story)
            page.ratings.sort(key=lambda r: r.created, reverse=True)
            self.objects[story.story_id] = story
            return story

    def add_tagged(
        self, page_id: str, message: str, author: dict[str, str], created: int | None = None
    ) -> Post:
        with self.lock:
            page = self.pages[page_id]
            created = created or int(time.time())
            post = Post(
                f"{author['id']}_{self.next_id()}", page_id, message, created, created, author
            )
            page.tagged.insert(0, post)
            page.tagged.sort(key=lambda p: p.created, reverse=True)
            self.objects[post.id] = post
            return post

    def add_comment_mention(
        self, page_id: str, message: str, author: dict[str, str], created: int | None = None
    ) -> tuple[Post, Comment]:
        """A mention of the page in a comment on someone's own post: no edge the page reads
        lists it (it is not in ``/tagged``); only the ``mention`` webhook tells of it."""
        with self.lock:
            if page_id not in self.pages:
                raise KeyError(page_id)
            created = created or int(time.time())
            post = Post(f"{author['id']}_{self.next_id()}", page_id, "", created, created, author)
            self.objects[post.id] = post
            return post, self.add_comment(post.id, message, author, created)

    def _post_of(self, comment: Comment) -> Post | None:
        parent = self.objects.get(comment.parent_id)
        while isinstance(parent, Comment):
            parent = self.objects.get(parent.parent_id)
        return parent if isinstance(parent, Post) else None

    # -- tokens ---------------------------------------------------------------------------

    def issue_code(self, redirect_uri: str) -> str:
        code = "AQ" + secrets.token_urlsafe(32)
        with self.lock:
            self.codes[code] = (redirect_uri, set(self.granted))
        return code

    def exchange_code(self, client_id: str, secret: str, redirect_uri: str, code: str) -> Token:
        self.check_app(client_id, secret)
        with self.lock:
            grant = self.codes.pop(code, None)
            if grant is None:
                raise GraphError(100, "This authorization code has been used.", 36009)
            if grant[0] != redirect_uri:
                raise GraphError(100, "Error validating verification code.", 36008)
            return self._user_token(grant[1], SHORT_LIVED_S)

    def extend(self, client_id: str, secret: str, short: str) -> Token:
        self.check_app(client_id, secret)
        with self.lock:
            token = self.valid(short)
            if token.kind != "user":
                raise GraphError(190, "Invalid OAuth access token.", 467)
            return self._user_token(token.permissions, LONG_LIVED_S)

    def mint_user_token(self, permissions: set[str] | None = None) -> Token:
        with self.lock:
            return self._user_token(permissions or set(PERMISSIONS), LONG_LIVED_S)

    def _user_token(self, permissions: set[str], lifetime: int) -> Token:
        token = Token("EAAUser" + secrets.token_urlsafe(32), "user", set(permissions), None)
        token.expires_at = time.time() + lifetime
        self.tokens[token.token] = token
        # Page tokens derived from a user token carry its permissions (and do not expire).
        for page in self.pages.values():
            self.tokens[page.token] = Token(page.token, "page", set(permissions), None, page.id)
        return token

    def trust_user_token(self, raw: str) -> None:
        """Honour a long-lived token issued by an earlier run (grants live in memory; the demo's
        database outlives them)."""
        with self.lock:
            if raw not in self.tokens:
                self.tokens[raw] = Token(raw, "user", set(PERMISSIONS), time.time() + LONG_LIVED_S)
                for page in self.pages.values():
                    self.tokens[page.token] = Token(
                        page.token, "page", set(PERMISSIONS), None, page.id
                    )

    def check_app(self, client_id: str | None, secret: str | None) -> None:
        if client_id != self.app_id or not secrets.compare_digest(secret or "", self.app_secret):
            raise GraphError(101, "Error validating application. Invalid application ID.")

    def valid(self, raw: str | None) -> Token:
        if not raw:
            raise GraphError(104, "An access token is required to request this resource.")
        with self.lock:
            token = self.tokens.get(raw)
        if token is None:
            raise GraphError(190, "Invalid OAuth access token - Cannot parse access token", 467)
        if token.expires_at is not None and token.expires_at <= time.time():
            raise GraphError(190, _MESSAGES[190], 463)
        return token

    def expire_tokens(self) -> int:
        """Every token expires now (page tokens too: their user changed the password)."""
        with self.lock:
            for token in self.tokens.values():
                token.expires_at = time.time() - 1
            return len(self.tokens)

    def revoke_permission(self, permission: str) -> None:
        with self.lock:
            self.granted.discard(permission)
            for token in self.tokens.values():
                token.permissions.discard(permission)

    # -- faults ---------------------------------------------------------------------------

    def add_fault(self, spec: dict[str, Any]) -> None:
        code = int(spec["code"])
        fault = GraphFault(
            path=re.compile(spec.get("path") or ".*"),
            code=code,
            subcode=spec.get("subcode"),
            message=spec.get("message") or _MESSAGES.get(code, "An error occurred"),
            times=int(spec.get("times", 1)),
            regain_minutes=spec.get("regain_minutes"),
            method=(spec.get("method") or "").upper() or None,
            kind=spec.get("type") or "OAuthException",
            after_handling=bool(spec.get("after_handling", False)),
        )
        with self.lock:
            self.faults.append(fault)

    def take_fault(self, method: str, path: str) -> GraphFault | None:
        if not self.faults:
            return None
        with self.lock:
            for fault in self.faults:
                if fault.method not in (None, method) or not fault.path.search(path):
                    continue
                if fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        self.faults.remove(fault)
                return fault
        return None

    # -- what the admin API shows ---------------------------------------------------------

    def page_replies(self) -> list[dict[str, Any]]:
        """Every comment a page wrote: plaudit's replies as Facebook has them."""
        with self.lock:
            return [
                {
                    "id": c.id,
                    "parent_id": c.parent_id,
                    "page_id": c.author["id"],
                    "message": c.message,
                    "deleted": c.deleted,
                }
                for c in self.objects.values()
                if isinstance(c, Comment) and c.author.get("id") in self.pages
            ]

    def summary(self) -> dict[str, Any]:
        with self.lock:
            return {
                "app_id": self.app_id,
                "pages": [
                    {
                        "id": page.id,
                        "name": page.name,
                        "posts": [p.id for p in page.posts],
                        "ratings": [r.story_id for r in page.ratings],
                        "tagged": [t.id for t in page.tagged],
                        # What the page's inbox holds: comments by people, not the page's.
                        "comments": sum(_count(p.comments, page.id) for p in page.posts),
                        "subscribed_fields": page.subscribed_fields,
                    }
                    for page in self.pages.values()
                ],
            }


def _count(comments: list[Comment], page_id: str) -> int:
    people = [c for c in comments if not c.deleted and c.author.get("id") != page_id]
    return sum(1 + _count(c.replies, page_id) for c in people)
