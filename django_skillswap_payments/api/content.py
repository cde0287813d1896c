"""Exact JSON in and out: money never passes through a binary float.

:class:`ExactJSONParser` reads JSON numbers with a fraction as ``Decimal``
(``10.10`` stays ``Decimal("10.10")``) and rejects ``NaN``/``Infinity``.
It also refuses what would only fail later, after something was written:
bodies over :data:`MAX_BODY_BYTES`, nesting deeper than
:data:`MAX_NESTING_DEPTH` and strings (keys included) holding a lone UTF-16
surrogate such as ``"\\ud800"``, which no database or Stripe call can encode.
:class:`ExactJSONRenderer` writes ``Decimal`` values as JSON numbers with
their exact digits (``Decimal("10.00")`` is rendered ``10.00``, not ``10.0``).
"""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar
from decimal import Decimal
from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

from .. import strict_json

# The API only receives small bodies; anything bigger is refused before parsing.
MAX_BODY_BYTES = 64 * 1024
# Request bodies are flat objects; deep nesting only serves to exhaust the parser's stack.
MAX_NESTING_DEPTH = 32

# What decides nesting: string quotes, escape pairs (an escaped \" stays inside its string) and brackets.
_STRUCTURE_TOKEN = re.compile(r'\\.|["\[\]{}]', re.DOTALL)
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = f"Request body must not exceed {MAX_BODY_BYTES} bytes."
    default_code = "request_too_large"


class ExactJSONParser(BaseParser):
    """JSON parser that keeps decimal fractions exact and bounds size, depth and text.

    A ``BaseParser`` rather than DRF's ``JSONParser``: DRF hands a
    ``JSONParser`` the whole ``request.body``, which Django refuses beyond
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` with its own HTML 400 before any cap of
    ours applies. This parser reads the stream itself, one byte past the cap.
    """

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read(MAX_BODY_BYTES + 1) if stream is not None else b""
        if len(raw) > MAX_BODY_BYTES:
            raise RequestTooLarge()
        encoding = (parser_context or {}).get("encoding") or "utf-8"
        try:
            text = raw.decode(encoding)
        except (ValueError, LookupError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if _nesting_exceeds(text, MAX_NESTING_DEPTH):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_NESTING_DEPTH} levels")
        try:
            data = strict_json.loads(text, exact_decimals=True)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if _holds_lone_surrogate(data):
            raise ParseError("JSON parse error - a string contains a lone UTF-16 surrogate escape")
        return data


def _nesting_exceeds(text: str, limit: int) -> bool:
    """Whether arrays/objects in ``text`` nest deeper than ``limit`` (checked before parsing).

    One pass over the structural tokens; brackets inside strings do not count.
    Text that is not JSON may be misjudged here, but the parser refuses it anyway.
    """
    depth = 0
    in_string = False
    for match in _STRUCTURE_TOKEN.finditer(text):
        token = match.group()
        if token == '"':
            in_string = not in_string
        elif in_string or len(token) == 2:
            continue
        elif token in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _holds_lone_surrogate(data: Any) -> bool:
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return True
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


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
