"""Every API error as JSON ``{"error": ..., "message": ...}`` with a fitting status.

Payment rule violations (:class:`~django_skillswap_payments.errors.PaymentError`)
keep the text and status they carry, so the legacy messages
("User already has premium access", "Recipient user not found", ...) reach
clients unchanged. Framework errors (bad JSON, missing credentials,
throttling, validation) are reshaped into the same two keys. A database that
cannot be reached answers 503 with ``Retry-After``. Anything else is a bug and
is left to Django's 500 handling.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from pymongo.errors import ConnectionFailure, PyMongoError
from rest_framework import exceptions
from rest_framework.response import Response

from ..errors import GatewayError, PaymentError
from .content import RequestTooLarge

logger = logging.getLogger("django_skillswap_payments.api")

# Short, stable error titles; DRF's own detail text becomes the ``message``.
FRAMEWORK_ERRORS: tuple[tuple[type[exceptions.APIException], str], ...] = (
    (exceptions.ParseError, "Malformed request body"),
    (exceptions.UnsupportedMediaType, "Unsupported media type"),
    (exceptions.NotAuthenticated, "Authentication required"),
    (exceptions.AuthenticationFailed, "Authentication failed"),
    (exceptions.PermissionDenied, "Permission denied"),
    (exceptions.NotFound, "Not found"),
    (exceptions.MethodNotAllowed, "Method not allowed"),
    (exceptions.NotAcceptable, "Not acceptable"),
    (exceptions.Throttled, "Too many requests"),
    (exceptions.ValidationError, "Invalid request"),
    (RequestTooLarge, "Request body too large"),
)


# How long callers are asked to wait before trying again while MongoDB is unreachable.
DATABASE_RETRY_AFTER_SECONDS = 30
DATABASE_UNAVAILABLE = (
    "Service temporarily unavailable",
    "The payment database cannot be reached right now; please try again shortly",
)


def is_database_unavailable(exc: BaseException) -> bool:
    """True for pymongo's "no server, lost connection, timed out" errors: retrying later may work."""
    return isinstance(exc, ConnectionFailure) or (isinstance(exc, PyMongoError) and exc.timeout)


def log_database_unavailable(exc: BaseException) -> None:
    logger.warning("MongoDB unavailable: %s: %s", type(exc).__name__, exc)


def error_body(error: str, message: str | None = None) -> dict[str, str]:
    """The JSON error shape of the legacy API."""
    body = {"error": error}
    if message:
        body["message"] = message
    return body


def error_response(
    error: str,
    message: str | None = None,
    *,
    status: int,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return Response(error_body(error, message), status=status, headers=dict(headers or {}))


def first_message(detail: Any) -> str:
    """Flatten DRF error details into one readable line (``"field: text"``)."""
    if isinstance(detail, Mapping):
        for field, value in detail.items():
            text = first_message(value)
            return text if field in ("non_field_errors", "detail") else f"{field}: {text}"
        return ""
    if isinstance(detail, (list, tuple)):
        return first_message(detail[0]) if detail else ""
    return str(detail)


def log_gateway_error(exc: PaymentError) -> None:
    if isinstance(exc, GatewayError):
        # Stripe outages and key problems are operator issues; keep the details in the log.
        logger.warning("Stripe call failed (%s): %s %s", exc.kind, exc.stripe_message, exc.detail)


def payment_error_response(exc: PaymentError) -> Response:
    log_gateway_error(exc)
    return error_response(exc.error, exc.message, status=exc.http_status)


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    """DRF exception handler used by every view of the app."""
    if isinstance(exc, PaymentError):
        return payment_error_response(exc)
    if is_database_unavailable(exc):
        log_database_unavailable(exc)
        return error_response(*DATABASE_UNAVAILABLE, status=503,
                              headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    headers: dict[str, str] = {}
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    wait = getattr(exc, "wait", None)
    if wait:
        headers["Retry-After"] = str(int(wait))
    title = next((text for cls, text in FRAMEWORK_ERRORS if isinstance(exc, cls)), None)
    message = first_message(exc.detail)
    return error_response(title or message or "Error", message if title else None,
                          status=exc.status_code, headers=headers)
