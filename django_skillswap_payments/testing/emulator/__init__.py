"""A stateful Stripe emulator for tests and demos.

One in-memory state machine (:class:`StripeEmulator`) with two ways in:

* :meth:`StripeEmulator.http_client` -- a stripe-python HTTP client for
  ``stripe.StripeClient(http_client=...)``; no sockets;
* :class:`EmulatorServer` -- a threaded HTTP server on 127.0.0.1 (also
  ``python -m django_skillswap_payments.testing.emulator``), or the WSGI app
  from :meth:`StripeEmulator.wsgi_app` / :func:`django_urls`.

It serves customers, Checkout Sessions (payment mode), PaymentIntents,
Charges, Refunds and Events with Stripe's JSON shapes and errors, validates
every parameter against stripe-python's generated TypedDicts, honours
``Idempotency-Key``, hosts a checkout page that accepts Stripe's test cards,
and delivers signed webhooks with optional duplication, reordering, delay and loss.
"""

from .cards import TEST_CARDS
from .client import EmulatorHTTPClient, activate, active_emulator, active_http_client
from .delivery import DeliveryAttempt, DeliveryOptions, WebhookDispatcher, WebhookEndpoint
from .django_mount import django_urls, django_view
from .errors import StripeError
from .server import EmulatorServer
from .state import DEFAULT_PUBLIC_URL, CheckoutOutcome, RecordedRequest, StripeEmulator
from .wsgi import EmulatorWSGIApp

__all__ = [
    "DEFAULT_PUBLIC_URL",
    "TEST_CARDS",
    "CheckoutOutcome",
    "DeliveryAttempt",
    "DeliveryOptions",
    "EmulatorHTTPClient",
    "EmulatorServer",
    "EmulatorWSGIApp",
    "RecordedRequest",
    "StripeEmulator",
    "StripeError",
    "WebhookDispatcher",
    "WebhookEndpoint",
    "activate",
    "active_emulator",
    "active_http_client",
    "django_urls",
    "django_view",
]
