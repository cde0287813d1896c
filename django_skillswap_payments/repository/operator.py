"""Reads for the platform's operator: every user's payments, newest first."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..conf import DEFAULT_PAGE_SIZE
from ..documents import Payment
from .history import _page


def all_payments(
    *,
    transaction_type: str | None = None,
    status: str | None = None,
    created_from: dt.datetime | None = None,
    created_to: dt.datetime | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    before: Any = None,
) -> list[Payment]:
    """Payments of all users, newest first, filtered like a user's history and paginated.

    ``created_from`` is inclusive, ``created_to`` exclusive.
    """
    query = Payment.objects()
    if transaction_type:
        query = query.filter(transaction_type=transaction_type)
    if status:
        query = query.filter(status=status)
    if created_from is not None:
        query = query.filter(created_at__gte=created_from)
    if created_to is not None:
        query = query.filter(created_at__lt=created_to)
    return _page(query, limit=limit, before=before)
