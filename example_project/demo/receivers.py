"""What a host site does when money moves: log it and tell the people involved.

The payments app sends each signal once per payment transition, after MongoDB
has recorded it.  Receivers here stay small and idempotent (a unique constraint
on the notification), because an operator may re-dispatch a signal after fixing
a failing receiver.
"""

import logging

from django.contrib.auth import get_user_model
from django.db import IntegrityError

from django_skillswap_payments import signals
from django_skillswap_payments.documents import PaymentProfile
from django_skillswap_payments.money import from_minor_units, normalize_currency

from .models import Notification

logger = logging.getLogger(__name__)


def connect() -> None:
    signals.premium_payment_completed.connect(on_premium_completed, dispatch_uid="demo.premium_completed")
    signals.tip_payment_completed.connect(on_tip_completed, dispatch_uid="demo.tip_completed")
    signals.payment_failed.connect(on_payment_failed, dispatch_uid="demo.payment_failed")
    signals.payment_refunded.connect(on_payment_refunded, dispatch_uid="demo.payment_refunded")
    signals.duplicate_payment_refunded.connect(on_duplicate_refunded, dispatch_uid="demo.duplicate_refunded")
    signals.tip_paid_out.connect(on_tip_paid_out, dispatch_uid="demo.tip_paid_out")


def on_premium_completed(sender, payment, from_user_id, amount_minor, currency, **kwargs):
    logger.info("premium unlocked for profile %s (payment %s, %s %s)", from_user_id, payment.id, amount_minor, currency)
    _notify(from_user_id, "premium", payment, f"Welcome to Premium! We received {_money(amount_minor, currency)}.")


def on_tip_completed(sender, payment, from_user_id, to_user_id, amount_minor, currency, **kwargs):
    sender_name = _display_name(from_user_id) or "Someone"
    recipient_name = _display_name(to_user_id) or "another member"
    money = _money(amount_minor, currency)
    logger.info("tip %s completed: %s -> %s, %s %s", payment.id, from_user_id, to_user_id, amount_minor, currency)
    _notify(from_user_id, "tip_sent", payment, f"You tipped {recipient_name} {money}.")
    note = f": “{payment.message}”" if getattr(payment, "message", "") else "."
    _notify(to_user_id, "tip_received", payment, f"{sender_name} tipped you {money}{note}")


def on_payment_failed(sender, payment, from_user_id, amount_minor, currency, final=True, **kwargs):
    reason = getattr(payment, "failure_reason", "") or "the payment did not go through"
    what = f"{_KINDS.get(payment.transaction_type, 'payment')} of {_money(amount_minor, currency)}"
    if not final:
        # The Checkout page is still open: this was one attempt, not the end.
        _notify(from_user_id, "declined", payment, f"{reason} Your {what} can still go through: try again on the same checkout page.")
        return
    if reason in _ENDED:
        _notify(from_user_id, "failed", payment, f"Your {what} was not completed: {_ENDED[reason]}.")
        return
    _notify(from_user_id, "failed", payment, f"Your {what} failed: {reason}")


def on_payment_refunded(sender, payment, from_user_id, amount_minor, currency, **kwargs):
    what = _KINDS.get(payment.transaction_type, "payment")
    _notify(from_user_id, "refunded", payment, f"Your {what} of {_money(amount_minor, currency)} was refunded.")


def on_duplicate_refunded(sender, payment, from_user_id, amount_minor, currency, **kwargs):
    # Premium stays: it was granted by the user's first payment.
    _notify(from_user_id, "refunded", payment, f"You paid for Premium twice; we refunded the second payment of {_money(amount_minor, currency)}.")


def on_tip_paid_out(sender, payment, transfer_id, **kwargs):
    received = payment.amount_minor - (payment.application_fee_minor or 0)
    _notify(payment.to_user_id, "tip_paid_out", payment, f"{_money(received, payment.currency)} of a tip was paid out to your account.")


# Why a checkout ended unpaid, in words (failure_reason of a final payment_failed).
_ENDED = {
    "checkout_expired": "the checkout expired",
    "checkout_canceled": "the checkout was canceled",
    "checkout_not_found": "the checkout is no longer available",
}
_KINDS = {"premium": "Premium payment", "tip": "tip"}
# What the front end's Intl.NumberFormat("en-US") writes before the amount; other currencies get their code.
_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$"}


def _money(amount_minor, currency) -> str:
    """``100000, "usd"`` -> ``$1,000.00``: grouped, with the currency's own number of decimals."""
    code = normalize_currency(str(currency))
    value = from_minor_units(int(amount_minor), code)
    symbol = _SYMBOLS.get(code)
    return f"{symbol}{value:,}" if symbol else f"{code.upper()} {value:,}"


def _django_user(profile_id):
    profile = PaymentProfile.objects(id=profile_id).first() if profile_id else None
    if profile is None:
        return None
    return get_user_model().objects.filter(pk=profile.django_user_id).first()


def _display_name(profile_id):
    """The name the rest of the site shows (full name, else username)."""
    user = _django_user(profile_id)
    return (user.get_full_name() or user.get_username()) if user else None


def _notify(profile_id, kind, payment, text) -> None:
    user = _django_user(profile_id)
    if user is None:
        return
    try:
        Notification.objects.create(user=user, kind=kind, payment_id=str(payment.id), text=text[:400])
    except IntegrityError:
        logger.info("notification %s for payment %s already recorded", kind, payment.id)
