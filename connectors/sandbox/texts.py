"""Text fixtures for seeded reviews: the awkward shapes real review text comes in.

Google-translated reviews carry both texts in one `comment`; right-to-left scripts, emoji and
near-limit lengths are mixed in because they are what breaks storage, search and rendering.
"""

from __future__ import annotations

# Each text with the stars its tone goes with (lowest, highest): the seed draws a review's
# rating within them, so that "The food was cold" does not come with five stars. A text that
# names its stars has exactly those.
_ENGLISH = (
    ("Great service, friendly staff. Will come back!", (4, 5)),
    ("The food was cold and we waited 40 minutes.", (1, 2)),
    ("Decent place, nothing special.", (3, 3)),
    ("Absolutely loved it. The best coffee in town.", (5, 5)),
    ("Clean, quick and cheap. What more do you want?", (4, 5)),
    ("Booked online, showed up, nobody knew about the booking.", (1, 2)),
    ("Staff went out of their way to help my elderly mother. Thank you.", (5, 5)),
    ("Parking is a nightmare but the shop itself is fine.", (3, 4)),
    ("Prices went up again & the portions went down :(", (2, 3)),
    ("5 stars for Maria at the front desk <3", (5, 5)),
    ("Not bad.\nNot great either.\nMiddle of the road.", (3, 3)),
    ('They said "ready in 10 minutes" — it took an hour.', (1, 2)),
)

_EMOJI = (
    ("Amazing!!! 🎉🎉🎉 Best pizza 🍕 ever", (5, 5)),
    ("👍👍", (4, 5)),
    ("Service 👎 food 👌 vibe 🔥", (2, 4)),
    ("Came for the cake 🎂, stayed for the people ❤️‍🔥 👨‍👩‍👧‍👦", (5, 5)),
    ("🙂", (4, 4)),
)

_RIGHT_TO_LEFT = (
    ("خدمة ممتازة وموظفون ودودون. سأعود بالتأكيد!", (5, 5)),
    ("الطعام كان باردا والانتظار طويل جدا.", (1, 2)),
    ("שירות מעולה, ממליץ בחום!", (5, 5)),
    ("המקום היה מלוכלך והצוות לא נחמד.", (1, 2)),
    ("Good coffee, but the sign says ״סגור״ at noon — مغلق?", (3, 4)),
)

# (english translation, original) pairs, shown the way Google embeds them in `comment`.
_TRANSLATED = (
    (("Very good food, friendly service.", "Sehr gutes Essen, freundliche Bedienung."), (4, 5)),
    (("The room was dirty.", "La chambre était sale."), (1, 2)),
    (("Excellent value for money!", "¡Excelente relación calidad-precio!"), (5, 5)),
    (("The staff were very kind.", "スタッフがとても親切でした。"), (4, 5)),
    (("Excellent service, I will definitely come back!", "خدمة ممتازة، سأعود بالتأكيد!"), (5, 5)),
    (("Great atmosphere.", "אווירה נהדרת."), (4, 5)),
    (("Tasty but expensive 😅", "Вкусно, но дорого 😅"), (3, 4)),
)

ENGLISH = tuple(text for text, _ in _ENGLISH)
EMOJI = tuple(text for text, _ in _EMOJI)
RIGHT_TO_LEFT = tuple(text for text, _ in _RIGHT_TO_LEFT)
TRANSLATED = tuple(pair for pair, _ in _TRANSLATED)
# The stars by text (a translated review's by its English).
STARS: dict[str, tuple[int, int]] = {
    **dict(_ENGLISH), **dict(_EMOJI), **dict(_RIGHT_TO_LEFT),
    **{english: stars for (english, _), stars in _TRANSLATED},
}  # fmt: skip

REPLIES = (
    "Thank you for your kind words! We hope to see you again soon.",
    "We're sorry to hear about your experience. Please contact us so we can make it right.",
    "Thanks for the feedback — we've shared it with the team.",
    "¡Gracias por tu visita!",
    "شكرا لك على تقييمك!",
    "Thank you 🙏",
)

FIRST_NAMES = (
    "Anna",
    "Ben",
    "Chloé",
    "Dmitri",
    "Emeka",
    "Fatima",
    "Giulia",
    "Hiro",
    "Ingrid",
    "José",
    "Kwame",
    "Lena",
    "Mohammed",
    "Nadia",
    "Olu",
    "Priya",
    "Quentin",
    "Rosa",
    "Søren",
    "Tomás",
    "Uma",
    "Viktor",
    "Wei",
    "Yael",
    "Zoë",
    "Łukasz",
    "Ngọc",
    "Ayşe",
    "Björn",
    "Siobhán",
)

LAST_INITIALS = "ABCDEFGHIJKLMNOPRSTVWZ"

CITIES = (
    ("Berlin", "DE", "10115", "de"),
    ("Paris", "FR", "75001", "fr"),
    ("London", "GB", "SW1A 1AA", "en"),
    ("New York", "US", "10001", "en"),
    ("Madrid", "ES", "28001", "es"),
    ("Tel Aviv", "IL", "6100000", "he"),
    ("Dubai", "AE", "00000", "ar"),
    ("Tokyo", "JP", "100-0001", "ja"),
)

CATEGORIES = (
    ("categories/gcid:restaurant", "Restaurant"),
    ("categories/gcid:cafe", "Cafe"),
    ("categories/gcid:hair_salon", "Hair salon"),
    ("categories/gcid:dentist", "Dentist"),
    ("categories/gcid:hotel", "Hotel"),
    ("categories/gcid:car_repair", "Auto repair shop"),
)

BUSINESS_WORDS = ("Corner", "Golden", "Blue", "Harbour", "Green", "Little", "Royal", "Urban")
BUSINESS_KINDS = ("Bistro", "Café", "Salon", "Dental", "Hotel", "Garage", "Bakery", "Studio")


def translated(english: str, original: str) -> str:
    return f"(Translated by Google) {english}\n\n(Original)\n{original}"


def long_comment(length: int = 4000) -> str:
    """A rambling review of exactly `length` characters, with multi-byte text inside."""
    parts = []
    size = 0
    i = 0
    pool = ENGLISH + EMOJI[:2] + RIGHT_TO_LEFT[:1]
    while size < length:
        sentence = pool[i % len(pool)] + " "
        parts.append(sentence)
        size += len(sentence)
        i += 1
    return "".join(parts)[:length]
