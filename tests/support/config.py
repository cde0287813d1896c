"""The app's settings as a test overrides them."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def payments_config(**overrides: Any) -> dict[str, Any]:
    """The suite's ``SKILLSWAP_PAYMENTS`` with ``overrides``, for ``override_settings``."""
    return {**settings.SKILLSWAP_PAYMENTS, **overrides}
