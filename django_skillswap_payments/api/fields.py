"""Strict request fields: redirect URLs, strings, ObjectIds, amounts and optional text.

Each accepts only the JSON type it names and leaves the rules (limits, allowed
hosts, characters) to the services, which word their errors.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from rest_framework import serializers

from ..errors import InvalidRedirectUrl
from ..ids import to_object_id
from ..redirects import validate_redirect_url
from .schema import field_type

# -- redirect URLs -------------------------------------------------------------


@field_type("uri")
class RedirectURLField(serializers.Field):
    def to_internal_value(self, data: Any) -> str:
        try:
            return validate_redirect_url(data)
        except InvalidRedirectUrl as exc:
            raise serializers.ValidationError(exc.error) from None


# -- strict scalar fields ----------------------------------------------------


class StrictStringField(serializers.CharField):
    """A ``CharField`` that refuses numbers and booleans instead of stringifying them."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            raise serializers.ValidationError("Must be a string")
        return super().to_internal_value(data)


@field_type("string")
class ObjectIdStringField(serializers.Field):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str) or to_object_id(data.strip()) is None:
            raise serializers.ValidationError("Must be a 24-character hexadecimal ObjectId")
        return data.strip().lower()


# ASCII digits with an optional fraction: what DRF's decimal fields and form
# encodings send. No sign, exponent, separators, spaces or NaN/Infinity.
PLAIN_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")


@field_type("amount")
class AmountField(serializers.Field):
    """A JSON number or a plain decimal string, passed on exactly for the service to check.

    Numbers arrive as parsed (``int`` or exact ``Decimal``); a string such as
    ``"12.50"`` becomes ``Decimal("12.50")``, so both spellings meet the same
    limits in the service.
    """

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str):
            if not PLAIN_DECIMAL.fullmatch(data):
                raise serializers.ValidationError("Amount must be a number or a decimal string such as 12.50")
            return Decimal(data)
        if isinstance(data, bool) or not isinstance(data, (int, float, Decimal)):
            raise serializers.ValidationError("Amount must be a number")
        return data


@field_type("string")
class OptionalTextField(serializers.Field):
    """A JSON string or ``null``, passed on as sent for the service to check."""

    not_text = "Message must be text"

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            raise serializers.ValidationError(self.not_text)
        return data


