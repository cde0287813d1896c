"""Stripe Connect persistence: the connected account of a profile, the payout of a tip.

Like the rest of the repository, every change is one conditional
single-document update. A profile takes its account id once (the unique
sparse ``connect_account_id`` index keeps one profile per account); an
account's state is only overwritten by a report at least as recent as the
stored one; a tip moves between payout states (``destination`` → ``paid_out``
→ ``reversed``, ``held`` → ``paid_out``) only from the state each move allows,
so of concurrent callers exactly one wins and announces it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from bson import ObjectId
from mongoengine.queryset.visitor import Q

from ..documents import (
    STATUS_COMPLETED,
    STATUS_REFUNDED,
    TRANSACTION_TIP,
    Payment,
    PaymentProfile,
    utcnow,
)

PAYOUT_DESTINATION = "destination"
PAYOUT_HELD = "held"
PAYOUT_PAID_OUT = "paid_out"
PAYOUT_REVERSED = "reversed"

CONNECT_PROFILE_FIELDS = (
    "connect_account_id",
    "connect_details_submitted",
    "connect_charges_enabled",
    "connect_payouts_enabled",
    "connect_requirements_due",
    "connect_synced_at",
    "connect_generation",
)


# -- profiles -------------------------------------------------------------------


def connect_profile(profile_id: ObjectId) -> PaymentProfile | None:
    """The profile's Connect fields (``None`` when there is no such payment profile)."""
    return PaymentProfile.objects(id=profile_id).only(*CONNECT_PROFILE_FIELDS).first()


def profile_for_account(account_id: str) -> PaymentProfile | None:
    return PaymentProfile.objects(connect_account_id=account_id).first() if account_id else None


def take_account(profile_id: ObjectId, account_id: str) -> PaymentProfile | None:
    """Store the profile's account id unless it has one already; the profile as it now is."""
    updated = PaymentProfile.objects(id=profile_id, connect_account_id__exists=False).modify(
        new=True,
        set__connect_account_id=account_id,
        set__connect_details_submitted=False,
        set__connect_charges_enabled=False,
        set__connect_payouts_enabled=False,
    )
    return updated if updated is not None else connect_profile(profile_id)


def sync_account(
    account_id: str,
    *,
    details_submitted: bool,
    charges_enabled: bool,
    payouts_enabled: bool,
    requirements_due: Iterable[str],
    reported_at: int,
) -> PaymentProfile | None:
    """Store an account's state as Stripe reported it at ``reported_at`` (Unix seconds).

    ``None`` when no profile has the account, or a more recent report is stored already.
    """
    fresh_enough = Q(connect_synced_at__exists=False) | Q(connect_synced_at__lte=reported_at)
    return PaymentProfile.objects(Q(connect_account_id=account_id) & fresh_enough).modify(
        new=True,
        set__connect_details_submitted=bool(details_submitted),
        set__connect_charges_enabled=bool(charges_enabled),
        set__connect_payouts_enabled=bool(payouts_enabled),
        set__connect_requirements_due=list(requirements_due),
        set__connect_synced_at=int(reported_at),
    )


def disconnect(account_id: str) -> PaymentProfile | None:
    """Forget the account on its profile; the next onboarding creates a new one."""
    return PaymentProfile.objects(connect_account_id=account_id).modify(
        new=True,
        unset__connect_account_id=True,
        unset__connect_details_submitted=True,
        unset__connect_charges_enabled=True,
        unset__connect_payouts_enabled=True,
        unset__connect_requirements_due=True,
        unset__connect_synced_at=True,
        inc__connect_generation=1,
    )


# -- payouts of tips ------------------------------------------------------------


def record_transfer(payment_id: ObjectId, transfer_id: str) -> Payment | None:
    """Note the transfer a destination charge made; ``None`` if it is noted already."""
    return Payment.objects(
        id=payment_id, payout_status=PAYOUT_DESTINATION, transfer_id__exists=False
    ).modify(new=True, set__transfer_id=transfer_id, set__updated_at=utcnow())


def mark_destination_paid_out(payment_id: ObjectId) -> Payment | None:
    """``destination`` → ``paid_out`` once the payment is completed and its transfer known.

    Exactly one caller gets the payment back; it sends ``tip_paid_out``.
    """
    return Payment.objects(
        id=payment_id, status=STATUS_COMPLETED, payout_status=PAYOUT_DESTINATION, transfer_id__exists=True
    ).modify(new=True, set__payout_status=PAYOUT_PAID_OUT, set__updated_at=utcnow())


def held_tips(*, limit: int, claimed_before: dt.datetime) -> list[Payment]:
    """Completed tips the platform holds, oldest first, that no live run is paying out."""
    unclaimed = Q(payout_claimed_at__exists=False) | Q(payout_claimed_at__lt=claimed_before)
    query = Payment.objects(
        Q(transaction_type=TRANSACTION_TIP, status=STATUS_COMPLETED, payout_status=PAYOUT_HELD) & unclaimed
    )
    return list(query.order_by("completed_at", "id").limit(limit))


def claim_payout(payment_id: ObjectId, *, claimed_before: dt.datetime) -> Payment | None:
    """Take the payout of a held tip for this run; ``None`` when another run has it."""
    unclaimed = Q(payout_claimed_at__exists=False) | Q(payout_claimed_at__lt=claimed_before)
    query = Q(id=payment_id, status=STATUS_COMPLETED, payout_status=PAYOUT_HELD) & unclaimed
    return Payment.objects(query).modify(new=True, set__payout_claimed_at=utcnow())


def release_payout(payment_id: ObjectId) -> None:
    """Give a claimed payout back (it failed; a later run tries again)."""
    Payment.objects(id=payment_id, payout_status=PAYOUT_HELD).update_one(unset__payout_claimed_at=True)


def finish_payout(payment_id: ObjectId, *, transfer_id: str | None, destination: str) -> Payment | None:
    """``held`` → ``paid_out`` with the transfer; exactly one caller gets the payment back."""
    return Payment.objects(id=payment_id, payout_status=PAYOUT_HELD).modify(
        new=True,
        set__payout_status=PAYOUT_PAID_OUT,
        set__transfer_id=transfer_id,
        set__destination_account_id=destination,
        unset__payout_claimed_at=True,
        set__updated_at=utcnow(),
    )


def mark_reversed(payment_id: ObjectId, *, from_statuses: Iterable[str]) -> Payment | None:
    """The recipient's share of a refunded tip went back to the platform."""
    return Payment.objects(id=payment_id, payout_status__in=list(from_statuses)).modify(
        new=True, set__payout_status=PAYOUT_REVERSED, set__updated_at=utcnow()
    )


def destination_tips_unsettled(*, limit: int, completed_before: dt.datetime) -> list[Payment]:
    """Completed destination tips still waiting for their transfer to be reported."""
    return list(
        Payment.objects(
            transaction_type=TRANSACTION_TIP,
            status=STATUS_COMPLETED,
            payout_status=PAYOUT_DESTINATION,
            completed_at__lt=completed_before,
        ).order_by("completed_at", "id").limit(limit)
    )


def refunded_payouts_to_reverse(*, limit: int) -> list[Payment]:
    """Refunded tips whose separate payout transfer was not taken back yet."""
    return list(
        Payment.objects(
            transaction_type=TRANSACTION_TIP, status=STATUS_REFUNDED, payout_status=PAYOUT_PAID_OUT, payout_held=True
        ).limit(limit)
    )

