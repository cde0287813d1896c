"""The only package that talks to Stripe.

Calls go through a :class:`stripe.StripeClient` built from settings (never
the global ``stripe.api_key``), with the API version pinned in
:data:`~django_skillswap_payments.conf.STRIPE_API_VERSION`. Every call that
creates something carries an idempotency key derived from our own ids, so a
retried request can never create a second customer, session or refund.
Stripe exceptions leave this module only as
:class:`~django_skillswap_payments.errors.GatewayError`.

Every function here that holds the API key or a signing secret, or calls
into ``stripe`` (whose frames hold them), is marked ``@sensitive_variables()``,
so Django's error reports show its frame and those below it as
``********************``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import stripe
from django.utils.module_loading import import_string
from django.views.decorators.debug import sensitive_variables

from .. import strict_json
from ..conf import payments_settings
from ..errors import GatewayError, WebhookVerificationError

if TYPE_CHECKING:
    from stripe.params import CustomerCreateParams, RefundCreateParams
    from stripe.params.checkout import SessionCreateParams, SessionRetrieveParams

_client_lock = threading.Lock()
_client_cache: dict[tuple[Any, ...], stripe.StripeClient] = {}

# Refund reasons Stripe accepts; anything else stays in our own records only.
STRIPE_REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")

# Stripe's header is "t=<unix time>,v1=<hex>[,v1=<hex>...]" and a few hundred characters long.
# Anything else is refused before stripe's parser sees it: that parser trusts the shape
# (a non-ASCII signature made hmac.compare_digest raise TypeError, a 500).
MAX_SIGNATURE_HEADER_LENGTH = 4096
_SIGNATURE_HEADER = re.compile(rf"[\x20-\x7e]{{1,{MAX_SIGNATURE_HEADER_LENGTH}}}")


@sensitive_variables()
def _client_config() -> tuple[Any, ...]:
    return (
        payments_settings.STRIPE_SECRET_KEY,
        payments_settings.STRIPE_API_VERSION,
        payments_settings.STRIPE_API_BASE,
        payments_settings.max_network_retries,
        payments_settings.STRIPE_HTTP_CLIENT,
    )


@sensitive_variables()
def get_client() -> stripe.StripeClient:
    """Return the ``StripeClient`` for the current settings (one per configuration)."""
    config = _client_config()
    client = _client_cache.get(config)
    if client is not None:
        return client
    api_key, api_version, api_base, retries, http_client_path = config
    if not api_key:
        raise GatewayError("auth", "No API key provided (set STRIPE_SECRET_KEY)")
    with _client_lock:
        client = _client_cache.get(config)
        if client is None:
            kwargs: dict[str, Any] = {
                "stripe_version": api_version,
                "max_network_retries": retries,
            }
            if api_base:
                kwargs["base_addresses"] = {"api": api_base.rstrip("/")}
            if http_client_path:
                kwargs["http_client"] = import_string(http_client_path)()
            client = stripe.StripeClient(api_key, **kwargs)
            _client_cache[config] = client
    return client


def reset_client() -> None:
    """Drop cached clients (settings changed, or a test swapped the HTTP client)."""
    with _client_lock:
        _client_cache.clear()


def _error_kind(exc: stripe.StripeError) -> str:
    if isinstance(exc, stripe.CardError):
        return "card"
    if isinstance(exc, (stripe.InvalidRequestError, stripe.IdempotencyError)):
        return "invalid_request"
    if isinstance(exc, (stripe.AuthenticationError, stripe.PermissionError)):
        return "auth"
    if isinstance(exc, stripe.APIConnectionError):
        return "network"
    return "api"


def to_gateway_error(exc: stripe.StripeError) -> GatewayError:
    """Translate a Stripe exception into a :class:`GatewayError` with a ``kind``."""
    message = exc.user_message or str(exc) or type(exc).__name__
    detail = {
        "stripe_error": type(exc).__name__,
        "stripe_code": getattr(exc, "code", None),
        "http_status": getattr(exc, "http_status", None),
        "request_id": getattr(exc, "request_id", None),
        "stripe_param": getattr(exc, "param", None),
    }
    return GatewayError(
        _error_kind(exc), message, detail={k: v for k, v in detail.items() if v is not None}
    )


@contextlib.contextmanager
def _stripe_errors() -> Iterator[None]:
    try:
        yield
    except stripe.StripeError as exc:
        raise to_gateway_error(exc) from exc


def payment_metadata(payment: Any) -> dict[str, str]:
    """Metadata tagging Stripe objects with the payment they belong to."""
    metadata = {
        "payment_id": str(payment.id),
        "type": payment.transaction_type,
        "from_user_id": str(payment.from_user_id),
    }
    if payment.to_user_id:
        metadata["to_user_id"] = str(payment.to_user_id)
    return metadata


@sensitive_variables()
def create_customer(profile: Any, *, metadata: dict[str, str] | None = None) -> stripe.Customer:
    """Create the Stripe customer for a payment profile (idempotent per profile)."""
    customer_metadata = {"profile_id": str(profile.id), **(metadata or {})}
    django_user_id = getattr(profile, "django_user_id", None)
    if django_user_id:
        customer_metadata["django_user_id"] = str(django_user_id)
    params: CustomerCreateParams = {"metadata": customer_metadata}
    with _stripe_errors():
        return get_client().v1.customers.create(
            params, {"idempotency_key": f"skillswap-customer-{profile.id}"}
        )


@sensitive_variables()
def create_checkout_session(
    payment: Any,
    *,
    product_name: str,
    success_url: str,
    cancel_url: str,
    customer_id: str | None = None,
    create_customer: bool = False,
    expires_at: dt.datetime | None = None,
    allow_promotion_codes: bool = False,
    replacing_missing_customer: str | None = None,
    adaptive_pricing: bool | None = None,
) -> stripe.checkout.Session:
    """Create a one-time Checkout Session (``mode="payment"``) for a pending payment.

    The price is sent inline as ``price_data`` in integer minor units; the
    payment id is attached as ``client_reference_id`` and in both the
    session's and the PaymentIntent's metadata. ``allow_promotion_codes``
    adds Checkout's promotion code field. ``customer_id`` charges that
    customer; without one, ``create_customer`` has Checkout create a customer
    (``customer_creation="always"``), named on the completed session.
    ``replacing_missing_customer`` marks the second request for a payment whose
    first named a customer Stripe does not have (see :func:`names_missing_customer`);
    it is sent under its own idempotency key, since its parameters differ.
    ``adaptive_pricing`` is sent as ``adaptive_pricing[enabled]`` unless ``None``
    (API versions before 2024-11-20.acacia do not know the parameter).
    """
    metadata = payment_metadata(payment)
    params: SessionCreateParams = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": payment.currency,
                    "unit_amount": int(payment.amount_minor),
                    "product_data": {"name": product_name},
                },
                "quantity": 1,
            }
        ],
        "client_reference_id": str(payment.id),
        "metadata": metadata,
        "payment_intent_data": {"metadata": dict(metadata)},
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    if customer_id:
        params["customer"] = customer_id
    elif create_customer:
        params["customer_creation"] = "always"
    destination = getattr(payment, "destination_account_id", None)
    if destination and not getattr(payment, "payout_held", None):
        # Stripe Connect destination charge (services/connect.py decided the routing and fee).
        params["payment_intent_data"]["transfer_data"] = {"destination": destination}
        if payment.application_fee_minor:
            params["payment_intent_data"]["application_fee_amount"] = int(payment.application_fee_minor)
    if expires_at is not None:
        params["expires_at"] = int(expires_at.timestamp())
    if allow_promotion_codes:
        params["allow_promotion_codes"] = True
    if adaptive_pricing is not None:
        params["adaptive_pricing"] = {"enabled": adaptive_pricing}
    key = f"skillswap-checkout-{payment.id}"
    if replacing_missing_customer:
        key += f"-without-{replacing_missing_customer}"
    with _stripe_errors():
        return get_client().v1.checkout.sessions.create(params, {"idempotency_key": key})


def names_missing_customer(error: GatewayError) -> bool:
    """Whether Stripe refused a request because its ``customer`` does not exist.

    A customer deleted in the Dashboard, or one made with the other mode's keys
    (a site moving from test keys to live ones keeps its stored customers), is
    ``resource_missing`` on the ``customer`` parameter.
    """
    return (
        error.kind == "invalid_request"
        and error.detail.get("stripe_code") == "resource_missing"
        and error.detail.get("stripe_param") == "customer"
    )


@sensitive_variables()
def retrieve_checkout_session(
    session_id: str, *, expand_payment_intent: bool = False
) -> stripe.checkout.Session:
    """Fetch a Checkout Session, optionally with its PaymentIntent expanded."""
    params: SessionRetrieveParams | None = (
        {"expand": ["payment_intent"]} if expand_payment_intent else None
    )
    with _stripe_errors():
        return get_client().v1.checkout.sessions.retrieve(session_id, params)


@sensitive_variables()
def expire_checkout_session(session_id: str) -> stripe.checkout.Session:
    """Expire an open Checkout Session so it can no longer be paid."""
    with _stripe_errors():
        return get_client().v1.checkout.sessions.expire(
            session_id, None, {"idempotency_key": f"skillswap-expire-{session_id}"}
        )


def refund_idempotency_key(payment: Any, amount_minor: int, refunded_before_minor: int) -> str:
    """The key of a refund: the payment, what was asked of it before, and the refund's amount.

    ``refunded_before_minor`` counts every refund recorded (failed ones too)
    and the amounts held for other requests. A retry of the same request after
    a lost answer reuses the key, so Stripe answers with the refund it already
    made; any later refund of the same payment gets a key of its own.
    """
    return f"skillswap-refund-{payment.id}-{int(refunded_before_minor)}-{int(amount_minor)}"


@sensitive_variables()
def create_refund(
    payment: Any,
    *,
    reason: str | None = None,
    amount_minor: int | None = None,
    refunded_before_minor: int = 0,
) -> stripe.Refund:
    """Refund ``amount_minor`` of a completed payment (default: all that was not refunded before).

    ``refunded_before_minor`` is what was asked of the payment before this
    refund; the idempotency key is derived from it (:func:`refund_idempotency_key`).
    """
    if not payment.stripe_payment_intent_id:
        raise GatewayError("invalid_request", "Payment has no PaymentIntent to refund")
    amount = int(payment.amount_minor) - int(refunded_before_minor) if amount_minor is None else int(amount_minor)
    params: RefundCreateParams = {
        "payment_intent": payment.stripe_payment_intent_id,
        "amount": amount,
        "metadata": payment_metadata(payment),
    }
    if reason in STRIPE_REFUND_REASONS:
        params["reason"] = reason
    if getattr(payment, "destination_account_id", None) and not getattr(payment, "payout_held", None):
        # A Connect destination charge: take the money back from the recipient, fee included.
        params["reverse_transfer"] = True
        params["refund_application_fee"] = True
    key = refund_idempotency_key(payment, amount, refunded_before_minor)
    with _stripe_errors():
        return get_client().v1.refunds.create(params, {"idempotency_key": key})


@sensitive_variables()
def list_refunds(charge_id: str) -> list[stripe.Refund]:
    """Every refund of a charge (newest first), following Stripe's pages."""
    with _stripe_errors():
        page = get_client().v1.refunds.list({"charge": charge_id, "limit": 100})
        return list(page.auto_paging_iter())


def parse_event_json(payload: bytes | str) -> dict[str, Any]:
    """Parse a webhook body into plain JSON data, which must be an object.

    Stricter than ``json.loads``: ``NaN``/``Infinity`` and lone UTF-16
    surrogates (``"\\ud800"``) are refused, so the result can be stored and
    compared as ordinary JSON. Raises
    :class:`~django_skillswap_payments.errors.WebhookVerificationError`.
    """
    try:
        text = payload.decode("utf-8") if isinstance(payload, (bytes, bytearray)) else payload
        data = strict_json.loads(text)
    except ValueError as exc:  # includes UnicodeDecodeError and JSONDecodeError
        raise WebhookVerificationError(f"Invalid webhook payload: {exc}") from None
    except RecursionError:
        raise _too_deep() from None
    if not isinstance(data, dict):
        raise WebhookVerificationError(
            "Invalid webhook payload", message="The event must be a JSON object"
        )
    try:
        # JSON's \ud800-style escapes can spell lone surrogates, which are not text: no
        # Stripe event holds one, and MongoDB could not store it.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise WebhookVerificationError(
            "Invalid webhook payload", message="The event contains an invalid Unicode escape"
        ) from None
    except RecursionError:
        raise _too_deep() from None
    return data


def _too_deep() -> WebhookVerificationError:
    # Python's parser gives up some thousands of levels down; no Stripe event comes close.
    return WebhookVerificationError("Invalid webhook payload", message="The event is nested too deeply")


@sensitive_variables()
def verify_webhook(
    payload: bytes | str,
    sig_header: str | None,
    secrets: Sequence[str] | None = None,
    tolerance: int | None = None,
) -> dict[str, Any]:
    """Verify a webhook's ``Stripe-Signature`` and return the event as a plain dict.

    The signature is checked first, against each configured secret in turn
    (so secrets can be rotated); only a body that verifies is parsed at all.
    Raises :class:`~django_skillswap_payments.errors.WebhookVerificationError`
    when no secret is configured, the header is missing or malformed, the
    signature does not match any secret or is too old, or the body is not a
    JSON object.
    """
    secrets = list(payments_settings.webhook_secrets if secrets is None else secrets)
    tolerance = payments_settings.webhook_tolerance if tolerance is None else tolerance
    if not secrets:
        raise WebhookVerificationError("Webhook secret not configured")
    if not sig_header:
        raise WebhookVerificationError("Missing Stripe-Signature header")
    if not isinstance(sig_header, str) or not _SIGNATURE_HEADER.fullmatch(sig_header):
        raise WebhookVerificationError(
            "Invalid webhook signature", detail={"reason": "malformed Stripe-Signature header"}
        )
    try:
        text = payload.decode("utf-8") if isinstance(payload, (bytes, bytearray)) else payload
    except UnicodeDecodeError:
        # Stripe signs the UTF-8 text of the body; other bytes cannot be one of its events.
        raise WebhookVerificationError("Invalid webhook payload: not UTF-8") from None
    reason = "no secret matched"
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(text, sig_header, secret, tolerance)
        except stripe.SignatureVerificationError as exc:
            reason = str(exc)
            continue
        except Exception as exc:
            # Whatever else stripe's parser trips over is a bad request, not a server error.
            reason = f"signature could not be checked ({type(exc).__name__})"
            break
        return parse_event_json(text)
    # Not chained: the original traceback runs through stripe's frames, which hold the secret.
    raise WebhookVerificationError("Invalid webhook signature", detail={"reason": reason}) from None
