"""Stripe Connect: tips reach their recipients.

A recipient onboards an Express account (:func:`start_onboarding`), once per
profile: concurrent starts create one account, because the Stripe call's
idempotency key is derived from the profile and the profile takes the account
id in a conditional write. ``account.updated`` keeps the account's state on
the profile (:func:`sync_account`); a disconnected account is forgotten, and so
is one Stripe answers it does not have (:func:`forget_missing_account`).

A tip to a recipient whose account can be paid is a destination charge: the
Checkout Session transfers the amount to the account and keeps
:func:`platform_fee_minor` (``payout_status`` ``destination``, then
``paid_out`` once the completed payment's charge names its transfer). A tip
to a recipient who cannot be paid yet is refused
(:class:`~django_skillswap_payments.errors.RecipientNotOnboarded`), or, with
``REQUIRE_ONBOARDED_RECIPIENT`` off, held by the platform (``held``) and paid
out later with a Transfer by :func:`pay_out_held_tips`, exactly once per tip:
the run claims the tip with a conditional write, the transfer's idempotency
key is the payment's id, and only the write that moves the tip from ``held``
to ``paid_out`` announces it. ``tip_paid_out`` is sent once per tip, by
whichever caller wins that move.

With Connect off (the default) nothing here is called and tips behave as before.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bson import ObjectId

from .. import signals, stripe_connect_facts, stripe_facts, users
from ..connect_settings import ConnectSettings, connect_enabled, connect_settings
from ..documents import STATUS_COMPLETED, STATUS_REFUNDED, Payment, utcnow
from ..errors import ConnectNotEnabled, GatewayError, ProfileNotFound, RecipientNotOnboarded
from ..gateway import connect as stripe_connect
from ..money import to_minor_units
from ..repository import connect as connect_store
from ..repository.connect import (
    PAYOUT_DESTINATION,
    PAYOUT_HELD,
    PAYOUT_PAID_OUT,
)

logger = logging.getLogger("django_skillswap_payments.services")

# A payout claim older than this belongs to a run that died; another run may take the tip.
PAYOUT_CLAIM_SECONDS = 600

EMPTY_STATUS: dict[str, Any] = {
    "account_id": None,
    "details_submitted": False,
    "charges_enabled": False,
    "payouts_enabled": False,
    "requirements_due": [],
}


def require_connect() -> ConnectSettings:
    """The Connect settings; raises ``ConnectNotEnabled`` when Connect is off."""
    if not connect_enabled():
        raise ConnectNotEnabled()
    return connect_settings()


# -- fees and routing -----------------------------------------------------------


def platform_fee_minor(amount_minor: int, settings: ConnectSettings) -> int:
    """The platform's fee on a tip: ``PLATFORM_FEE_PERCENT`` of it rounded half up,
    at least ``MINIMUM_FEE_MINOR``, never more than the tip itself."""
    percent = settings.fee_percent or Decimal(0)
    fee = int((Decimal(amount_minor) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return min(max(fee, settings.minimum_fee_minor), amount_minor)


def can_be_paid(profile: Any) -> bool:
    """Whether the profile's account can receive a tip now (Stripe enabled its charges)."""
    return bool(getattr(profile, "connect_account_id", None) and getattr(profile, "connect_charges_enabled", False))


def tip_payment_fields(recipient: Any, amount: Decimal, currency: str) -> dict[str, Any]:
    """How a new tip's money is routed, as fields of its payment; ``{}`` with Connect off.

    Raises ``RecipientNotOnboarded`` when the recipient cannot be paid and
    ``REQUIRE_ONBOARDED_RECIPIENT`` is on.
    """
    if not connect_enabled():
        return {}
    settings = connect_settings()
    fee = platform_fee_minor(to_minor_units(amount, currency), settings)
    state = connect_store.connect_profile(recipient.id)
    if state is not None and can_be_paid(state):
        return {
            "destination_account_id": state.connect_account_id,
            "application_fee_minor": fee,
            "payout_status": PAYOUT_DESTINATION,
        }
    if settings.require_onboarded_recipient:
        raise RecipientNotOnboarded()
    return {"application_fee_minor": fee, "payout_status": PAYOUT_HELD, "payout_held": True}


# -- onboarding and account state -----------------------------------------------


@dataclass(frozen=True)
class Onboarding:
    """Where to send the user to onboard (a single-use Stripe URL) and until when it works."""

    account_id: str
    url: str
    expires_at: dt.datetime | None


def start_onboarding(profile: Any, *, refresh_url: str, return_url: str) -> Onboarding:
    """The profile's Express account (created on the first call) and a fresh onboarding link.

    A stored account Stripe does not have is forgotten (:func:`forget_missing_account`)
    and a new one created. Raises ``ConnectNotEnabled``, ``ProfileNotFound``
    (the profile is not one of the app's payment profiles) and ``GatewayError``.
    """
    settings = require_connect()
    account_id = _account_of(profile, settings)
    try:
        created = stripe_connect.create_account_link(account_id, refresh_url=refresh_url, return_url=return_url)
    except GatewayError as exc:
        if not stripe_connect.names_missing_account(exc):
            raise
        forget_missing_account(account_id)
        account_id = _account_of(profile, settings)
        created = stripe_connect.create_account_link(account_id, refresh_url=refresh_url, return_url=return_url)
    link = stripe_connect_facts.account_link(created)
    if not link.url:
        raise GatewayError("api", "Stripe returned an account link without a URL")
    return Onboarding(account_id=account_id, url=link.url, expires_at=link.expires_at)


def _account_of(profile: Any, settings: ConnectSettings) -> str:
    """The profile's stored account id; an Express account is created and stored when it has none."""
    state = connect_store.connect_profile(profile.id)
    if state is None:
        raise ProfileNotFound()
    if state.connect_account_id:
        return str(state.connect_account_id)
    created = stripe_connect_facts.account(
        stripe_connect.create_express_account(
            profile, generation=state.connect_generation or 0, country=settings.account_country
        )
    )
    if not created.id:
        raise GatewayError("api", "Stripe returned an account without an id")
    stored = connect_store.take_account(profile.id, created.id)
    account_id = stored.connect_account_id if stored is not None else None
    if not account_id:
        raise GatewayError("api", "The connected account could not be stored")
    if account_id != created.id:
        logger.warning("Profile %s already has account %s; account %s is unused", profile.id, account_id, created.id)
    return str(account_id)


def forget_missing_account(account_id: str) -> None:
    """Stripe has no such account (deleted, or made with the other mode's keys): its profile
    forgets it as a disconnected one, so onboarding creates a new one and no tip is routed to it."""
    logger.warning("Stripe has no connected account %s (deleted, or made with the other mode's keys); "
                   "its profile forgets it", account_id)
    connect_store.disconnect(account_id)


def forgot_missing_destination(routing: dict[str, Any], error: GatewayError) -> bool:
    """Whether ``error`` refused a tip routed by ``routing`` (see :func:`tip_payment_fields`) because
    Stripe has no such destination account; that account is forgotten, so the tip may be routed again."""
    destination = routing.get("destination_account_id")
    if not destination or not stripe_connect.names_missing_account(error):
        return False
    forget_missing_account(destination)
    return True


def start_onboarding_for_user(user: Any, *, refresh_url: str, return_url: str) -> Onboarding:
    """:func:`start_onboarding` for a Django user, whose profile is created on first use."""
    require_connect()
    return start_onboarding(users.resolve_profile(user), refresh_url=refresh_url, return_url=return_url)


def account_status(profile: Any | None) -> dict[str, Any]:
    """``{account_id, details_submitted, charges_enabled, payouts_enabled, requirements_due}``.

    An account that cannot be paid yet is asked about at Stripe first (the
    user may just be back from onboarding, ahead of ``account.updated``);
    when Stripe cannot be reached the stored state is answered.
    """
    require_connect()
    state = connect_store.connect_profile(profile.id) if profile is not None else None
    if state is None or not state.connect_account_id:
        return {**EMPTY_STATUS, "requirements_due": []}
    if not can_be_paid(state):
        try:
            facts = stripe_connect_facts.account(stripe_connect.retrieve_account(state.connect_account_id))
        except GatewayError as exc:
            if stripe_connect.names_missing_account(exc, in_url=True):
                forget_missing_account(state.connect_account_id)
                return {**EMPTY_STATUS, "requirements_due": []}
            logger.warning("Could not refresh account %s: %s", state.connect_account_id, exc.error)
        else:
            state = sync_account(facts, reported_at=int(time.time())) or connect_store.connect_profile(state.id)
    if state is None:  # the profile went away meanwhile
        return {**EMPTY_STATUS, "requirements_due": []}
    return {
        "account_id": state.connect_account_id,
        "details_submitted": bool(state.connect_details_submitted),
        "charges_enabled": bool(state.connect_charges_enabled),
        "payouts_enabled": bool(state.connect_payouts_enabled),
        "requirements_due": list(state.connect_requirements_due or []),
    }


def sync_account(facts: stripe_connect_facts.AccountFacts, *, reported_at: int) -> Any | None:
    """Store an account's state; ``None`` if no profile has it or a newer report is stored."""
    if not facts.id:
        return None
    return connect_store.sync_account(
        facts.id,
        details_submitted=facts.details_submitted,
        charges_enabled=facts.charges_enabled,
        payouts_enabled=facts.payouts_enabled,
        requirements_due=facts.requirements_due,
        reported_at=reported_at,
    )


def disconnect_account(account_id: str) -> Any | None:
    """The account holder left the platform: their profile forgets the account.

    Tips already routed keep their records; new tips to them are refused or
    held until they onboard again.
    """
    return connect_store.disconnect(account_id)


# -- payouts ----------------------------------------------------------------------


def _announce_paid_out(payment: Payment) -> None:
    responses = signals.tip_paid_out.send_robust(sender=Payment, payment=payment, transfer_id=payment.transfer_id)
    # Logged only: the payout is not a status change, so there is nothing to re-dispatch.
    signals.receiver_failures(signals.tip_paid_out, payment, responses, transfer_id=payment.transfer_id)


def settle_destination_payout(payment_id: ObjectId) -> bool:
    """Move a completed destination tip whose transfer is known to ``paid_out``; announce it once."""
    updated = connect_store.mark_destination_paid_out(payment_id)
    if updated is None:
        return False
    _announce_paid_out(updated)
    return True


def after_completion(payment: Payment) -> bool:
    """A tip completed: if it was a destination charge, find its transfer and announce the payout.

    Returns whether this call moved the tip to ``paid_out``.
    The transfer is read from the PaymentIntent's charge; when Stripe cannot
    be asked now, the ``charge.succeeded`` webhook or the next
    ``payments_pay_out_held_tips`` run records it.
    """
    if getattr(payment, "payout_status", None) != PAYOUT_DESTINATION or payment.status != STATUS_COMPLETED:
        return False
    if not payment.transfer_id:
        if not payment.stripe_payment_intent_id:
            return False
        try:
            charge = stripe_connect_facts.intent_charge(
                stripe_connect.retrieve_intent_charge(payment.stripe_payment_intent_id)
            )
        except GatewayError as exc:
            logger.warning("Payment %s: could not read its transfer: %s", payment.id, exc.error)
            return False
        if not record_destination_transfer(payment, charge):
            return False
    return settle_destination_payout(payment.id)


def record_destination_transfer(payment: Payment, charge: stripe_connect_facts.DestinationChargeFacts) -> bool:
    """Note the transfer of a destination tip's charge; whether the charge is this tip's."""
    if (
        not charge.transfer_id
        or getattr(payment, "payout_status", None) not in (PAYOUT_DESTINATION, PAYOUT_PAID_OUT)
        or charge.destination != payment.destination_account_id
    ):
        return False
    connect_store.record_transfer(payment.id, charge.transfer_id)
    return True


@dataclass
class PayoutRun:
    """What one :func:`pay_out_held_tips` run did."""

    paid_out: list[ObjectId] = field(default_factory=list)
    # Recipients who cannot be paid yet: their tips stay held.
    waiting: list[ObjectId] = field(default_factory=list)
    # Tips another run is paying out right now.
    busy: list[ObjectId] = field(default_factory=list)
    failed: list[tuple[ObjectId, str]] = field(default_factory=list)
    # Destination tips whose payout was recorded by this run (a missed webhook).
    settled: list[ObjectId] = field(default_factory=list)
    reversed: list[ObjectId] = field(default_factory=list)


def pay_out_held_tips(*, limit: int = 100) -> PayoutRun:
    """Pay out held tips whose recipients can now be paid, each exactly once.

    Also records the payout of destination tips whose transfer was never
    reported and takes back the payout of held tips refunded after it
    (see :func:`reverse_payout`). Safe to run concurrently and repeatedly.
    """
    require_connect()
    run = PayoutRun()
    stale = utcnow() - dt.timedelta(seconds=PAYOUT_CLAIM_SECONDS)
    for tip in connect_store.held_tips(limit=limit, claimed_before=stale):
        state = connect_store.connect_profile(tip.to_user_id) if tip.to_user_id else None
        if state is None or not can_be_paid(state):
            run.waiting.append(tip.id)
            continue
        claimed = connect_store.claim_payout(tip.id, claimed_before=stale)
        if claimed is None:
            run.busy.append(tip.id)
            continue
        try:
            paid = _pay_out(claimed, state.connect_account_id, generation=state.connect_generation or 0)
        except GatewayError as exc:
            connect_store.release_payout(tip.id)
            if stripe_connect.names_missing_account(exc):  # held until the recipient onboards again
                forget_missing_account(state.connect_account_id)
                run.waiting.append(tip.id)
                continue
            logger.warning("Held tip %s could not be paid out: %s", tip.id, exc.error)
            run.failed.append((tip.id, exc.error))
            continue
        if paid is not None:
            run.paid_out.append(tip.id)
    for tip in connect_store.destination_tips_unsettled(limit=limit, completed_before=stale):
        if after_completion(tip):
            run.settled.append(tip.id)
    for tip in connect_store.refunded_payouts_to_reverse(limit=limit):
        try:
            if reverse_payout(tip):
                run.reversed.append(tip.id)
        except GatewayError as exc:
            run.failed.append((tip.id, exc.error))
    return run


def _pay_out(tip: Payment, destination: str, *, generation: int) -> Payment | None:
    amount = tip.amount_minor - (tip.application_fee_minor or 0)
    if amount <= 0:
        # The fee took the whole tip: nothing to transfer, nothing to announce.
        return connect_store.finish_payout(tip.id, transfer_id=None, destination=destination)
    # A run that died after Stripe made the transfer left it behind: use it, never make a second.
    transfer_id = stripe_connect_facts.first_listed_id(stripe_connect.list_payout_transfers(tip))
    if transfer_id is None:
        transfer_id = stripe_facts.stripe_id(
            stripe_connect.create_payout_transfer(tip, destination=destination, amount_minor=amount,
                                                  generation=generation)
        )
    if not transfer_id:
        raise GatewayError("api", "Stripe returned a transfer without an id")
    updated = connect_store.finish_payout(tip.id, transfer_id=transfer_id, destination=destination)
    if updated is not None:
        _announce_paid_out(updated)
    return updated


def reverse_payout(payment: Payment) -> bool:
    """After a refund, record that the recipient's share went back; whether this call recorded it.

    A destination charge was refunded with ``reverse_transfer`` (see
    ``gateway.create_refund``); a held tip paid out with its own Transfer has
    that transfer reversed here (idempotent per payment). Raises
    ``GatewayError`` when Stripe refuses; the next ``payments_pay_out_held_tips``
    run tries again.
    """
    status = getattr(payment, "payout_status", None)
    if payment.status != STATUS_REFUNDED or status not in (PAYOUT_DESTINATION, PAYOUT_PAID_OUT):
        return False
    if payment.payout_held:
        if payment.transfer_id:
            stripe_connect.reverse_payout_transfer(payment)
        return connect_store.mark_reversed(payment.id, from_statuses=(PAYOUT_PAID_OUT,)) is not None
    return connect_store.mark_reversed(payment.id, from_statuses=(PAYOUT_DESTINATION, PAYOUT_PAID_OUT)) is not None
