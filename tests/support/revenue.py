"""A small fixed set of payments for the revenue report and the export, with figures worked out by hand.

Documents are inserted raw, shaped as the refunds and disputes features store them
(``amount_refunded_minor``, ``refunds``, ``disputes``, ``dispute_status``), so the
report is checked against what those features write, older documents without those
fields included. All instants are UTC.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from bson import Decimal128, ObjectId

from django_skillswap_payments.documents import Payment, PaymentProfile
from django_skillswap_payments.money import from_minor_units

PAYER = ObjectId("64b000000000000000000001")
# Tip recipients: R1 and R2 have payment profiles (Django users 101 and 102), R3 has none.
R1 = ObjectId("64b0000000000000000000a1")
R2 = ObjectId("64b0000000000000000000a2")
R3 = ObjectId("64b0000000000000000000a3")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc)


def payment_document(kind: str, status: str, amount_minor: int, currency: str, created_at: str,
                     to: ObjectId | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "_id": ObjectId(),
        "transaction_type": kind,
        "from_user_id": PAYER,
        "to_user_id": to,
        "amount": Decimal128(from_minor_units(amount_minor, currency)),
        "amount_minor": amount_minor,
        "currency": currency,
        "status": status,
        "created_at": at(created_at),
        "updated_at": at(created_at),
        **extra,
    }


def refund(refund_id: str, amount_minor: int, created_at: str, status: str = "succeeded") -> dict[str, Any]:
    return {"refund_id": refund_id, "amount_minor": amount_minor, "reason": "requested_by_customer",
            "status": status, "created_at": at(created_at), "failure_reason": None}


def dispute(dispute_id: str, amount_minor: int, currency: str, status: str, created_at: str) -> dict[str, Any]:
    return {"dispute_id": dispute_id, "amount_minor": amount_minor, "currency": currency,
            "reason": "fraudulent", "status": status, "evidence_due_by": None,
            "created_at": at(created_at), "closed_at": None}


def revenue_documents() -> list[dict[str, Any]]:
    """The report range is 2024-01-29 (a Monday) to 2024-02-11 (a Sunday): ISO weeks 5 and 6,
    the end of January and the start of February. Numbered as in the tests' comments."""
    p = payment_document
    return [
        # 1: the last millisecond of January.
        p("premium", "completed", 999, "usd", "2024-01-31T23:59:59.999"),
        # 2: the first instant of February; 2.00 of 5.00 refunded.
        p("tip", "completed", 500, "usd", "2024-02-01T00:00:00", R1, amount_refunded_minor=200,
          refunds=[refund("re_2", 200, "2024-02-03T10:00:00")]),
        # 3: refunded in full before partial refunds were recorded (no amount_refunded_minor).
        p("tip", "refunded", 300, "usd", "2024-02-01T12:00:00", R1),
        # 4: Monday of week 6, disputed.
        p("tip", "completed", 1000, "usd", "2024-02-05T09:00:00", R2,
          disputes=[dispute("dp_4", 1000, "usd", "needs_response", "2024-02-07T00:00:00")],
          dispute_status="needs_response"),
        # 5: a premium checkout never paid.
        p("premium", "pending", 999, "usd", "2024-02-05T10:00:00"),
        # 6: the last day of week 5, expired unpaid.
        p("tip", "expired", 700, "usd", "2024-02-04T08:00:00", R2),
        # 7: an inquiry (warning_*) is not a dispute.
        p("tip", "completed", 250, "usd", "2024-02-04T23:59:59", R2, amount_refunded_minor=0,
          disputes=[dispute("dp_7", 250, "usd", "warning_needs_response", "2024-02-05T00:00:00")],
          dispute_status="warning_needs_response"),
        # 8 and 9: just outside the range, after and before.
        p("premium", "completed", 999, "usd", "2024-02-12T00:00:00"),
        p("premium", "completed", 999, "usd", "2024-01-28T23:59:59.999"),
        # 10: a legacy subscription record: exported, not in the report.
        p("subscription", "completed", 999, "usd", "2024-02-02T00:00:00"),
        # 11-14: yen, a currency without minor units.
        p("tip", "completed", 1000, "jpy", "2024-02-01T10:00:00", R1, amount_refunded_minor=0, refunds=[]),
        p("tip", "completed", 333, "jpy", "2024-02-06T10:00:00", R1, amount_refunded_minor=100,
          refunds=[refund("re_12", 100, "2024-02-07T10:00:00"), refund("re_12b", 50, "2024-02-07T11:00:00", "failed")]),
        p("premium", "failed", 1200, "jpy", "2024-02-06T11:00:00"),
        p("tip", "completed", 501, "jpy", "2024-02-06T12:00:00", R3,
          disputes=[dispute("dp_14", 501, "jpy", "lost", "2024-02-08T00:00:00")], dispute_status="lost"),
    ]


def store_revenue_documents() -> list[dict[str, Any]]:
    documents = revenue_documents()
    Payment._get_collection().insert_many(documents)
    PaymentProfile._get_collection().insert_many([
        {"_id": R1, "django_user_id": "101", "created_at": at("2024-01-01T00:00:00")},
        {"_id": R2, "django_user_id": "102", "created_at": at("2024-01-01T00:00:00")},
    ])
    return documents


def figures(currency: str, **given: Any) -> dict[str, Any]:
    """A currency's figures in a period: zeros and no rates unless ``given``."""
    empty = {"currency": currency, "gross": "0", "refunded": "0", "net": "0", "checkouts_started": 0,
             "checkouts_completed": 0, "premium_count": 0, "tip_count": 0, "refunded_count": 0,
             "disputed_count": 0, "conversion_rate": None, "average_tip": None, "refund_rate": None,
             "dispute_rate": None}
    result = {**empty, **given}
    for name in ("gross", "refunded", "net", "average_tip", "conversion_rate", "refund_rate", "dispute_rate"):
        if isinstance(result[name], str):
            result[name] = Decimal(result[name])
    if currency != "jpy":
        for name in ("gross", "refunded", "net"):
            result[name] = result[name].quantize(Decimal("0.01"))
    return result
