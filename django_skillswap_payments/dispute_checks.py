"""System checks of the disputes settings (ids ``skillswap_payments.E020``–``E029``).

* ``skillswap_payments.E020`` – ``LOST_DISPUTE_REVOKES_PREMIUM`` is not ``True`` or ``False``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from .conf import SETTINGS_NAME, payments_settings


def check_dispute_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from .services.disputes import lost_dispute_revokes_premium

    if not isinstance(getattr(settings, SETTINGS_NAME, None) or {}, dict):
        return []  # reported as E007 by the main checks
    payments_settings.reload()
    try:
        lost_dispute_revokes_premium()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), hint="Use True (the default) or False.", id="skillswap_payments.E020")]
    return []
