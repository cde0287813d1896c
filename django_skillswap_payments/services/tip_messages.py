"""What a tip message may hold: it is shown to its recipient, so nothing may hide text.

Line breaks are ordinary text; control characters, characters that steer text
direction and invisible format characters (other than those ordinary text needs)
are refused.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from ..conf import payments_settings
from ..errors import InvalidMessage

# Characters that steer text direction: the explicit formatting classes (embeddings,
# overrides, isolates and their terminators), read from unicodedata so characters a
# newer Unicode adds to them are refused too, and the invisible marks, whose bidi
# classes (L, R, AL) they share with letters: LRM, RLM and ARABIC LETTER MARK.
BIDI_CONTROL_CLASSES = frozenset({"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"})
BIDI_MARKS = frozenset("\u200e\u200f\u061c")
# The invisible format characters (category Cf) ordinary text needs: the soft hyphen,
# zero-width space, non-joiner and joiner (Persian and Indic scripts, emoji sequences),
# word joiner, and the tag characters of subdivision flag emoji. Every other Cf character
# is refused.
TEXT_FORMAT_CHARACTERS = frozenset("\u00ad\u200b\u200c\u200d\u2060") | frozenset(map(chr, range(0xE0020, 0xE0080)))


def clean_tip_message(message: Any) -> str | None:
    """Strip a tip message and enforce ``TIP_MESSAGE_MAX_LENGTH``; ``None`` when empty.

    Line breaks are allowed. Refused: other control characters, lone
    surrogates, every character that steers text direction
    (:data:`BIDI_CONTROL_CLASSES`, :data:`BIDI_MARKS`) and invisible format
    characters other than :data:`TEXT_FORMAT_CHARACTERS`. Raises ``InvalidMessage``.
    """
    if message is None:
        return None
    if not isinstance(message, str):
        raise InvalidMessage("Message must be text")
    text = message.replace("\r\n", "\n").strip()
    if not text:
        return None
    limit = payments_settings.tip_message_max_length
    if len(text) > limit:
        raise InvalidMessage(f"Message must be at most {limit} characters")
    if any(_is_hidden_control(char) for char in text):
        raise InvalidMessage("Message contains control characters")
    return text


def _is_hidden_control(char: str) -> bool:
    if char == "\n":
        return False
    category = unicodedata.category(char)
    if category in ("Cc", "Cs") or char in BIDI_MARKS:
        return True
    if unicodedata.bidirectional(char) in BIDI_CONTROL_CLASSES:
        return True
    return category == "Cf" and char not in TEXT_FORMAT_CHARACTERS
