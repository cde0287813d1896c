"""The staff refund endpoint: ``POST payments/<payment_id>/refund/``.

Parse the body, call :func:`~django_skillswap_payments.services.refunds.refund_payment_amount`,
answer the payment in the shape of ``payments/history`` items plus its refunds.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers
from rest_framework.response import Response

from ..errors import InvalidAmount
from ..money import from_minor_units
from ..refund_records import REFUND_REASONS, REFUND_STATUSES
from ..services import refunds
from . import schema as openapi
from .permissions import IsPaymentsStaff
from .schema import field_type
from .serializers import AmountField, AwareDateTimeField, PaymentSerializer, RequestSerializer
from .views import PaymentsAPIView


class RefundRequestSerializer(RequestSerializer):
    """Body of ``payments/<id>/refund/``: an optional amount (major units) and reason."""

    amount = AmountField(required=False, allow_null=True)
    reason = serializers.ChoiceField(choices=REFUND_REASONS, required=False, allow_null=True)

    field_errors = {"amount": (InvalidAmount, "Invalid refund amount")}
    service_checked = ("amount",)
    default_error = "Invalid request body"


class RefundSerializer(serializers.Serializer):
    """One refund of a payment."""

    refund_id = serializers.CharField(read_only=True)
    amount = serializers.SerializerMethodField()
    reason = serializers.ChoiceField(choices=REFUND_REASONS, read_only=True, allow_null=True)
    status = serializers.ChoiceField(choices=REFUND_STATUSES, read_only=True)
    created_at = AwareDateTimeField()
    failure_reason = serializers.CharField(read_only=True, allow_null=True)

    @field_type("number")
    def get_amount(self, refund: Any) -> Decimal:
        return from_minor_units(int(refund.amount_minor), self.context["currency"])


class RefundedPaymentSerializer(PaymentSerializer):
    """A payment as ``payments/history`` shows it (``amount_refunded`` included), plus its refunds."""

    refunds = serializers.SerializerMethodField()

    @field_type(RefundSerializer(many=True))
    def get_refunds(self, payment: Any) -> Any:
        return RefundSerializer(payment.refunds or [], many=True, context={"currency": payment.currency}).data


class PaymentRefundView(PaymentsAPIView):
    """POST ``payments/<payment_id>/refund/``: refund all or part of a payment (staff only)."""

    permission_classes = (IsPaymentsStaff,)

    @openapi.document(
        request=RefundRequestSerializer,
        responses={200: RefundedPaymentSerializer, **openapi.errors(400, 401, 403, 404, 409, 415, 500, 502, 503)},
    )
    def post(self, request, payment_id: str):
        data = self.body(RefundRequestSerializer)
        with RefundRequestSerializer.field_errors_of_service():
            payment = refunds.refund_payment_amount(
                payment_id, amount=data.get("amount"), reason=data.get("reason")
            )
        return Response(RefundedPaymentSerializer(payment).data)
