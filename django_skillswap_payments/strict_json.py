"""JSON parsing that never lets a value become a binary float or a non-number.

Both the API's request bodies and Stripe's webhook bodies go through
:func:`loads`: ``NaN``, ``Infinity`` and ``-Infinity`` are refused (they are
not JSON), and with ``exact_decimals`` a number with a fraction is read as
``Decimal`` so ``10.10`` keeps its digits.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(text: str, *, exact_decimals: bool = False) -> Any:
    """Parse JSON text; raise ``ValueError`` for invalid JSON or ``NaN``/``Infinity``."""
    if exact_decimals:
        return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    return json.loads(text, parse_constant=_reject_constant)
