"""Stripe's test card numbers and what each one does at checkout."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

SUCCEED = "succeed"
DECLINE = "decline"
AUTHENTICATE = "authenticate"


@dataclass(frozen=True)
class CardSpec:
    """One test card: its brand and the outcome Stripe gives it."""

    number: str
    brand: str
    behaviour: str
    funding: str = "credit"
    #: For declines: (error code, decline code, customer-facing message).
    decline: tuple[str, str | None, str] | None = None


#: Pays, but every refund of its charges fails a moment later (see :mod:`.refunds`).
REFUND_FAILS_CARD = "4000000000005126"

_GENERIC_DECLINE = ("card_declined", "generic_decline", "Your card was declined.")

#: The test cards the hosted page honours, keyed by number without spaces.
TEST_CARDS: dict[str, CardSpec] = {
    card.number: card
    for card in (
        CardSpec("4242424242424242", "visa", SUCCEED),
        CardSpec("4000056655665556", "visa", SUCCEED, funding="debit"),
        CardSpec("5555555555554444", "mastercard", SUCCEED),
        CardSpec("378282246310005", "amex", SUCCEED),
        CardSpec(REFUND_FAILS_CARD, "visa", SUCCEED),
        # Paid, then disputed (see disputes.py).
        CardSpec("4000000000000259", "visa", SUCCEED),
        CardSpec("4000000000002685", "visa", SUCCEED),
        CardSpec("4000000000001976", "visa", SUCCEED),
        CardSpec("4000002500003155", "visa", AUTHENTICATE),
        CardSpec("4000002760003184", "visa", AUTHENTICATE),
        CardSpec("4000000000000002", "visa", DECLINE, decline=_GENERIC_DECLINE),
        CardSpec(
            "4000000000009995",
            "visa",
            DECLINE,
            decline=("card_declined", "insufficient_funds", "Your card has insufficient funds."),
        ),
        CardSpec(
            "4000000000009987",
            "visa",
            DECLINE,
            decline=("card_declined", "lost_card", "Your card was declined."),
        ),
        CardSpec(
            "4000000000000069",
            "visa",
            DECLINE,
            decline=("expired_card", None, "Your card has expired."),
        ),
        CardSpec(
            "4000000000000127",
            "visa",
            DECLINE,
            decline=("incorrect_cvc", None, "Your card's security code is incorrect."),
        ),
        CardSpec(
            "4000000000000119",
            "visa",
            DECLINE,
            decline=(
                "processing_error",
                None,
                "An error occurred while processing your card. Try again in a little bit.",
            ),
        ),
    )
}

#: Message Stripe gives when a real (non-test) card is used with a test key.
LIVE_CARD_IN_TEST_MODE = (
    "Your card was declined. Your request was in test mode, but used a non test (live) card. "
    "For a list of valid test cards, visit: https://stripe.com/docs/testing."
)

AUTHENTICATION_FAILED = "We are unable to authenticate your payment method. Please choose a different payment method and try again."


class CardInputError(ValueError):
    """The card form is incomplete or malformed (Stripe.js rejects these before any API call)."""

    def __init__(self, code: str, message: str, field: str):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


def normalise_number(number: str) -> str:
    return re.sub(r"[\s-]", "", number or "")


def luhn_valid(number: str) -> bool:
    digits = [int(d) for d in number]
    checksum = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        checksum += digit
    return checksum % 10 == 0


def parse_expiry(text: str, *, current_year: int, current_month: int) -> tuple[int, int]:
    """``"12 / 34"``, ``"12/2034"`` or ``"1234"`` -> ``(12, 2034)``; rejects past or malformed dates."""
    compact = re.sub(r"\s", "", text or "")
    match = re.fullmatch(r"(\d{1,2})/?(\d{2}|\d{4})", compact)
    if not match:
        raise CardInputError(
            "incomplete_expiry", "Your card's expiration date is incomplete.", "cardExpiry"
        )
    month, year = int(match.group(1)), int(match.group(2))
    if year < 100:
        year += 2000
    if not 1 <= month <= 12:
        raise CardInputError(
            "invalid_expiry_month", "Your card's expiration month is invalid.", "cardExpiry"
        )
    if (year, month) < (current_year, current_month):
        raise CardInputError(
            "invalid_expiry_year_past", "Your card's expiration year is in the past.", "cardExpiry"
        )
    return month, year


def check_card(number: str, cvc: str) -> str:
    """Validate the typed number and CVC; returns the normalised number."""
    digits = normalise_number(number)
    if not digits.isdigit() or not 13 <= len(digits) <= 19:
        raise CardInputError("incomplete_number", "Your card number is incomplete.", "cardNumber")
    if not luhn_valid(digits):
        raise CardInputError("incorrect_number", "Your card number is invalid.", "cardNumber")
    expected_cvc = 4 if digits.startswith(("34", "37")) else 3
    if not re.fullmatch(rf"\d{{{expected_cvc}}}", (cvc or "").strip()):
        raise CardInputError(
            "incomplete_cvc", "Your card's security code is incomplete.", "cardCvc"
        )
    return digits


def lookup(number: str) -> CardSpec | None:
    return TEST_CARDS.get(normalise_number(number))


def fingerprint(number: str) -> str:
    """Stable per card number, like Stripe's ``card.fingerprint``."""
    return hashlib.sha256(number.encode()).hexdigest()[:16]


def brand_for(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number.startswith(("34", "37")):
        return "amex"
    if number[:2] in {"51", "52", "53", "54", "55"} or number[:1] == "2":
        return "mastercard"
    return "unknown"
