"""MongoEngine documents, stored in the collections named by the legacy schema.

Indexes are declared here but never built on import (``auto_create_index`` is
off): call :func:`django_skillswap_payments.repository.ensure_indexes` or run
``manage.py payments_ensure_indexes`` once per deployment.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from mongoengine import (
    BooleanField,
    DateTimeField,
    Decimal128Field,
    DictField,
    Document,
    EmbeddedDocumentListField,
    IntField,
    ListField,
    ObjectIdField,
    StringField,
)
from mongoengine.connection import get_db

from .dispute_records import DisputeRecord
from .money import from_minor_units
from .refund_records import RefundRecord

TRANSACTION_PREMIUM = "premium"
TRANSACTION_TIP = "tip"
TRANSACTION_SUBSCRIPTION = "subscription"  # legacy records only
TRANSACTION_TYPES = (TRANSACTION_PREMIUM, TRANSACTION_TIP, TRANSACTION_SUBSCRIPTION)

STATUS_PENDING = "pending"
STATUS_COMPLETED = "completed"
STATUS_FAILED = "failed"
STATUS_REFUNDED = "refunded"
STATUS_EXPIRED = "expired"
PAYMENT_STATUSES = (STATUS_PENDING, STATUS_COMPLETED, STATUS_FAILED, STATUS_REFUNDED, STATUS_EXPIRED)

# Stripe's default (and longest) Checkout Session lifetime.
CHECKOUT_SESSION_LIFETIME = dt.timedelta(hours=24)

WEBHOOK_RECEIVED = "received"
WEBHOOK_PROCESSED = "processed"
WEBHOOK_IGNORED = "ignored"
WEBHOOK_FAILED = "failed"
WEBHOOK_STATUSES = (WEBHOOK_RECEIVED, WEBHOOK_PROCESSED, WEBHOOK_IGNORED, WEBHOOK_FAILED)


def utcnow() -> dt.datetime:
    """Current time as an aware UTC datetime (MongoDB keeps millisecond precision)."""
    now = dt.datetime.now(dt.timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def as_aware(value: dt.datetime | None) -> dt.datetime | None:
    """Attach UTC to the naive datetimes pymongo returns by default."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value


class _PaymentsDocument(Document):
    """Common base: resolves the connection alias from settings on first use."""

    meta: dict[str, Any] = {"abstract": True, "auto_create_index": False}

    @classmethod
    def _get_db(cls):
        from .conf import ensure_mongo_connection
        from .replication import decision_options

        # An explicit db_alias (e.g. from mongoengine's switch_db) wins over the setting.
        alias = cls._meta.get("db_alias") or ensure_mongo_connection()
        # WRITE_CONCERN on every write, reads on the primary (see replication.py).
        return get_db(alias).with_options(**decision_options())


class PaymentProfile(_PaymentsDocument):
    """The payments identity of one Django user; its ``id`` is what payments reference."""

    django_user_id = StringField(required=True, unique=True)
    stripe_customer_id = StringField(unique=True, sparse=True)
    # Customers Stripe answered "No such customer" for (deleted, or made with the other mode's keys):
    # never passed to a checkout again, wherever they are stored.
    missing_stripe_customer_ids = ListField(StringField())
    created_at = DateTimeField(default=utcnow)
    # Stripe Connect (see services/connect.py): the recipient's Express account and its state.
    connect_account_id = StringField(unique=True, sparse=True)
    connect_details_submitted = BooleanField()
    connect_charges_enabled = BooleanField()
    connect_payouts_enabled = BooleanField()
    connect_requirements_due = ListField(StringField())
    # Creation time (Unix seconds) of the Stripe report the state above comes from: an older
    # account.updated delivered late never overwrites a newer state.
    connect_synced_at = IntField()
    # Bumped when the account is disconnected, so the next onboarding creates a new account
    # instead of Stripe replaying the old one under the same idempotency key.
    connect_generation = IntField()

    meta = {"collection": "payment_profiles", "auto_create_index": False}

    def __str__(self) -> str:
        return f"PaymentProfile({self.id}, django_user_id={self.django_user_id})"


# disputes: the filter every query of the staff list carries, so the partial indexes serve it.
DISPUTED: dict[str, Any] = {"disputed_at": {"$exists": True}}
# payments that name a Stripe customer (passed to Checkout, or created by it)
WITH_CUSTOMER: dict[str, Any] = {"stripe_customer_id": {"$exists": True}}
# What the tip totals (repository/history.py, tip_sums_by_currency) read of each tip they group:
# the tips-sent and tips-received indexes end with these, so the totals never fetch a document.
TIP_TOTALS_FIELDS = ("status", "currency", "amount_minor")


class Payment(_PaymentsDocument):
    """One premium purchase or tip, following the legacy ``payments`` schema.

    ``amount_minor`` (integer minor units) is the source of truth;
    ``amount`` (Decimal128, major units) is kept for legacy compatibility.
    """

    transaction_type = StringField(required=True, choices=TRANSACTION_TYPES)
    from_user_id = ObjectIdField(required=True)
    to_user_id = ObjectIdField(null=True)
    amount = Decimal128Field(required=True, min_value=0)
    amount_minor = IntField(required=True, min_value=0)
    currency = StringField(required=True, min_length=3, max_length=3)
    message = StringField()
    stripe_payment_intent_id = StringField(unique=True, sparse=True)
    stripe_session_id = StringField(unique=True, sparse=True)
    stripe_customer_id = StringField()
    stripe_refund_id = StringField()
    checkout_url = StringField()
    # The redirect URLs and expiry of the Checkout Session, as Stripe created it.
    success_url = StringField()
    cancel_url = StringField()
    checkout_expires_at = DateTimeField()
    status = StringField(required=True, choices=PAYMENT_STATUSES, default=STATUS_PENDING)
    failure_reason = StringField()
    # On a failed payment: False while Stripe may still take a payment on its checkout.
    failure_final = BooleanField()
    metadata = DictField()
    livemode = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    completed_at = DateTimeField()
    failed_at = DateTimeField()
    refunded_at = DateTimeField()
    expired_at = DateTimeField()
    # When the buyer asked to cancel the checkout (its expiry then reads "checkout_canceled").
    cancel_requested_at = DateTimeField()
    # Set only while a premium checkout is open; the unique index lets one start win.
    open_checkout_slot = StringField(unique=True, sparse=True)
    # The payer's id, on their one completed premium payment (see states.py).
    premium_holder = ObjectIdField(unique=True, sparse=True)
    # On a premium payment completed while another one held premium: that payment's id.
    duplicate_of = ObjectIdField()
    signal_failures = ListField(DictField())
    signal_retry_needed = BooleanField(default=False)
    # Promotion codes: set when a discounted payment completes (``amount_minor``/``amount``
    # then hold what was charged); ``list_amount_minor`` is the price before the discount.
    list_amount_minor = IntField(min_value=0, null=True)
    discount_minor = IntField(default=0, min_value=0)
    promotion_code_id = StringField(null=True)
    coupon_id = StringField(null=True)
    # Email receipts (RECEIPTS): role ("payer"/"recipient") -> {"to", "claimed_at", "sent_at"};
    # the entry is claimed before sending so a re-dispatched signal never mails twice.
    receipts_sent = DictField()
    receipt_failures = ListField(DictField())
    # Stripe Connect (see services/connect.py): where a tip's money goes.
    destination_account_id = StringField()
    application_fee_minor = IntField(min_value=0)
    transfer_id = StringField()
    payout_status = StringField(choices=("destination", "held", "paid_out", "reversed"))
    # True for a tip the platform held (recipient not onboarded) and pays out with a Transfer.
    payout_held = BooleanField()
    # Set while one run of payments_pay_out_held_tips owns the tip's payout.
    payout_claimed_at = DateTimeField()
    # Refunds: the money given back so far (pending or succeeded refunds, in minor units),
    # each refund, and the amounts held by refund requests still waiting for Stripe's answer.
    amount_refunded_minor = IntField(default=0, min_value=0)
    refunds = EmbeddedDocumentListField(RefundRecord)
    refund_reservations = ListField(DictField())
    # disputes: every dispute of the payment's charge (see dispute_records.py); the status
    # and creation time of the latest one, for the staff list; when a lost dispute took
    # back the premium the payment granted (it is then no longer counted).
    disputes = EmbeddedDocumentListField(DisputeRecord)
    dispute_status = StringField()
    disputed_at = DateTimeField()
    premium_revoked_at = DateTimeField()
    # Adaptive Pricing: what the buyer was charged when Stripe converted the price to their
    # currency; ``amount_minor``/``currency`` stay the site's price, which Stripe reported too.
    charged_amount_minor = IntField(min_value=0, null=True)
    charged_currency = StringField(null=True)

    meta = {
        "collection": "payments",
        "auto_create_index": False,
        # Each query's equality fields first, then its sort keys (``_id`` where it breaks ties),
        # then the fields it only filters on (see docs/deployment.md, "Indexes").
        "indexes": [
            # premium status: the latest completed, non-duplicate, not revoked premium payment
            {"fields": ["from_user_id", "transaction_type", "status", "premium_revoked_at", "duplicate_of", "-completed_at"]},
            # payment history, unfiltered / by type (also tips sent) / by status / by both. The
            # fields after the sort keys are what the tip totals group on: the totals of every tip
            # a user sent are then read from index keys alone, never from the documents.
            {"fields": ["from_user_id", "-created_at", "-id"]},
            {"fields": ["from_user_id", "transaction_type", "-created_at", "-id", *TIP_TOTALS_FIELDS]},
            {"fields": ["from_user_id", "status", "-created_at", "-id"]},
            {"fields": ["from_user_id", "transaction_type", "status", "-created_at", "-id"]},
            # the Stripe customer a checkout passes: the payer's oldest payment naming one
            {"fields": ["from_user_id", "created_at", "id"], "partialFilterExpression": WITH_CUSTOMER},
            # tips received (and their totals), filtered by status on the index keys
            {"fields": ["to_user_id", "transaction_type", "-created_at", "-id", *TIP_TOTALS_FIELDS]},
            # payments whose signal must be re-dispatched: only the flagged ones are indexed
            {
                "fields": ["signal_retry_needed", "updated_at"],
                "partialFilterExpression": {"signal_retry_needed": True},
            },
            # Connect: held tips waiting for their payout
            {"fields": ["payout_status", "status"], "sparse": True},
            # Analytics and the accounting export (repository/analytics.py): equality on type and
            # status, then the created_at range, so every (type, status) pair is one index range and
            # an export sorted by created_at merges them without an in-memory sort.
            {"fields": ["transaction_type", "status", "created_at"]},
            # disputes: the staff list, by status or not, newest dispute first
            {"fields": ["dispute_status", "-disputed_at", "-id"], "partialFilterExpression": DISPUTED},
            {"fields": ["-disputed_at", "-id"], "partialFilterExpression": DISPUTED},
            {"fields": ["disputes.pending_signals", "updated_at"], "sparse": True},
            # The operator's payment list (GET payments/): newest first, optionally one status or type.
            {"fields": ["-created_at", "-id"]},
            {"fields": ["status", "-created_at", "-id"]},
            {"fields": ["transaction_type", "-created_at", "-id"]},
        ],
    }

    @property
    def is_premium(self) -> bool:
        return self.transaction_type == TRANSACTION_PREMIUM

    @property
    def exact_amount(self) -> Decimal:
        """Exact major-unit amount (``Decimal("9.99")``), derived from ``amount_minor``."""
        return from_minor_units(self.amount_minor, self.currency)

    @property
    def checkout_expiry(self) -> dt.datetime | None:
        """When the Checkout Session stops taking payments: Stripe's ``expires_at``, else its
        latest possible value (created + 24 h) for payments stored without it."""
        stored = as_aware(self.checkout_expires_at)
        if stored is not None:
            return stored
        created = as_aware(self.created_at)
        return created + CHECKOUT_SESSION_LIFETIME if created is not None else None

    def __str__(self) -> str:
        return f"Payment({self.id}, {self.transaction_type}, {self.status})"


class Subscription(_PaymentsDocument):
    """Legacy recurring subscription record, kept so old premium users stay premium."""

    user_id = ObjectIdField(required=True)
    stripe_customer_id = StringField()
    stripe_subscription_id = StringField(unique=True, sparse=True)
    plan_type = StringField(default="premium")
    # Stripe's subscription statuses ('active', 'canceled', 'past_due', ...), stored as sent.
    status = StringField(required=True)
    current_period_start = DateTimeField()
    current_period_end = DateTimeField()
    cancel_at_period_end = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    meta = {
        "collection": "subscriptions",
        "auto_create_index": False,
        "indexes": [{"fields": ["user_id", "status", "-updated_at"]}],
    }


class WebhookEvent(_PaymentsDocument):
    """Log of every Stripe event received, deduplicated on the Stripe event id."""

    stripe_event_id = StringField(required=True, unique=True)
    type = StringField(required=True)
    livemode = BooleanField(default=False)
    api_version = StringField()
    # The exact JSON body Stripe sent: the source of truth, replayed from. Stripe
    # data may carry keys MongoDB cannot store as field names ("a.b", "$c").
    payload_json = StringField()
    # A copy for reading and querying, with such keys escaped (see
    # repository.webhook_log.storable_copy); absent when the body is too large or deep.
    payload = DictField()
    status = StringField(required=True, choices=WEBHOOK_STATUSES, default=WEBHOOK_RECEIVED)
    attempts = IntField(default=0, min_value=0)
    last_error = StringField()
    received_at = DateTimeField(default=utcnow)
    processed_at = DateTimeField()

    meta = {
        "collection": "webhook_events",
        "auto_create_index": False,
        "indexes": [{"fields": ["status", "received_at"]}, {"fields": ["type"]}],
    }


ALL_DOCUMENTS = (PaymentProfile, Payment, Subscription, WebhookEvent)
