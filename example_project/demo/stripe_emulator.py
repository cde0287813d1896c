"""The Stripe emulator used when the demo runs without Stripe keys.

It lives in this process and is served under ``/stripe-emulator/``; its signed
webhooks go back to this site's webhook endpoint, exactly as Stripe's would.
Like a Stripe account it answers only the site's own secret key and keeps its
sessions, payments and events across restarts (in ``var/stripe-emulator.json``).
"""

from django.conf import settings

from django_skillswap_payments.testing.emulator import StripeEmulator

emulator = StripeEmulator(
    api_keys=[settings.SKILLSWAP_PAYMENTS["STRIPE_SECRET_KEY"]],
    state_file=settings.STRIPE_EMULATOR_STATE_FILE,
    webhook_delivery="background",
)
emulator.add_webhook_endpoint(
    f"{settings.DEMO_BASE_URL}/api/payments/webhook/", settings.STRIPE_EMULATOR_WEBHOOK_SECRET
)
