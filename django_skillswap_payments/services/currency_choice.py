"""A buyer who changes currency: the open premium checkout in the old one is retired.

One premium per user, in any currency: the open checkout slot and the
``premium_holder`` key are the user's, not the currency's. An open premium
checkout is handed out again only for the currency it charges in. A start in
another currency closes it first, at Stripe before here
(:func:`~.cancellation.close_checkout`), so the old page can no longer take
money; if Stripe says it was paid meanwhile, the payment completes and the
buyer already has premium. Then the new checkout is created.
"""

from __future__ import annotations

from ..documents import Payment
from .cancellation import close_checkout
from .transitions import TransitionResult

# failure_reason of a premium checkout closed because the buyer started one in another currency
REASON_REPLACED = "checkout_replaced"


def replace_checkout(holder: Payment) -> TransitionResult:
    """Close the open premium checkout ``holder`` because its buyer now pays in another currency."""
    return close_checkout(holder, reason=REASON_REPLACED)
