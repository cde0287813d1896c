"""Rate limits for the endpoints that create Stripe objects.

The limit is not one of DRF's ``throttle_classes``: DRF checks those before
the method and the body, so a ``GET`` answered 429 instead of 405 and every
malformed request used up the allowance. :func:`checkout_allowance` wraps the
service call instead: it refuses when the allowance is spent, and counts only
the starts the payment rules let through to Stripe.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rest_framework.exceptions import Throttled
from rest_framework.throttling import UserRateThrottle

from ..conf import payments_settings
from ..errors import GatewayError, PaymentError


class CheckoutRateThrottle(UserRateThrottle):
    """Limits Checkout Session creation per user.

    The rate comes from ``SKILLSWAP_PAYMENTS["CHECKOUT_THROTTLE_RATE"]``
    (DRF syntax, e.g. ``"20/min"``; ``None`` turns the limit off) instead of
    DRF's ``DEFAULT_THROTTLE_RATES``, so the app works without touching the
    host's throttle settings. Counts live in the default Django cache.

    :meth:`has_room` and :meth:`record` split DRF's ``allow_request`` (which
    checks and counts at once) so a request is counted only once it is known
    to be a real checkout start.
    """

    # Set by SimpleRateThrottle from the parsed rate; declared here for type checkers.
    num_requests: int
    duration: int

    scope = "skillswap_payments_checkout"

    def get_rate(self) -> str | None:
        return payments_settings.CHECKOUT_THROTTLE_RATE or None

    def has_room(self, request: Any, view: Any) -> bool:
        """Whether the user may start another checkout now; counts nothing."""
        self.key = self.get_cache_key(request, view) if self.rate is not None else None
        if self.key is None:
            return True
        self._load_history()
        return len(self.history) < self.num_requests

    def record(self) -> None:
        """Count one checkout start of the user :meth:`has_room` was asked about."""
        if self.key is None:
            return
        # Read again: concurrent starts of the same user may have been counted meanwhile.
        self._load_history()
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)

    def _load_history(self) -> None:
        self.now = self.timer()
        self.history = [moment for moment in self.cache.get(self.key, []) if moment > self.now - self.duration]


@contextmanager
def checkout_allowance(request: Any, view: Any) -> Iterator[None]:
    """Run one checkout start under the user's limit (429 with ``Retry-After`` when spent).

    The start is counted unless the payment rules refused it before any
    Stripe call (an invalid amount, a self-tip, premium already owned...);
    Stripe's own refusals and unexpected failures count.
    """
    throttle = CheckoutRateThrottle()
    if not throttle.has_room(request, view):
        raise Throttled(wait=throttle.wait())
    counted = True
    try:
        yield
    except PaymentError as exc:
        counted = isinstance(exc, GatewayError)
        raise
    finally:
        if counted:
            throttle.record()
