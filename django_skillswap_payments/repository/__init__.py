"""Persistence: every read and write of the app's MongoDB collections, by collection.

- :mod:`.payments` — the ``payments`` collection: checkout lifecycle, status
  transitions (the table is in :mod:`django_skillswap_payments.states`),
  signal bookkeeping, premium lookups;
- :mod:`.history` — payments read as newest-first pages (tip and payment history);
- :mod:`.profiles` — ``payment_profiles``;
- :mod:`.webhook_log` — ``webhook_events``, with the escaping that makes any
  Stripe payload storable;
- :mod:`.legacy` — what the legacy gateway left behind: the ``subscriptions``
  collection, its helper functions (``create_payment_transaction`` ...) and
  the backfill of its float amounts.

No multi-document transactions are used. Correctness comes from unique
indexes (session id, payment intent id, open premium checkout slot, premium
holder, Stripe event id) and from conditional single-document updates. Nothing here sends a
signal or calls Stripe.

The names below are re-exported so ``from django_skillswap_payments import
repository; repository.ensure_indexes()`` keeps working.
"""

from __future__ import annotations

from ..states import ALLOWED_PREVIOUS
from .history import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    count_tips_received,
    count_tips_sent,
    payment_history,
    tips_received,
    tips_sent,
)
from .indexes import IndexReport, build_indexes, obsolete_indexes
from .legacy import (
    BackfillReport,
    active_legacy_subscription,
    backfill_minor_units,
    create_payment_transaction,
    get_legacy_subscription,
    get_user_payment_history,
    get_user_tips_given,
    get_user_tips_received,
    update_payment_transaction_status,
    upsert_legacy_subscription,
)
from .payments import (
    adopt_premium_holders,
    attach_checkout_session,
    create_pending_payment,
    delete_unstarted_payment,
    find_open_checkout,
    find_payment,
    get_payment,
    has_completed_premium,
    latest_completed_premium,
    payments_needing_signal_retry,
    premium_holder_of,
    premium_slot,
    record_mismatch,
    record_signal_failures,
    set_signal_retry_needed,
    transition,
)
from .profiles import profile_for_customer, save_customer_id
from .webhook_log import (
    MAX_PAYLOAD_COPY_CHARS,
    finish_webhook_event,
    get_webhook_event,
    record_webhook_event,
    storable_copy,
    webhook_events,
)


def ensure_indexes(*, drop_obsolete: bool = False) -> dict[str, list[str]]:
    """Create every index the documents declare; return index names per collection.

    Indexes a collection still has but no document declares any more are
    left in place (servers of an older release may still query with them)
    unless ``drop_obsolete`` is true; see :func:`.indexes.build_indexes` for
    the report of both. Completed premium payments stored before the
    ``premium_holder`` index existed are then given their key
    (:func:`.payments.adopt_premium_holders`), so the one-completed-premium-per-user
    rule covers them too. Safe to run repeatedly (MongoDB ignores indexes that already exist).
    """
    report = build_indexes(drop_obsolete=drop_obsolete)
    adopt_premium_holders()
    return report.present


__all__ = [
    "ALLOWED_PREVIOUS",
    "BackfillReport",
    "IndexReport",
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "MAX_PAYLOAD_COPY_CHARS",
    "active_legacy_subscription",
    "adopt_premium_holders",
    "attach_checkout_session",
    "backfill_minor_units",
    "build_indexes",
    "count_tips_received",
    "count_tips_sent",
    "create_payment_transaction",
    "create_pending_payment",
    "delete_unstarted_payment",
    "ensure_indexes",
    "find_open_checkout",
    "find_payment",
    "finish_webhook_event",
    "get_legacy_subscription",
    "get_payment",
    "get_user_payment_history",
    "get_user_tips_given",
    "get_user_tips_received",
    "get_webhook_event",
    "has_completed_premium",
    "latest_completed_premium",
    "obsolete_indexes",
    "payment_history",
    "payments_needing_signal_retry",
    "premium_holder_of",
    "premium_slot",
    "profile_for_customer",
    "record_mismatch",
    "record_signal_failures",
    "record_webhook_event",
    "save_customer_id",
    "set_signal_retry_needed",
    "storable_copy",
    "tips_received",
    "tips_sent",
    "transition",
    "update_payment_transaction_status",
    "upsert_legacy_subscription",
    "webhook_events",
]
