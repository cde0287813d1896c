"""Event type → handler, gathered from each concern's module.

A new concern adds a module with its own ``HANDLERS`` dict and one line here.
Handlers return an :class:`~.outcome.Outcome` or raise to get the event retried.
"""

from __future__ import annotations

from collections.abc import Callable

from ..stripe_facts import StripeEvent
from . import charges, checkout, connect, legacy
from .outcome import Outcome

HANDLERS: dict[str, Callable[[StripeEvent], Outcome]] = {
    **checkout.HANDLERS,
    **charges.HANDLERS,
    **legacy.HANDLERS,
    **connect.HANDLERS,
}
