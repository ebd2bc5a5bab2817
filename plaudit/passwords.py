"""Which passwords are refused, after NIST SP 800-63B §5.1.1.2: at least 10 characters, no upper
limit short of a denial of service, no composition rules — and none that is common, breached,
a dictionary word, repetitive or sequential. zxcvbn (Dropbox's estimator) carries the lists of
common and breached passwords and the repeat/sequence/keyboard patterns; a password it scores
below 3 ("safely unguessable": about 10^8 guesses) is refused with its own reason."""

from __future__ import annotations

import re

from zxcvbn import zxcvbn

MIN_LENGTH = 10
MIN_SCORE = 3
# zxcvbn's cost grows with length; beyond this the prefix decides (a long phrase is not common).
_CHECKED_CHARS = 100


def weakness(password: str, *, context: tuple[str, ...] = ()) -> str | None:
    """Why the password is refused, or None. ``context``: the person's own words (name, e-mail,
    organisation), which NIST counts as guessable too."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters"
    words = {w.lower() for c in context for w in re.split(r"[\W_]+", c) if len(w) > 2}
    result = zxcvbn(password[:_CHECKED_CHARS], user_inputs=sorted(words))
    if result["score"] >= MIN_SCORE:
        return None
    warning = result["feedback"].get("warning") or "it is too easy to guess"
    return f"is too easy to guess ({warning.rstrip('.')}); a few unrelated words are better"
