"""Print the effective payments configuration with secrets masked."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from django_skillswap_payments.conf import (
    DEFAULTS,
    SETTINGS_NAME,
    display_value,
    key_mode,
    payments_settings,
)


class Command(BaseCommand):
    help = "Show the effective SKILLSWAP_PAYMENTS configuration (secrets masked) and where each value comes from."
    # The report is most needed when the configuration is broken, so failing checks must not block it.
    requires_system_checks = []

    def handle(self, *args, **options):
        payments_settings.reload()
        width = max(len(name) for name in DEFAULTS)
        self.stdout.write(f"{SETTINGS_NAME} (effective values)")
        for name in DEFAULTS:
            shown = display_value(name, getattr(payments_settings, name))
            self.stdout.write(f"  {name:<{width}}  {shown}  [{payments_settings.source(name)}]")
        mode = key_mode(payments_settings.STRIPE_SECRET_KEY)
        self.stdout.write("")
        self.stdout.write(
            f"Stripe mode: {'test' if mode else 'live' if mode is False else 'unknown'}"
        )
        self.stdout.write(f"Webhook secrets configured: {len(payments_settings.webhook_secrets)}")
        self.stdout.write("Run `manage.py check` to validate this configuration.")
