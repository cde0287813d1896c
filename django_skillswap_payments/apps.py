"""App configuration: registers the system checks; connects the receipts receiver only when ``RECEIPTS`` is on."""

from django.apps import AppConfig


class SkillswapPaymentsConfig(AppConfig):
    name = "django_skillswap_payments"
    label = "skillswap_payments"
    verbose_name = "SkillSwap payments"

    def ready(self) -> None:
        from . import checks, conf, receipts  # noqa: F401  (conf hooks setting_changed)

        checks.register()
        receipts.connect_if_enabled()
