"""Exact JSON in and out: money never passes through a binary float.

:class:`ExactJSONParser` reads JSON numbers with a fraction as ``Decimal``
(``10.10`` stays ``Decimal("10.10")``) and rejects ``NaN``/``Infinity``.
:class:`ExactJSONRenderer` writes ``Decimal`` values as JSON numbers with
their exact digits (``Decimal("10.00")`` is rendered ``10.00``, not ``10.0``).
"""

from __future__ import annotations

import secrets
from contextvars import ContextVar
from decimal import Decimal
from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

from .. import strict_json

# The API only receives small bodies; anything bigger is refused before parsing.
MAX_BODY_BYTES = 64 * 1024


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = f"Request body must not exceed {MAX_BODY_BYTES} bytes."
    default_code = "request_too_large"


class ExactJSONParser(JSONParser):
    """JSON parser that keeps decimal fractions exact and bounds the body size."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read(MAX_BODY_BYTES + 1) if stream is not None else b""
        if len(raw) > MAX_BODY_BYTES:
            raise RequestTooLarge()
        encoding = (parser_context or {}).get("encoding") or "utf-8"
        try:
            text = raw.decode(encoding)
            return strict_json.loads(text, exact_decimals=True)
        except (ValueError, LookupError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None


# The placeholder token and the digits collected by the render in progress.
_decimal_placeholders: ContextVar[tuple[str, list[str]] | None] = ContextVar(
    "_decimal_placeholders", default=None
)


class _DecimalPlaceholderEncoder(JSONEncoder):
    """Writes each finite ``Decimal`` as a placeholder string during an exact render."""

    def default(self, obj: Any) -> Any:
        placeholders = _decimal_placeholders.get()
        if placeholders is not None and isinstance(obj, Decimal) and obj.is_finite():
            token, numbers = placeholders
            numbers.append(format(obj, "f"))
            return f"{token}:{len(numbers) - 1}"
        return super().default(obj)


class ExactJSONRenderer(JSONRenderer):
    """JSON renderer writing ``Decimal`` as an exact JSON number."""

    encoder_class = _DecimalPlaceholderEncoder

    def render(self, data, accepted_media_type=None, renderer_context=None):
        # Decimals are first rendered as unguessable placeholder strings, then the
        # quoted placeholders are swapped for the digits. The random token keeps
        # user-supplied strings from ever matching a placeholder.
        token = secrets.token_hex(8)
        numbers: list[str] = []
        reset_token = _decimal_placeholders.set((token, numbers))
        try:
            rendered = super().render(data, accepted_media_type, renderer_context)
        finally:
            _decimal_placeholders.reset(reset_token)
        if not numbers:
            return rendered
        text = rendered.decode()
        for index, digits in enumerate(numbers):
            text = text.replace(f'"{token}:{index}"', digits, 1)
        return text.encode()
