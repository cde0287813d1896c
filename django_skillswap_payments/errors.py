"""Typed exceptions raised by the payment rules.

Every error carries a stable ``code`` (safe to branch on), a short ``error``
string and an optional user-facing ``message``; ``as_dict()`` gives the JSON
shape of the legacy API (``{"error": ..., "message": ...}``) plus the code.
``http_status`` is a hint for HTTP layers; the service layer itself never
deals with HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STRIPE_CONFIG_HINT = "Please check your Stripe configuration"


class PaymentError(Exception):
    """Base class of every error the payment rules raise on purpose."""

    code = "payment_error"
    default_error = "Payment error"
    default_message: str | None = None
    http_status = 400

    def __init__(
        self,
        error: str | None = None,
        *,
        message: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        self.error = error or self.default_error
        self.message = message if message is not None else self.default_message
        self.detail = dict(detail or {})
        super().__init__(self.error)

    def as_dict(self) -> dict[str, Any]:
        """Return the error as a JSON-ready dict: ``error``, ``code`` and, when set, ``message``."""
        data: dict[str, Any] = {"error": self.error, "code": self.code}
        if self.message:
            data["message"] = self.message
        return data

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, error={self.error!r})"


class AlreadyPremium(PaymentError):
    code = "already_premium"
    default_error = "User already has premium access"


class ProfileNotFound(PaymentError):
    code = "profile_not_found"
    default_error = "User not found in MongoDB"
    default_message = "Please ensure your profile is properly set up"
    http_status = 404


class RecipientNotFound(PaymentError):
    code = "recipient_not_found"
    default_error = "Recipient user not found"
    http_status = 404


class InvalidRecipientId(PaymentError):
    code = "invalid_recipient_id"
    default_error = "Invalid user ID format"


class SelfTipNotAllowed(PaymentError):
    code = "self_tip_not_allowed"
    default_error = "You cannot tip yourself"


class InvalidAmount(PaymentError):
    code = "invalid_amount"
    default_error = "Invalid amount"


class InvalidMessage(PaymentError):
    code = "invalid_message"
    default_error = "Invalid tip message"


class InvalidRedirectUrl(PaymentError):
    code = "invalid_redirect_url"
    default_error = "Invalid redirect URL"


class PaymentNotFound(PaymentError):
    code = "payment_not_found"
    default_error = "Payment not found"
    http_status = 404


class PaymentMismatch(PaymentError):
    """Stripe reported an amount, currency or mode that differs from the stored payment."""

    code = "payment_mismatch"
    default_error = "Payment details reported by Stripe do not match the stored payment"
    http_status = 409


class InvalidTransition(PaymentError):
    code = "invalid_transition"
    default_error = "This payment cannot change to the requested status"
    http_status = 409


class CheckoutInProgress(PaymentError):
    """Another request for the same user is still creating the premium checkout."""

    code = "checkout_in_progress"
    default_error = "A checkout is already being created, please retry in a moment"
    http_status = 409


class CheckoutAlreadyCompleted(PaymentError):
    """The checkout cannot be canceled: Stripe already took (or is taking) its payment."""

    code = "checkout_completed"
    default_error = "Checkout already completed"
    http_status = 409


class PaymentProcessing(PaymentError):
    """The user's open checkout was submitted with a payment method that is still clearing."""

    code = "payment_processing"
    default_error = "A payment for this checkout is still being processed"
    default_message = "Please wait until it has cleared"
    http_status = 409


class WebhookVerificationError(PaymentError):
    """The webhook payload or its signature could not be verified."""

    code = "invalid_webhook"
    default_error = "Invalid webhook signature"


class WebhookPayloadTooLarge(WebhookVerificationError):
    """The body is larger than an event record can hold, so it could never be stored."""

    code = "webhook_too_large"
    default_error = "Webhook payload too large"
    http_status = 413


class WebhookNotConfigured(PaymentError):
    """No signing secret is configured, so no event can be trusted."""

    code = "webhook_not_configured"
    default_error = "Webhook secret not configured"
    default_message = "Set STRIPE_WEBHOOK_SECRET to the endpoint's signing secret"
    http_status = 500


class WebhookProcessingFailed(Exception):
    """A webhook handler raised; the event is stored as ``failed`` and should be delivered again.

    Not a :class:`PaymentError`: it wraps an unexpected failure, and
    ``error`` holds that failure's text rather than a fixed title. HTTP
    layers answer 5xx so Stripe delivers the event again.
    """

    def __init__(self, event_id: str, error: str) -> None:
        self.event_id = event_id
        self.error = error
        super().__init__(f"Processing of event {event_id} failed: {error}")


class WebhookEventNotFound(LookupError):
    """No event with this Stripe id was ever recorded."""


class GatewayError(PaymentError):
    """A call to Stripe failed.

    ``kind`` is one of :data:`GATEWAY_ERROR_KINDS`: ``card`` and
    ``invalid_request`` are client-side problems (400-class), ``auth`` means the
    keys are wrong (500-class, configuration), ``network`` and ``api`` mean
    Stripe could not be reached or failed (502/503).
    """

    default_error = "Stripe error"
    default_message = STRIPE_CONFIG_HINT
    STATUS_BY_KIND = {
        "card": 402,
        "invalid_request": 400,
        "auth": 500,
        "network": 503,
        "api": 502,
    }
    MESSAGE_BY_KIND = {
        "card": "Please check your payment details",
        "network": "The payment provider could not be reached, please try again",
    }

    def __init__(
        self,
        kind: str,
        stripe_message: str,
        *,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        if kind not in self.STATUS_BY_KIND:
            raise ValueError(f"unknown gateway error kind: {kind!r}")
        self.kind = kind
        self.stripe_message = stripe_message
        self.http_status = self.STATUS_BY_KIND[kind]
        super().__init__(
            f"Stripe error: {stripe_message}",
            message=self.MESSAGE_BY_KIND.get(kind, STRIPE_CONFIG_HINT),
            detail=detail,
        )

    @property
    def code(self) -> str:  # type: ignore[override]
        """``gateway_card``, ``gateway_auth``, ... — one stable code per kind."""
        return f"gateway_{self.kind}"


GATEWAY_ERROR_KINDS = tuple(GatewayError.STATUS_BY_KIND)


# -- Stripe Connect (services/connect.py) ---------------------------------------


class ConnectNotEnabled(PaymentError):
    code = "connect_not_enabled"
    default_error = "Payouts are not enabled"
    default_message = "This site does not pay tips out to their recipients"
    http_status = 404


class RecipientNotOnboarded(PaymentError):
    code = "recipient_not_onboarded"
    default_error = "Recipient cannot receive tips yet"
    default_message = "The recipient has not finished setting up payouts"
    http_status = 400


# -- refunds (services/refunds.py) -------------------------------------------------


class PaymentNotRefundable(PaymentError):
    """The payment took no money, or all of it was refunded already."""

    code = "payment_not_refundable"
    default_error = "This payment cannot be refunded"
    http_status = 409


class RefundExceedsRemainder(PaymentError):
    """The refund asks for more than what is left of the payment."""

    code = "refund_exceeds_remainder"
    default_error = "Refund amount exceeds the refundable remainder"


# -- currencies -------------------------------------------------------------


class UnsupportedCurrency(PaymentError):
    """A checkout asked for a currency the site does not accept (``CURRENCIES``)."""

    code = "unsupported_currency"
    default_error = "Unsupported currency"
