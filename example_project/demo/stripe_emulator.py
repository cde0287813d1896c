"""The Stripe emulator used when the demo runs without Stripe keys.

It lives in this process and is served under ``/stripe-emulator/``; its signed
webhooks go back to this site's webhook endpoint, exactly as Stripe's would.
"""

from django.conf import settings

from django_skillswap_payments.testing.emulator import StripeEmulator

emulator = StripeEmulator(webhook_delivery="background")
emulator.add_webhook_endpoint(
    f"{settings.DEMO_BASE_URL}/api/payments/webhook/", settings.STRIPE_EMULATOR_WEBHOOK_SECRET
)
