"""Request and response shapes of the staff disputes list (``payments/disputes/``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from ..dispute_records import DISPUTE_STATUSES
from ..money import from_minor_units
from ..services.disputes import latest_dispute
from .schema import field_type
from .serializers import AwareDateTimeField, IdStringField, PageQuerySerializer


class DisputeListQuerySerializer(PageQuerySerializer):
    """``?status=&limit=&before=``: Stripe's status of the payment's latest dispute, and the page."""

    status = serializers.ChoiceField(choices=DISPUTE_STATUSES, required=False)


@field_type("number")
class DisputeAmountField(serializers.Field):
    """The disputed amount, exact, in major units of the dispute's currency."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, source="*", **kwargs)

    def to_representation(self, item: dict[str, Any]) -> Decimal | None:
        record = item["dispute"]
        if record.amount_minor is None:
            return None
        return from_minor_units(record.amount_minor, record.currency or item["payment"].currency)


class DisputeItemSerializer(serializers.Serializer):
    """A disputed payment with its latest dispute (a charge is disputed at most once in practice)."""

    payment_id = IdStringField(source="payment.id")
    transaction_type = serializers.CharField(read_only=True, source="payment.transaction_type")
    from_user_id = IdStringField(source="payment.from_user_id")
    to_user_id = IdStringField(source="payment.to_user_id", allow_null=True)
    payment_status = serializers.CharField(read_only=True, source="payment.status")
    dispute_id = serializers.CharField(read_only=True, source="dispute.dispute_id")
    amount = DisputeAmountField(allow_null=True)
    currency = serializers.SerializerMethodField()
    reason = serializers.CharField(read_only=True, source="dispute.reason", allow_null=True)
    status = serializers.CharField(read_only=True, source="dispute.status")
    evidence_due_by = AwareDateTimeField(source="dispute.evidence_due_by", allow_null=True)
    created_at = AwareDateTimeField(source="dispute.created_at", allow_null=True)
    closed_at = AwareDateTimeField(source="dispute.closed_at", allow_null=True)
    # When a lost dispute took back the premium this payment granted.
    premium_revoked_at = AwareDateTimeField(source="payment.premium_revoked_at", allow_null=True)

    def get_currency(self, item: dict[str, Any]) -> str:
        return item["dispute"].currency or item["payment"].currency


class DisputePageSerializer(serializers.Serializer):
    results = DisputeItemSerializer(many=True, read_only=True)
    next_before = serializers.CharField(read_only=True, allow_null=True)


def dispute_page(payments: list[Any], *, limit: int) -> dict[str, Any]:
    # Paginated like payments/history: a full page's last payment id continues the list.
    items = [{"payment": payment, "dispute": latest_dispute(payment)} for payment in payments]
    next_before = str(payments[-1].id) if payments and len(payments) >= limit else None
    return DisputePageSerializer({"results": [i for i in items if i["dispute"]], "next_before": next_before}).data
