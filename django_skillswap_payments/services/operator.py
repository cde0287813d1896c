"""What the platform's staff read: every payment, whoever made it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..conf import DEFAULT_PAGE_SIZE
from ..documents import Payment
from ..repository import operator as operator_store


def list_payments(
    *,
    transaction_type: str | None = None,
    status: str | None = None,
    created_from: dt.datetime | None = None,
    created_to: dt.datetime | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    before: Any = None,
) -> list[Payment]:
    """Every user's payments, newest first; the caller has checked staff access."""
    return operator_store.all_payments(
        transaction_type=transaction_type,
        status=status,
        created_from=created_from,
        created_to=created_to,
        limit=limit,
        before=before,
    )
