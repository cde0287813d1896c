"""A buyer who changes currency: the open premium checkout in the old one is canceled.

One premium per user, in any currency: the open checkout slot and the
``premium_holder`` key are the user's, not the currency's. An open premium
checkout is handed out again only for the currency it charges in. A start in
another currency cancels it first, as the cancel page would (expired at Stripe
before here, ``failure_reason`` ``checkout_canceled``), so the old page can no
longer take money; if Stripe says it was paid meanwhile, the payment completes
and the buyer already has premium. Then the new checkout is created.
"""

from __future__ import annotations

from ..documents import Payment
from ..errors import GatewayError
from ..repository import payments as payment_store
from .cancellation import close_checkout
from .transitions import REASON_CANCELED, TransitionResult


def replace_checkout(holder: Payment) -> TransitionResult:
    """Cancel the open premium checkout ``holder``: its buyer now pays in another currency."""
    # Noted first, so Stripe's own checkout.session.expired (which may arrive before
    # close_checkout returns) records the same reason.
    payment_store.note_cancel_request(holder.id)
    try:
        return close_checkout(holder, reason=REASON_CANCELED)
    except GatewayError:
        payment_store.note_cancel_request(holder.id, requested=False)  # nothing was canceled
        raise
