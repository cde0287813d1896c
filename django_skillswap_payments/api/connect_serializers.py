"""Response fields of Stripe Connect: what a routed tip paid the platform and the recipient."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from ..money import from_minor_units
from .schema import field_type


@field_type("number")
class PayoutAmountField(serializers.Field):
    """A Connect tip's fee or payout, stored in minor units, rendered in major units like ``amount``.

    ``null`` for tips that Connect did not route.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)

    def get_attribute(self, instance: Any) -> Any:
        return instance

    def to_representation(self, payment: Any) -> Decimal | None:
        return _payout_amounts(payment).get(self.field_name or "")


def _payout_amounts(payment: Any) -> dict[str, Decimal]:
    fee = getattr(payment, "application_fee_minor", None)
    if fee is None:
        return {}
    return {
        "application_fee": from_minor_units(fee, payment.currency),
        "payout_amount": from_minor_units(max(payment.amount_minor - fee, 0), payment.currency),
    }
