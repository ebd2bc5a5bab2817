"""Deterministic fixture data: the same seed always yields the same accounts, locations and
reviews (times are offsets back from an anchor, by default today's midnight UTC).

Each location draws from its own generator, so location N's reviews do not depend on how many
reviews the other locations have. Generation is a handful of random draws per review, which
keeps 100,000 reviews within a second or two.
"""

from __future__ import annotations

import base64
import hashlib
import random
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from connectors.sandbox import texts
from connectors.sandbox.models import Account, Location, Reply, Review
from connectors.sandbox.timestamps import FRACTION_DIGITS, NS_PER_S, quantize

if TYPE_CHECKING:
    from connectors.sandbox.state import SandboxState

HOUR_NS = 3600 * NS_PER_S
TWO_YEARS_NS = 730 * 24 * HOUR_NS
# Cumulative star weights: real ratings lean heavily to five stars.
STAR_THRESHOLDS = ((0.08, 1), (0.13, 2), (0.23, 3), (0.48, 4), (1.0, 5))
LONG_COMMENTS = (texts.long_comment(4000), texts.long_comment(3999)[::-1] + "!")


def default_anchor() -> datetime:
    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def opaque_id(rng: random.Random, prefix: str, n_bytes: int) -> str:
    raw = rng.getrandbits(n_bytes * 8).to_bytes(n_bytes, "big")
    return prefix + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def populate(
    state: SandboxState,
    *,
    seed: int,
    accounts: int,
    locations: int,
    reviews_per_location: int,
    anchor: datetime | None = None,
) -> None:
    anchor_ns = int((anchor or default_anchor()).timestamp()) * NS_PER_S
    rng = random.Random(f"plaudit-sandbox:{seed}")
    owners = [_account(rng, i) for i in range(max(1, accounts))]
    for account in owners:
        state.add_account(account)
    for i in range(locations):
        location = _location(rng, i, owners[i % len(owners)])
        state.add_location(location)
        review_rng = random.Random(f"plaudit-sandbox:{seed}:location:{i}")
        reviews = [
            _review(review_rng, state.next_seq(), location, anchor_ns)
            for _ in range(reviews_per_location)
        ]
        state.load_reviews(location, reviews)


def _account(rng: random.Random, i: int) -> Account:
    account_id = str(10**20 + rng.getrandbits(64))
    if i == 0:  # the user's personal account comes first, as on Google
        return Account(account_id, "Sandbox User", "PERSONAL", None, "UNVERIFIED", None)
    return Account(
        account_id,
        f"Sandbox Group {i}",
        "LOCATION_GROUP",
        "PRIMARY_OWNER" if i % 3 else "MANAGER",
        "VERIFIED",
        "OWNER_LEVEL",
        account_number=str(rng.randrange(10**9, 10**10)),
    )


def _location(rng: random.Random, i: int, account: Account) -> Location:
    city, region, postal, language = texts.CITIES[i % len(texts.CITIES)]
    word = texts.BUSINESS_WORDS[rng.randrange(len(texts.BUSINESS_WORDS))]
    kind = texts.BUSINESS_KINDS[rng.randrange(len(texts.BUSINESS_KINDS))]
    return Location(
        id=str(rng.randrange(10**18, 10**19)),
        account=account,
        title=f"{word} {kind} {city}",
        store_code=f"STORE-{i + 1:05d}",
        language_code=language,
        primary_phone=f"+1 555-{rng.randrange(1000, 10000)}",
        category=texts.CATEGORIES[i % len(texts.CATEGORIES)],
        address={
            "regionCode": region,
            "languageCode": language,
            "postalCode": postal,
            "locality": city,
            "addressLines": [f"{rng.randrange(1, 300)} Main Street"],
        },
        website_uri=f"https://example.com/stores/{i + 1}",
        latlng=(round(rng.uniform(-60, 60), 6), round(rng.uniform(-150, 150), 6)),
        place_id=opaque_id(rng, "ChIJ", 17),
    )


def _comment(rng: random.Random) -> tuple[str | None, tuple[int, int] | None]:
    """A review's text, and the stars its tone goes with (None: any)."""
    roll = rng.random()
    if roll < 0.15:
        return None, None  # rating-only
    if roll < 0.55:
        text = texts.ENGLISH[rng.randrange(len(texts.ENGLISH))]
        return text, texts.STARS[text]
    if roll < 0.65:
        text = texts.EMOJI[rng.randrange(len(texts.EMOJI))]
        return text, texts.STARS[text]
    if roll < 0.74:
        text = texts.RIGHT_TO_LEFT[rng.randrange(len(texts.RIGHT_TO_LEFT))]
        return text, texts.STARS[text]
    if roll < 0.88:
        english, original = texts.TRANSLATED[rng.randrange(len(texts.TRANSLATED))]
        return texts.translated(english, original), texts.STARS[english]
    if roll < 0.90:
        return LONG_COMMENTS[rng.randrange(len(LONG_COMMENTS))], None  # rambling, mixed
    first = texts.ENGLISH[rng.randrange(len(texts.ENGLISH))]
    return first + " " + texts.EMOJI[rng.randrange(len(texts.EMOJI))], texts.STARS[first]


def _review(rng: random.Random, seq: int, location: Location, anchor_ns: int) -> Review:
    roll = rng.random()  # the stars, once the text is known (drawn here: the order of draws
    # is what keeps every other seeded value as it was)
    if rng.random() < 0.05:
        name = photo = None
    else:
        first = texts.FIRST_NAMES[rng.randrange(len(texts.FIRST_NAMES))]
        name = f"{first} {texts.LAST_INITIALS[rng.randrange(len(texts.LAST_INITIALS))]}."
        photo = f"https://lh3.googleusercontent.com/a-/ALV-{rng.getrandbits(64):016x}=s120-c-rp-mo-br100"
    create_digits = FRACTION_DIGITS[rng.getrandbits(2)]
    create_ns = quantize(anchor_ns - rng.randrange(HOUR_NS, TWO_YEARS_NS), create_digits)
    update_ns, update_digits = create_ns, create_digits
    if rng.random() < 0.15:  # edited by the reviewer later
        digits = FRACTION_DIGITS[rng.getrandbits(2)]
        edited = quantize(create_ns + rng.randrange(anchor_ns - create_ns), digits)
        if edited > create_ns:
            update_ns, update_digits = edited, digits
    reply = None
    if rng.random() < 0.20:
        digits = FRACTION_DIGITS[rng.getrandbits(2)]
        replied = min(anchor_ns, create_ns + rng.randrange(HOUR_NS, 30 * 24 * HOUR_NS))
        reply = Reply(
            texts.REPLIES[rng.randrange(len(texts.REPLIES))], quantize(replied, digits), digits
        )
        if reply.update_ns > update_ns:  # replying bumps the review (see state.put_reply)
            update_ns, update_digits = reply.update_ns, reply.update_digits
    review_id = opaque_id(rng, "ChdDSUhN", 24)
    comment, tone = _comment(rng)
    return Review(
        seq=seq,
        review_id=review_id,
        location=location,
        star=stars_for(tone, roll),
        comment=comment,
        reviewer_name=name,
        reviewer_photo=photo,
        create_ns=create_ns,
        create_digits=create_digits,
        update_ns=update_ns,
        update_digits=update_digits,
        reply=reply,
        media=seeded_media(review_id),
    )


def stars_for(tone: tuple[int, int] | None, roll: float) -> int:
    """Stars within the text's (lowest, highest); without one, the overall mix, which leans
    heavily to five stars as real ratings do."""
    if tone is None:
        return next(s for limit, s in STAR_THRESHOLDS if roll < limit)
    low, high = tone
    return low + min(high - low, int(roll * (high - low + 1)))


def seeded_media(review_id: str) -> list[dict[str, str]]:
    """About one review in eight has photos, some a video; drawn from the id, not from the
    location's generator, so adding media left every other seeded value as it was."""
    digest = hashlib.sha256(review_id.encode()).digest()
    if digest[0] % 8:
        return []
    items = []
    for n in range(1 + digest[1] % 3):
        tag = digest[2 + n : 6 + n].hex()
        item = {"thumbnailUrl": f"https://lh3.googleusercontent.com/p/AF1Qip{tag}=s240"}
        if digest[8 + n] % 4 == 0:
            item["videoUrl"] = f"https://lh3.googleusercontent.com/v/AF1Qip{tag}=m22"
        items.append(item)
    return items
