"""Removing identifiers people type into free text, before it is ever stored.

Built-in detectors (credentials such as bearer tokens and API keys, payment cards with the Luhn
check, IBANs with their mod-97 check, US social security numbers, e-mail addresses, phone numbers)
plus regular expressions an organisation adds.
A match becomes ``[redacted:<kind>]``. The `regex` module is used rather than `re` because it
can stop a match that runs too long: an organisation's pattern must not stall ingest.
"""

from __future__ import annotations

import itertools
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import regex

# Per item, all detectors together; past it the whole text is withheld rather than risk a leak.
TIME_LIMIT_SECONDS = 0.25
WITHHELD = "[redacted:unprocessable]"


def luhn(candidate: str) -> bool:
    digits = [int(c) for c in candidate if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _iban(candidate: str) -> bool:
    compact = candidate.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    try:
        return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1
    except ValueError:
        return False


_DATE = regex.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{4}")


def _phone(candidate: str) -> bool:
    # Years, prices, dates and opening hours are numbers too; a phone number has 8 digits or more.
    return sum(c.isdigit() for c in candidate) >= 8 and not _DATE.fullmatch(candidate)


_DIGIT = regex.compile(r"\d")
_AT = regex.compile("@")

# Credentials people paste: an Authorization header, a JWT, the documented shapes of common API
# keys, and long random-looking tokens. Known prefixes are enough on their own; a bare long token
# must also look random (see `_secret`), so that long words and ids in reviews are left alone.
_KNOWN_SECRET = (
    r"(?i:bearer)\s+[A-Za-z0-9._~+/-]{16,}=*"
    r"|eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}"
    r"|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9]{16,}"
    r"|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}"
    r"|xox[abposr]-[A-Za-z0-9-]{11,}"
    r"|(?:AKIA|ASIA)[A-Z0-9]{16}"
    r"|ya29\.[A-Za-z0-9_-]{20,}|AIza[A-Za-z0-9_-]{35}"
)
_LONG_TOKEN = r"[A-Za-z0-9_-]{32,}"
_KNOWN_SECRET_RE = regex.compile(_KNOWN_SECRET)
# Every credential above is a run of at least 16 such characters, which words seldom are: one
# scan for that (with `re`, several times faster than `regex` at this) skips most reviews.
_SECRET_GATE = re.compile(r"[A-Za-z0-9_.+/~-]{16}")
MIN_TOKEN_ENTROPY = 4.0  # bits per character; random base62 of 32+ characters is about 4.6
MIN_CLASS_CHANGES = 0.3


def _secret(candidate: str) -> bool:
    if candidate[:6].lower() == "bearer":
        # "Bearer" is an English word too: what follows must look like a token, not a word.
        token = candidate.split(None, 1)[-1]
        return any(c.isdigit() for c in token) or any(c.isupper() for c in token[1:])
    if _KNOWN_SECRET_RE.fullmatch(candidate):
        return True
    return _random_looking(candidate)


def _class(c: str) -> int:
    return 0 if c.isdigit() else 1 if c.isupper() else 2 if c.islower() else 3


def _random_looking(token: str) -> bool:
    """Digits, upper and lower case mixed as in random text: the character class changes at
    about 60 % of neighbouring characters in a random token (below 30 % in 1 of 1,000), at a
    word boundary only in words joined up ("Hyphenated-Words-2024"), and the characters are as
    varied as random ones. A long word, a lower-case id or a hex digest is left alone."""
    classes = [_class(c) for c in token]
    if not {0, 1, 2} <= set(classes):
        return False
    pairs = [(a, b) for a, b in itertools.pairwise(classes) if a != 3 and b != 3]
    if sum(a != b for a, b in pairs) < MIN_CLASS_CHANGES * len(pairs):
        return False
    counts = Counter(token)
    entropy = -sum(n / len(token) * math.log2(n / len(token)) for n in counts.values())
    return entropy >= MIN_TOKEN_ENTROPY


@dataclass(frozen=True)
class Detector:
    kind: str
    pattern: regex.Pattern[str]
    check: Callable[[str], bool] | None = None
    # Most reviews have no digit and no "@": one cheap scan skips the detector entirely.
    gate: regex.Pattern[str] | re.Pattern[str] = _DIGIT


# Order matters: a card number would otherwise be taken for a phone number, and the digits of a
# token for a card.
DETECTORS: tuple[Detector, ...] = (
    Detector(
        "secret",
        regex.compile(rf"(?<![A-Za-z0-9_.-])(?:{_KNOWN_SECRET}|{_LONG_TOKEN})(?![A-Za-z0-9_-])"),
        _secret,
        gate=_SECRET_GATE,
    ),
    Detector("card", regex.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])"), luhn),
    Detector(
        "iban",
        # Printed in groups of four, or written without spaces.
        regex.compile(
            r"\b[A-Z]{2}\d{2}(?:(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?|[A-Z0-9]{11,30})\b"
        ),
        _iban,
    ),
    Detector("ssn", regex.compile(r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b")),
    Detector(
        "email",
        regex.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}", regex.UNICODE),
        gate=_AT,
    ),
    Detector(
        "phone",
        regex.compile(r"(?<![\w+])\+?(?:\(\d{1,4}\)[ .-]?)?\d(?:[ .-]?\d){6,14}(?!\w)"),
        _phone,
    ),
)
KINDS = tuple(d.kind for d in DETECTORS)


class PatternRefused(ValueError):
    """An organisation's pattern cannot be used; the message says why."""


# Inputs that make a badly written pattern backtrack for seconds or hours.
_TORTURE = ("a" * 3000 + "!", "0" * 3000 + "x", " " * 3000 + "\n", "ab" * 1500 + "@", "a@" * 1500)


def compile_custom(pattern: str) -> regex.Pattern[str]:
    """Compile an organisation's pattern, refusing invalid ones and catastrophic backtracking."""
    if not pattern or len(pattern) > 500:
        raise PatternRefused("a pattern must be 1 to 500 characters")
    try:
        compiled = regex.compile(pattern, regex.V1)
    except regex.error as exc:
        raise PatternRefused(f"not a valid regular expression: {exc}") from None
    if compiled.search("", timeout=0.05) is not None:
        raise PatternRefused("the pattern matches empty text")
    for text in _TORTURE:
        try:
            compiled.search(text, timeout=0.05)
        except TimeoutError:
            raise PatternRefused(
                "the pattern backtracks catastrophically (too slow on long input)"
            ) from None
    return compiled


@dataclass(frozen=True)
class Policy:
    """What one organisation redacts: built-in detectors left on, and its own patterns."""

    enabled: frozenset[str] = frozenset(KINDS)
    custom: tuple[tuple[str, regex.Pattern[str]], ...] = ()

    @classmethod
    def build(
        cls, *, disabled: Iterable[str] = (), patterns: Iterable[tuple[str, str]] = ()
    ) -> Policy:
        return cls(
            enabled=frozenset(KINDS) - frozenset(disabled),
            custom=tuple((name, compile_custom(pattern)) for name, pattern in patterns),
        )


DEFAULT_POLICY = Policy()


@dataclass
class Redacted:
    text: str
    counts: Counter[str] = field(default_factory=Counter)


def redact(text: str, policy: Policy = DEFAULT_POLICY) -> Redacted:
    """Replace every match by ``[redacted:<kind>]``. If the detectors run past the time limit,
    the whole text is withheld: the original must never reach storage."""
    result = Redacted(text)
    deadline = time.monotonic() + TIME_LIMIT_SECONDS
    gates: dict[regex.Pattern[str] | re.Pattern[str], bool] = {}
    steps = []
    for d in DETECTORS:
        if d.kind not in policy.enabled:
            continue
        if d.gate not in gates:
            gates[d.gate] = d.gate.search(text) is not None
        if gates[d.gate]:
            steps.append((d.kind, d.pattern, d.check))
    steps += [(name, pattern, None) for name, pattern in policy.custom]
    if not steps:
        return result
    for kind, pattern, check in steps:

        def replace(match: regex.Match[str], kind: str = kind, check=check) -> str:
            if check is not None and not check(match.group()):
                return match.group()
            result.counts[kind] += 1
            return f"[redacted:{kind}]"

        try:
            budget = deadline - time.monotonic()
            if budget <= 0:
                raise TimeoutError
            result.text = pattern.sub(replace, result.text, timeout=budget)
        except TimeoutError:
            return Redacted(WITHHELD, Counter({"unprocessable": 1}))
    return result


# Every built-in detector's gate in one scan (built from the gates, so it cannot drift from
# them): a text that passes none of them is one no built-in detector would even look at.
_ANY_GATE = re.compile("|".join(f"(?:{p})" for p in sorted({d.gate.pattern for d in DETECTORS})))


def redacted_text(text: str, policy: Policy = DEFAULT_POLICY) -> str:
    """``redact(text, policy).text``, at the cost of one scan for the many texts (most reviews)
    that no detector of the policy would look at: ingest redacts every text it stores."""
    if not policy.custom and _ANY_GATE.search(text) is None:
        return text
    return redact(text, policy).text


def find(text: str, policy: Policy = DEFAULT_POLICY) -> Counter[str]:
    """What ``redact`` would remove (to warn before a reply goes out)."""
    return redact(text, policy).counts
