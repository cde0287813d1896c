"""URL patterns of the payments API; include them under a prefix of your choice::

    path("api/payments/", include("django_skillswap_payments.urls"))

Every route answers with and without its trailing slash (``tip/create`` and
``tip/create/``): a POST cannot follow ``APPEND_SLASH``'s redirect, and Stripe
counts a redirect as a failed delivery. The canonical spelling, the one
``reverse()`` gives, keeps the slash. Any other path under the prefix answers
a JSON 404, so the app must have a prefix of its own.

The OpenAPI schema (``schema/``) is served only when drf-spectacular is
installed (``pip install django-skillswap-payments[openapi]``).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.util import find_spec
from typing import Any

from django.urls import URLPattern, path, re_path

from . import __version__
from .api import refunds, staff, views
from .api.analytics import PaymentsAnalyticsView

app_name = "payments"


def both_spellings(route: str, view: Callable[..., Any], name: str) -> list[URLPattern]:
    """``route`` (named, canonical) and the same route without its trailing slash."""
    return [path(route, view, name=name), path(route.removesuffix("/"), view)]


urlpatterns = [
    # Analytics (staff), first: no payments/<payment_id>/ route may take "analytics" for an id.
    *both_spellings("payments/analytics/", PaymentsAnalyticsView.as_view(), "payment-analytics"),
    # disputes (before any payments/<payment_id>/... route)
    *both_spellings("payments/disputes/", views.DisputeListView.as_view(), "payment-disputes"),
    *both_spellings("premium/create-checkout/", views.PremiumCheckoutView.as_view(), "premium-create-checkout"),
    *both_spellings("subscription/status/", views.PremiumStatusView.as_view(), "subscription-status"),
    *both_spellings("tip/create/", views.TipCheckoutView.as_view(), "tip-create"),
    *both_spellings("tip/history/", views.TipHistoryView.as_view(), "tip-history"),
    *both_spellings("webhook/", views.stripe_webhook, "webhook"),
    *both_spellings("checkout/<str:session_id>/", views.CheckoutSessionView.as_view(), "checkout-session"),
    *both_spellings("checkout/<str:session_id>/cancel/", views.CheckoutCancelView.as_view(), "checkout-cancel"),
    *both_spellings("payments/history/", views.PaymentHistoryView.as_view(), "payment-history"),
    # Stripe Connect (answer 404 while CONNECT["ENABLED"] is off)
    *both_spellings("connect/onboard/", views.ConnectOnboardView.as_view(), "connect-onboard"),
    *both_spellings("connect/status/", views.ConnectStatusView.as_view(), "connect-status"),
    # refunds (staff)
    *both_spellings("payments/<str:payment_id>/refund/", refunds.PaymentRefundView.as_view(), "payment-refund"),
    # currencies: what a checkout may be paid in
    *both_spellings("currencies/", views.PriceListView.as_view(), "currencies"),
    # The operator's side (staff only).
    *both_spellings("payments/", staff.StaffPaymentListView.as_view(), "payment-list"),
]

if find_spec("drf_spectacular") is not None:
    from .api.schema_view import PaymentsSchemaView

    urlpatterns += both_spellings(
        "schema/",
        PaymentsSchemaView.as_view(
            custom_settings={
                "TITLE": "SkillSwap payments API",
                "VERSION": __version__,
                "PREPROCESSING_HOOKS": ["django_skillswap_payments.api.schema.only_payments_endpoints"],
                "POSTPROCESSING_HOOKS": [
                    "drf_spectacular.hooks.postprocess_schema_enums",
                    "django_skillswap_payments.api.schema.add_webhook_operation",
                ],
            }
        ),
        "schema",
    )

# Last: every other path under the prefix, whatever the method ([\s\S], not ".": paths may
# hold newlines; not an inline (?s) flag either, which reverse() cannot handle).
urlpatterns.append(re_path(r"^[\s\S]*$", views.not_found))
