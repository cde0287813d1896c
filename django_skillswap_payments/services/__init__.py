"""The payment rules, free of HTTP, by job.

- :mod:`.checkout` — starting a tip, and what every start shares (validation,
  the Stripe session);
- :mod:`.premium_checkout` — starting the premium purchase (the
  one-open-premium-checkout rule);
- :mod:`.confirmation` — the success page asking Stripe how a checkout ended;
- :mod:`.cancellation` — ending an unpaid checkout: the cancel page, and open
  checkouts retired because Stripe no longer has them open;
- :mod:`.transitions` — complete / fail / expire / refund, each announced by
  its signal exactly once (and the automatic refund of a second premium payment);
- :mod:`.refunds` — full and partial refunds, asked for by staff or reported
  by Stripe, and refunds that fail later;
- :mod:`.reads` — premium status and histories (empty for users with no profile);
- :mod:`.promotions` — promotion codes: which checkouts offer them, and when a
  discounted total completes a payment;
- :mod:`.legacy` — keeping the legacy gateway's subscriptions in step with Stripe.
- :mod:`.analytics` — the staff revenue report: valid ranges, periods, rates;
  :mod:`.export` — paid payments as accounting rows.

Views and webhook handlers call these functions; they talk to Stripe through
:mod:`~django_skillswap_payments.gateway`, read Stripe's answers through
:mod:`~django_skillswap_payments.stripe_facts`, persist through
:mod:`~django_skillswap_payments.repository` and announce changes through
:mod:`~django_skillswap_payments.signals`, only after the database confirmed them.
"""

from __future__ import annotations

from ..currencies import price_list
from ..redirects import validate_redirect_url
from .cancellation import cancel_checkout_session
from .checkout import (
    CheckoutStart,
    clean_tip_message,
    start_tip_checkout,
    start_tip_checkout_for_user,
    with_session_id,
)
from .confirmation import confirm_checkout_session
from .legacy import SubscriptionSync, sync_legacy_subscription
from .premium import forget_premium_status, is_premium_user, premium_status_of_user
from .premium_checkout import start_premium_checkout, start_premium_checkout_for_user
from .reads import get_payment_history, get_premium_status, get_tip_history, is_premium
from .transitions import (
    TransitionResult,
    complete_payment,
    expire_payment,
    fail_payment,
    mark_payment_refunded,
    refund_duplicate,
    refund_payment,
)

__all__ = [
    "CheckoutStart",
    "SubscriptionSync",
    "TransitionResult",
    "forget_premium_status",
    "is_premium_user",
    "premium_status_of_user",
    "price_list",
    "cancel_checkout_session",
    "clean_tip_message",
    "complete_payment",
    "confirm_checkout_session",
    "expire_payment",
    "fail_payment",
    "get_payment_history",
    "get_premium_status",
    "get_tip_history",
    "is_premium",
    "mark_payment_refunded",
    "refund_duplicate",
    "refund_payment",
    "start_premium_checkout",
    "start_premium_checkout_for_user",
    "start_tip_checkout",
    "start_tip_checkout_for_user",
    "sync_legacy_subscription",
    "validate_redirect_url",
    "with_session_id",
]
