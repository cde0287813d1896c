"""Rate limits for the endpoints that create Stripe objects."""

from __future__ import annotations

from rest_framework.throttling import UserRateThrottle

from ..conf import payments_settings


class CheckoutRateThrottle(UserRateThrottle):
    """Limits Checkout Session creation per user.

    The rate comes from ``SKILLSWAP_PAYMENTS["CHECKOUT_THROTTLE_RATE"]``
    (DRF syntax, e.g. ``"20/min"``; ``None`` turns the limit off) instead of
    DRF's ``DEFAULT_THROTTLE_RATES``, so the app works without touching the
    host's throttle settings. Counts live in the default Django cache.
    """

    scope = "skillswap_payments_checkout"

    def get_rate(self) -> str | None:
        return payments_settings.CHECKOUT_THROTTLE_RATE or None
