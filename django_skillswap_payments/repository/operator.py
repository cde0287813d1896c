"""Reads for the platform's operator: every user's payments, newest first."""

from __future__ import annotations

from typing import Any

from ..documents import Payment
from .history import payment_history


def all_payments(**filters: Any) -> list[Payment]:
    """Payments of all users, filtered and paginated like a user's history (see ``payment_history``)."""
    return payment_history(None, **filters)
