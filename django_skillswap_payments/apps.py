"""App configuration: registers the system checks; connects the receipts receiver only when ``RECEIPTS`` is on."""

from django.apps import AppConfig
from django.core import checks as django_checks


class SkillswapPaymentsConfig(AppConfig):
    name = "django_skillswap_payments"
    label = "skillswap_payments"
    verbose_name = "SkillSwap payments"

    def ready(self) -> None:
        from . import checks, conf, receipts, replication  # noqa: F401  (conf, replication hook setting_changed)

        checks.register()
        django_checks.register(replication.check_replication_settings, checks.TAG)
        receipts.connect_if_enabled()
