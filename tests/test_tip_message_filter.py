"""The tip-message filter: no character that hides text or steers its direction gets through."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from django_skillswap_payments.errors import InvalidMessage
from django_skillswap_payments.services.checkout import clean_tip_message
from tests.support.api import CANCEL_URL, SUCCESS_URL, TIP_URL
from tests.support.database import assert_nothing_written, profile_of, snapshot

# Every Unicode bidi class that embeds, overrides or isolates, or terminates one.
EXPLICIT_BIDI_CLASSES = ("LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI")
ALL_CHARACTERS = [chr(code) for code in range(sys.maxunicode + 1)]
DIRECTION_CHARACTERS = [c for c in ALL_CHARACTERS if unicodedata.bidirectional(c) in EXPLICIT_BIDI_CLASSES] + [
    "\u200e",  # LEFT-TO-RIGHT MARK
    "\u200f",  # RIGHT-TO-LEFT MARK
    "\u061c",  # ARABIC LETTER MARK
]
KEPT_FORMAT_CHARACTERS = {"\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", *map(chr, range(0xE0020, 0xE0080))}
REFUSED_FORMAT_CHARACTERS = [
    c for c in ALL_CHARACTERS if unicodedata.category(c) == "Cf" and c not in KEPT_FORMAT_CHARACTERS
]


def _refused(text: str) -> bool:
    try:
        clean_tip_message(text)
    except InvalidMessage as exc:
        assert exc.error == "Message contains control characters"
        return True
    return False


def test_the_direction_class_is_what_the_filter_covers():
    # The explicit classes and the three marks, as this Python's Unicode defines them.
    assert {"\u202a", "\u202e", "\u2066", "\u2069", "\u061c"} <= set(DIRECTION_CHARACTERS)
    assert len(DIRECTION_CHARACTERS) >= 12


@pytest.mark.parametrize("position", ["start", "middle", "end", "alone"])
def test_every_direction_character_is_refused(position):
    def place(char: str) -> str:
        return {"start": char + "thanks", "middle": "than" + char + "ks", "end": "thanks" + char,
                "alone": char}[position]

    accepted = [f"U+{ord(c):04X}" for c in DIRECTION_CHARACTERS if not _refused(place(c))]
    assert accepted == []


def test_every_other_invisible_format_character_is_refused():
    accepted = [f"U+{ord(c):04X}" for c in REFUSED_FORMAT_CHARACTERS if not _refused("a" + c + "b")]
    assert accepted == []


def test_control_characters_and_lone_surrogates_are_refused():
    controls = [c for c in ALL_CHARACTERS if unicodedata.category(c) in ("Cc", "Cs") and c not in "\n\r\t "]
    accepted = [f"U+{ord(c):04X}" for c in controls if not _refused("a" + c + "b")]
    assert accepted == []


@pytest.mark.parametrize(
    "text",
    [
        "Thanks! \U0001f468\u200d\U0001f469\u200d\U0001f467",  # family: ZERO WIDTH JOINER sequence
        "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # flag of Scotland: tags
        "\u2764\ufe0f 1\ufe0f\u20e3 \U0001f44d\U0001f3fd",  # variation selector, keycap, skin tone
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian with ZERO WIDTH NON-JOINER
        "\u0939\u093f\u0928\u094d\u200d\u0926\u0940",  # Devanagari with a joiner
        "\u05ea\u05d5\u05d3\u05d4 \u05e8\u05d1\u05d4",  # Hebrew: right-to-left letters are text
        "\u0634\u0643\u0631\u0627 \u0644\u0643",  # Arabic
        "Zusammen\u00adarbeit",  # soft hyphen
        "\u0e02\u0e2d\u0e1a\u200b\u0e04\u0e38\u0e13",  # Thai with ZERO WIDTH SPACE
        "no\u2060break",  # word joiner
        "two\nlines\r\nthree",
    ],
)
def test_ordinary_text_still_passes(text):
    assert clean_tip_message(text) == text.replace("\r\n", "\n")


@pytest.mark.django_db
@pytest.mark.parametrize("char", DIRECTION_CHARACTERS + ["\ufeff", "\u180e", "\u2064", "\ufff9", "\U0001d173"])
def test_api_refuses_them_without_writing(emulated_stripe, alice_client, alice, bob, mongo_database, char):
    profile_of(alice)
    recipient = profile_of(bob)
    before = snapshot(mongo_database)
    body = {"to_user_id": str(recipient.id), "amount": 5, "message": f"nice {char}session",
            "success_url": SUCCESS_URL, "cancel_url": CANCEL_URL}

    response = alice_client.post(TIP_URL, body, format="json")

    assert response.status_code == 400
    assert response.json() == {"error": "Invalid tip message", "message": "message: Message contains control characters"}
    assert emulated_stripe.requests == []
    assert_nothing_written(mongo_database, before)
