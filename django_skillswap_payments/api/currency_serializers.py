"""The currency parts of the API's JSON: the optional ``currency`` of a checkout request,
per-currency tip totals and the price list of ``currencies/``.

Amounts are exact ``Decimal`` in each currency's major units, each beside its currency.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from .fields import OptionalTextField
from .schema import field_type


@field_type("string")
class CurrencyCodeField(OptionalTextField):
    """An optional currency code (``"eur"``, any letter case); whether it is accepted, the service decides."""

    not_text = 'Must be a currency code such as "usd"'


@field_type("number")
class MajorUnitsField(serializers.Field):
    """An exact ``Decimal`` amount in major units, rendered as a JSON number."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: Decimal) -> Decimal:
        return value


class CurrencyTotalsSerializer(serializers.Serializer):
    """Tips of one currency: counts as ``total_sent``/``total_received``, sums of completed tips."""

    currency = serializers.CharField(read_only=True)
    count_sent = serializers.IntegerField(read_only=True)
    amount_sent = MajorUnitsField()
    count_received = serializers.IntegerField(read_only=True)
    amount_received = MajorUnitsField()


class CurrencyTermsSerializer(serializers.Serializer):
    """One accepted currency: its premium price, tip limits and what amounts in it look like."""

    currency = serializers.CharField(read_only=True)
    decimals = serializers.IntegerField(read_only=True)
    amount_step = MajorUnitsField()
    premium_price = MajorUnitsField()
    tip_min = MajorUnitsField()
    tip_max = MajorUnitsField()


class PriceListSerializer(serializers.Serializer):
    default_currency = serializers.CharField(read_only=True)
    currencies = CurrencyTermsSerializer(many=True, read_only=True)
