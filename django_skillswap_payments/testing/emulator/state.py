"""The emulator's in-memory Stripe account: :class:`StripeEmulator`.

The account is assembled from one mixin per concern: the object store and its
plumbing (:mod:`.store`), then one per resource family -- customers
(:mod:`.customers`), Checkout Sessions (:mod:`.checkout`), hosted-page payments
with their PaymentIntents and charges (:mod:`.payments`), coupons and promotion
codes (:mod:`.coupons`), refunds (:mod:`.refunds`), disputes (:mod:`.disputes`),
events (:mod:`.events`), and Connect: accounts with their onboarding
(:mod:`.accounts`) and transfers with balances (:mod:`.transfers`).  This module adds the ways in
(in-process client, stripe client, WSGI app) and keeps the names other modules
and users import from here.
"""

from __future__ import annotations

from typing import Any

from .accounts import ConnectAccounts
from .checkout import DEFAULT_PUBLIC_URL, CheckoutSessions
from .coupons import Coupons
from .customers import Customers
from .events import Events
from .payments import CheckoutOutcome, HostedPayments
from .refunds import Refunds
from .store import IdempotentResult, InjectedFailure, RecordedRequest, filter_created
from .transfers import Transfers

__all__ = [
    "DEFAULT_PUBLIC_URL",
    "CheckoutOutcome",
    "IdempotentResult",
    "InjectedFailure",
    "RecordedRequest",
    "StripeEmulator",
    "filter_created",
]


class StripeEmulator(
    Coupons, HostedPayments, CheckoutSessions, Customers, Refunds, Events, ConnectAccounts, Transfers
):
    """A stateful, in-memory stand-in for the slice of Stripe's API the app uses.

    ``api_keys``: accepted secret keys (default: any ``sk_test_``/``rk_test_`` key).
    ``public_url``: base URL of hosted pages; by default taken from the request
    that creates the session (or :data:`DEFAULT_PUBLIC_URL` in-process).
    ``clock``: returns the current Unix time; :meth:`advance_time` adds to it.
    ``seed``: makes generated ids and shuffled deliveries reproducible.
    ``webhook_delivery``: ``"sync"``, ``"background"`` or ``"auto"`` (see :class:`WebhookDispatcher`).
    ``sleep``: how webhook delivery waits for delays and retry backoff.
    ``state_file``: a JSON file that keeps the account across restarts, as Stripe
    would: loaded when it exists, rewritten (atomically) after every operation
    that changes anything.  Webhook deliveries still queued at exit are not kept.
    """

    def http_client(self):
        """A stripe-python HTTP client answering from this emulator in memory (no sockets)."""
        from .client import EmulatorHTTPClient

        return EmulatorHTTPClient(self)

    def stripe_client(self, api_key: str = "sk_test_emulator", **options: Any):
        """A ``stripe.StripeClient`` wired to :meth:`http_client`; ``options`` go to StripeClient."""
        import stripe

        return stripe.StripeClient(api_key, http_client=self.http_client(), **options)

    def wsgi_app(self, prefix: str = ""):
        """A WSGI application serving the API and hosted pages, optionally under ``prefix``."""
        from .wsgi import EmulatorWSGIApp

        return EmulatorWSGIApp(self, prefix=prefix)
