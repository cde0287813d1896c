"""GET ``payments/analytics/``: the operator's revenue report (staff only).

The query is checked for its shape here; which ranges may be asked for, and every
figure, are :mod:`django_skillswap_payments.services.analytics`. Amounts and rates are
exact ``Decimal`` values, rendered as JSON numbers with their digits (``9.99``, ``0.5000``).
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.response import Response

from ..services import analytics
from . import schema as openapi
from .permissions import IsPaymentsStaff, IsPaymentsUser
from .schema import field_type
from .serializers import RequestSerializer
from .views import PaymentsAPIView


def _serializer(name: str, doc: str, base: type = serializers.Serializer, **fields: Any) -> Any:
    # Built with type() because the query and the answer use "from", a Python keyword, as a key.
    return type(name, (base,), {"__doc__": doc, "__module__": __name__, **fields})


def _text(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(trim_whitespace=False, max_length=64, **kwargs)


AnalyticsQuerySerializer = _serializer(
    "AnalyticsQuerySerializer",
    "``?from=&to=&granularity=&tz=&top=``: the report's range (dates YYYY-MM-DD, both included).",
    RequestSerializer,
    **{
        "from": _text(help_text="First day of the range (YYYY-MM-DD), included"),
        "to": _text(help_text="Last day of the range (YYYY-MM-DD), included"),
        "granularity": _text(required=False, default="day", help_text="day, week (ISO, from Monday) or month"),
        "tz": _text(required=False, default="UTC", help_text="IANA time zone of the days (default UTC)"),
        "top": serializers.IntegerField(
            required=False, default=analytics.DEFAULT_TOP_RECIPIENTS, min_value=1,
            max_value=analytics.MAX_TOP_RECIPIENTS, help_text="Tip recipients listed per currency",
        ),
        "default_error": "Invalid query parameter",
    },
)


@field_type("number")
class ExactNumberField(serializers.Field):
    """An exact ``Decimal`` (amount or rate), rendered as a JSON number; ``null`` when undefined."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: Any) -> Any:
        return value


def _count(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(read_only=True, help_text=help_text)


CurrencyFiguresSerializer = _serializer(
    "CurrencyFiguresSerializer",
    "The figures of one currency in one period.",
    currency=serializers.CharField(read_only=True),
    gross=ExactNumberField(help_text="Paid (completed or refunded) payments, major units"),
    refunded=ExactNumberField(help_text="Refunded of those payments"),
    net=ExactNumberField(help_text="gross - refunded"),
    checkouts_started=_count("Premium and tip payments created"),
    checkouts_completed=_count("Of those, paid"),
    premium_count=_count("Paid premium payments"),
    tip_count=_count("Paid tips"),
    refunded_count=_count("Paid payments refunded in full or in part"),
    disputed_count=_count("Paid payments with a dispute (not counting inquiries)"),
    conversion_rate=ExactNumberField(allow_null=True, help_text="checkouts_completed / checkouts_started"),
    average_tip=ExactNumberField(allow_null=True, help_text="Mean paid tip, rounded to the smallest unit"),
    refund_rate=ExactNumberField(allow_null=True, help_text="refunded_count / checkouts_completed"),
    dispute_rate=ExactNumberField(allow_null=True, help_text="disputed_count / checkouts_completed"),
)

PeriodSerializer = _serializer(
    "AnalyticsPeriodSerializer",
    "One day, ISO week or month of the range.",
    period=serializers.CharField(read_only=True, help_text="2024-01-08, 2024-W02 or 2024-01"),
    start=serializers.DateField(read_only=True, help_text="First day of the period within the range"),
    end=serializers.DateField(read_only=True, help_text="Last day of the period within the range"),
    currencies=CurrencyFiguresSerializer(many=True, read_only=True),
)

RecipientSerializer = _serializer(
    "TipRecipientSerializer",
    "A tip recipient of the range and what they received.",
    user_id=serializers.CharField(read_only=True, allow_null=True, help_text="Payment profile id"),
    django_user_id=serializers.CharField(read_only=True, allow_null=True),
    gross=ExactNumberField(),
    refunded=ExactNumberField(),
    net=ExactNumberField(),
    count=_count("Paid tips received"),
)

CurrencyRecipientsSerializer = _serializer(
    "CurrencyTipRecipientsSerializer",
    "The top tip recipients in one currency, by net amount.",
    currency=serializers.CharField(read_only=True),
    recipients=RecipientSerializer(many=True, read_only=True),
)

AnalyticsReportSerializer = _serializer(
    "AnalyticsReportSerializer",
    "The revenue report of a range.",
    **{
        "from": serializers.DateField(read_only=True),
        "to": serializers.DateField(read_only=True),
        "granularity": serializers.CharField(read_only=True),
        "timezone": serializers.CharField(read_only=True),
        "currencies": serializers.ListField(child=serializers.CharField(), read_only=True),
        "periods": PeriodSerializer(many=True, read_only=True),
        "top_tip_recipients": CurrencyRecipientsSerializer(many=True, read_only=True),
    },
)


class PaymentsAnalyticsView(PaymentsAPIView):
    """GET ``payments/analytics/``: revenue per period and currency, and the top tip recipients."""

    permission_classes = (IsPaymentsUser, IsPaymentsStaff)

    @openapi.document(parameters=openapi.query_parameters(AnalyticsQuerySerializer),
                      responses={200: AnalyticsReportSerializer, **openapi.errors(400, 401, 403, 503)})
    def get(self, request):
        query = self.query(AnalyticsQuerySerializer)
        report = analytics.report_range(query["from"], query["to"], query["granularity"], query["tz"])
        return Response(AnalyticsReportSerializer(analytics.revenue_report(report, top=query["top"])).data)
