"""Payments paid through the Stripe emulator, ready to be refunded, and the staff side of the API."""

from __future__ import annotations

from typing import Any

from django_skillswap_payments import repository, services
from tests.support.api import BASE, CANCEL_URL, SUCCESS_URL
from tests.support.database import profile_of

URLS = {"success_url": SUCCESS_URL, "cancel_url": CANCEL_URL}
REFUND_FAILS_CARD = "4000 0000 0000 5126"


def refund_url(payment_id: Any) -> str:
    return f"{BASE}payments/{payment_id}/refund/"


def paid_premium(emulator, user, card: str = "4242 4242 4242 4242"):
    """A premium payment of ``user``, paid on the emulator's hosted page and completed."""
    profile = profile_of(user)
    start = services.start_premium_checkout(profile, **URLS)
    assert emulator.submit_payment(start.session_id, card).succeeded
    services.confirm_checkout_session(profile, start.session_id)
    return repository.get_payment(start.payment.id)


def paid_tip(emulator, sender, recipient, amount: str = "12.50", card: str = "4242 4242 4242 4242"):
    """A tip from ``sender`` to ``recipient``, paid and completed."""
    profile = profile_of(sender)
    start = services.start_tip_checkout(profile, recipient=profile_of(recipient), amount=amount, **URLS)
    assert emulator.submit_payment(start.session_id, card).succeeded
    services.confirm_checkout_session(profile, start.session_id)
    return repository.get_payment(start.payment.id)


def stripe_refunds(emulator, payment) -> list[dict[str, Any]]:
    """The refunds Stripe holds for ``payment``, oldest first."""
    return [r for r in emulator.all("refund") if r["payment_intent"] == payment.stripe_payment_intent_id]
