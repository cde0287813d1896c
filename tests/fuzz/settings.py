"""Django settings for the API fuzz run (``scripts/fuzz``): the test settings, made thread-safe.

The fuzzer calls the WSGI app from its own worker thread, so Django's users
live in a SQLite file (an in-memory database would be empty in that thread).
Stripe is the in-process emulator; checkout throttling is off so every
generated request reaches the validation it is meant to exercise.
"""

import os
import tempfile

from tests.settings import *  # noqa: F403
from tests.settings import SKILLSWAP_PAYMENTS as _TEST_PAYMENTS

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SKILLSWAP_FUZZ_SQLITE") or os.path.join(tempfile.gettempdir(), "skillswap-fuzz.sqlite3"),
    }
}

SKILLSWAP_PAYMENTS = {
    **_TEST_PAYMENTS,
    "STRIPE_SECRET_KEY": "sk_test_emulator",
    "STRIPE_WEBHOOK_SECRET": "whsec_test_emulator",
    "STRIPE_API_BASE": None,
    "STRIPE_HTTP_CLIENT": "django_skillswap_payments.testing.emulator.active_http_client",
    "STRIPE_MAX_NETWORK_RETRIES": 0,
    "CHECKOUT_THROTTLE_RATE": None,
}
