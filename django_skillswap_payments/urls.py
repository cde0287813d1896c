"""URL patterns of the payments API; include them under a prefix of your choice::

    path("api/payments/", include("django_skillswap_payments.urls"))

The OpenAPI schema (``schema/``) is served only when drf-spectacular is
installed (``pip install django-skillswap-payments[openapi]``).
"""

from __future__ import annotations

from importlib.util import find_spec

from django.urls import path

from . import __version__
from .api import views

app_name = "payments"

urlpatterns = [
    path("premium/create-checkout/", views.PremiumCheckoutView.as_view(), name="premium-create-checkout"),
    path("subscription/status/", views.PremiumStatusView.as_view(), name="subscription-status"),
    path("tip/create/", views.TipCheckoutView.as_view(), name="tip-create"),
    path("tip/history/", views.TipHistoryView.as_view(), name="tip-history"),
    path("webhook/", views.stripe_webhook, name="webhook"),
    path("checkout/<str:session_id>/", views.CheckoutSessionView.as_view(), name="checkout-session"),
    path("checkout/<str:session_id>/cancel/", views.CheckoutCancelView.as_view(), name="checkout-cancel"),
    path("payments/history/", views.PaymentHistoryView.as_view(), name="payment-history"),
]

if find_spec("drf_spectacular") is not None:
    from drf_spectacular.views import SpectacularAPIView

    urlpatterns.append(
        path(
            "schema/",
            SpectacularAPIView.as_view(
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
            name="schema",
        )
    )
