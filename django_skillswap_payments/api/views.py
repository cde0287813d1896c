"""The payment endpoints: parse the request, call one service, serialize.

The user-facing endpoints are DRF views sharing one policy
(:class:`PaymentsAPIView`). The webhook is a plain Django view: its only
credential is Stripe's signature over the raw body, so none of DRF's
authentication, parsing or throttling applies to it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import services, users, webhooks
from ..connect_settings import connect_enabled
from ..errors import PaymentError, WebhookProcessingFailed
from ..services import connect
from ..services import disputes as dispute_service
from . import dispute_serializers as ds
from . import schema as openapi
from . import serializers as s
from .content import ExactJSONParser, ExactJSONRenderer
from .currency_serializers import PriceListSerializer
from .errors import (
    DATABASE_RETRY_AFTER_SECONDS,
    DATABASE_UNAVAILABLE,
    error_body,
    exception_handler,
    is_database_unavailable,
    log_database_unavailable,
    log_gateway_error,
)
from .permissions import IsPaymentsStaff, IsPaymentsUser
from .throttling import checkout_allowance

logger = logging.getLogger("django_skillswap_payments.api")

# Used when no configured authenticator names a scheme (e.g. session-only sites):
# a 401 must still carry a WWW-Authenticate header.
FALLBACK_AUTHENTICATE_HEADER = 'Session realm="api"'


class PaymentsAPIView(APIView):
    """Common policy of the user-facing endpoints."""

    permission_classes: tuple[type[BasePermission], ...] = (IsPaymentsUser,)
    parser_classes = (ExactJSONParser,)
    renderer_classes = (ExactJSONRenderer,)
    schema = openapi.view_schema()

    def get_exception_handler(self):
        return exception_handler

    def get_authenticate_header(self, request) -> str:
        # DRF only asks the first authenticator and answers 403 when it has no
        # scheme (SessionAuthentication); clients of this API expect 401.
        for authenticator in self.get_authenticators():
            header = authenticator.authenticate_header(request)
            if header:
                return header
        return FALLBACK_AUTHENTICATE_HEADER

    def existing_profile(self) -> Any | None:
        return users.existing_profile(self.request.user)

    def query(self, serializer_class: type[s.RequestSerializer]) -> dict[str, Any]:
        return serializer_class(data=self.request.query_params.dict()).validated()

    def body(self, serializer_class: type[s.RequestSerializer]) -> dict[str, Any]:
        return serializer_class(data=self.request.data, context={"request": self.request}).validated()


def _checkout_response(start: services.CheckoutStart) -> Response:
    return Response({
        "session_id": start.session_id,
        "url": start.url,
        "reused": start.reused,
        "success_url": start.success_url,
        "cancel_url": start.cancel_url,
    })


CHECKOUT_ERRORS = openapi.errors(400, 401, 404, 409, 413, 415, 429, 500, 502, 503)


class PremiumCheckoutView(PaymentsAPIView):
    """POST ``premium/create-checkout/``: start the one-time premium purchase."""

    # The checkout limit applies around the service call (checkout_allowance), not before dispatch.
    throttle_classes = ()

    @openapi.document(request=s.PremiumCheckoutSerializer,
                      responses={200: openapi.CheckoutStartSchema, **CHECKOUT_ERRORS})
    def post(self, request):
        data = self.body(s.PremiumCheckoutSerializer)
        with checkout_allowance(request, self), s.PremiumCheckoutSerializer.field_errors_of_service():
            start = services.start_premium_checkout_for_user(request.user, **data)
        return _checkout_response(start)


class TipCheckoutView(PaymentsAPIView):
    """POST ``tip/create/``: start a tip to another user."""

    throttle_classes = ()

    @openapi.document(request=s.TipCheckoutSerializer,
                      responses={200: openapi.CheckoutStartSchema, **CHECKOUT_ERRORS})
    def post(self, request):
        data = self.body(s.TipCheckoutSerializer)
        with checkout_allowance(request, self), s.TipCheckoutSerializer.field_errors_of_service():
            start = services.start_tip_checkout_for_user(request.user, **data)
        return _checkout_response(start)


class PremiumStatusView(PaymentsAPIView):
    """GET ``subscription/status/``: ``{is_premium, status, subscription}`` (+ ``receipt``)."""

    @openapi.document(responses={200: openapi.PremiumStatusSchema, **openapi.errors(401, 404)})
    def get(self, request):
        return Response(services.premium_status_of_user(request.user, with_receipt=True))


class PriceListView(PaymentsAPIView):
    """GET ``currencies/``: the accepted currencies with their premium price and tip limits."""

    @openapi.document(responses={200: PriceListSerializer, **openapi.errors(401)})
    def get(self, request):
        return Response(PriceListSerializer(services.price_list()).data)


class TipHistoryView(PaymentsAPIView):
    """GET ``tip/history/?limit=&before=``: tips sent and received, newest first."""

    @openapi.document(parameters=openapi.query_parameters(s.PageQuerySerializer),
                      responses={200: s.TipHistorySerializer, **openapi.errors(400, 401, 404)})
    def get(self, request):
        page = self.query(s.PageQuerySerializer)
        history = services.get_tip_history(self.existing_profile(), **page)
        return Response(s.TipHistorySerializer(history).data)


class PaymentHistoryView(PaymentsAPIView):
    """GET ``payments/history/``: the caller's payments, filtered and paginated."""

    @openapi.document(parameters=openapi.query_parameters(s.PaymentHistoryQuerySerializer),
                      responses={200: s.PaymentPageSerializer, **openapi.errors(400, 401, 404)})
    def get(self, request):
        filters = self.query(s.PaymentHistoryQuerySerializer)
        payments = services.get_payment_history(self.existing_profile(), **filters)
        return Response(s.payment_page(payments, limit=filters["limit"]))


class CheckoutSessionView(PaymentsAPIView):
    """GET ``checkout/<session_id>/``: confirm a checkout from the success page (owner only)."""

    @openapi.document(responses={200: s.CheckoutStatusSerializer,
                                 **openapi.errors(400, 401, 404, 409, 502, 503)})
    def get(self, request, session_id: str):
        s.validate_session_id(session_id)
        payment = services.confirm_checkout_session(self.existing_profile(), session_id)
        return Response(s.CheckoutStatusSerializer(payment).data)


class CheckoutCancelView(PaymentsAPIView):
    """POST ``checkout/<session_id>/cancel/``: expire the caller's unpaid checkout (owner only)."""

    @openapi.document(request=None, responses={200: s.CheckoutStatusSerializer,
                                               **openapi.errors(400, 401, 404, 409, 502, 503)})
    def post(self, request, session_id: str):
        s.validate_session_id(session_id)
        payment = services.cancel_checkout_session(self.existing_profile(), session_id)
        return Response(s.CheckoutStatusSerializer(payment).data)


# -- Stripe Connect ---------------------------------------------------------------


class ConnectAPIView(PaymentsAPIView):
    """Connect endpoints: with Connect off they answer like any unknown path, before authentication."""

    def dispatch(self, request, *args, **kwargs):
        if not connect_enabled():
            return not_found(request)
        return super().dispatch(request, *args, **kwargs)


class ConnectOnboardView(ConnectAPIView):
    """POST ``connect/onboard/``: the caller's Express account (created once) and an onboarding URL."""

    throttle_classes = ()

    @openapi.document(request=s.ConnectOnboardSerializer,
                      responses={200: openapi.ConnectOnboardingSchema,
                                 **openapi.errors(400, 401, 404, 413, 415, 429, 500, 502, 503)})
    def post(self, request):
        data = self.body(s.ConnectOnboardSerializer)
        with checkout_allowance(request, self):
            onboarding = connect.start_onboarding_for_user(request.user, **data)
        return Response({
            "account_id": onboarding.account_id,
            "url": onboarding.url,
            "expires_at": onboarding.expires_at,
        })


class ConnectStatusView(ConnectAPIView):
    """GET ``connect/status/``: where the caller's onboarding stands."""

    @openapi.document(responses={200: openapi.ConnectStatusSchema, **openapi.errors(401, 404, 502, 503)})
    def get(self, request):
        return Response(connect.account_status(self.existing_profile()))


# -- disputes ------------------------------------------------------------------------


class DisputeListView(PaymentsAPIView):
    """GET ``payments/disputes/``: disputed payments for staff, latest dispute first, by status."""

    permission_classes = (IsPaymentsStaff,)

    @openapi.document(parameters=openapi.query_parameters(ds.DisputeListQuerySerializer),
                      responses={200: ds.DisputePageSerializer, **openapi.errors(400, 401, 403)})
    def get(self, request):
        filters = self.query(ds.DisputeListQuerySerializer)
        payments = dispute_service.list_disputes(**filters)
        return Response(ds.dispute_page(payments, limit=filters["limit"]))


def _json_error(error: str, message: str | None = None, *, status: int, **headers: str) -> JsonResponse:
    response = JsonResponse(error_body(error, message), status=status)
    for name, value in headers.items():
        response[name] = value
    return response


@csrf_exempt
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """POST ``webhook/``: Stripe's signed event notifications.

    The Stripe signature is the only credential: no session, no CSRF, no
    throttling (Stripe retries whatever is not acknowledged). The work is
    :func:`django_skillswap_payments.webhooks.receive`.
    """
    if request.method != "POST":
        return _json_error(
            "Method not allowed", f'Method "{request.method}" not allowed.', status=405, Allow="POST"
        )
    try:
        body = request.body
    except RequestDataTooBig:
        return _json_error("Webhook payload too large", status=413)
    try:
        webhooks.receive(body, request.META.get("HTTP_STRIPE_SIGNATURE"))
    except WebhookProcessingFailed as exc:
        # A 5xx makes Stripe deliver the event again; it is stored as failed meanwhile.
        return _json_error(
            "Webhook processing failed",
            f"Event {exc.event_id} was recorded and will be processed on redelivery",
            status=500,
        )
    except PaymentError as exc:
        log_gateway_error(exc)
        return _json_error(exc.error, exc.message, status=exc.http_status)
    except Exception as exc:
        if not is_database_unavailable(exc):
            raise
        # Nothing was acknowledged: a 503 makes Stripe deliver the event again later.
        log_database_unavailable(exc)
        return _json_error(*DATABASE_UNAVAILABLE, status=503, **{"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})
    return JsonResponse({"status": "success"})


@csrf_exempt
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any other path under the app's prefix: a JSON 404 for every method, not the site's HTML page."""
    return _json_error("Not found", "No payments API endpoint at this path.", status=404)
