"""The payment endpoints: parse the request, call one service, serialize.

Reads never create anything: a user without a payment profile simply has no
payments yet (unless the site disabled profile creation, where the reference
answers 404 "User not found in MongoDB").
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import services, users, webhooks
from ..conf import payments_settings
from ..errors import PaymentError, PaymentNotFound, ProfileNotFound, WebhookProcessingFailed
from . import schema as openapi
from . import serializers as s
from .content import ExactJSONParser, ExactJSONRenderer
from .errors import error_response, exception_handler, payment_error_response
from .permissions import IsPaymentsUser, SignedByStripe
from .throttling import CheckoutRateThrottle

logger = logging.getLogger("django_skillswap_payments.api")

# Used when no configured authenticator names a scheme (e.g. session-only sites):
# a 401 must still carry a WWW-Authenticate header.
FALLBACK_AUTHENTICATE_HEADER = 'Session realm="api"'


class PaymentsAPIView(APIView):
    """Common policy of the user-facing endpoints."""

    permission_classes = (IsPaymentsUser,)
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

    def payment_profile(self) -> Any:
        """The caller's profile, created on first use when the site allows it."""
        return users.resolve_profile(self.request.user)

    def existing_profile(self) -> Any | None:
        """The caller's profile if it exists; ``None`` means "no payments yet"."""
        try:
            return users.resolve_profile(self.request.user, create=False)
        except ProfileNotFound:
            if payments_settings.CREATE_PROFILES:
                return None
            raise

    def query(self, serializer_class: type[s.RequestSerializer]) -> dict[str, Any]:
        return serializer_class(data=self.request.query_params.dict()).validated()

    def body(self, serializer_class: type[s.RequestSerializer]) -> dict[str, Any]:
        return serializer_class(data=self.request.data, context={"request": self.request}).validated()


def _checkout_response(start: services.CheckoutStart) -> Response:
    return Response({"session_id": start.session_id, "url": start.url})


class PremiumCheckoutView(PaymentsAPIView):
    """POST ``premium/create-checkout/``: start the one-time premium purchase."""

    throttle_classes = (CheckoutRateThrottle,)

    @openapi.document(request=s.PremiumCheckoutSerializer,
                     responses={200: openapi.CheckoutStartSchema, **openapi.errors(400, 401, 404, 409, 413, 415, 429, 500, 502, 503)})
    def post(self, request):
        data = self.body(s.PremiumCheckoutSerializer)
        start = services.start_premium_checkout(self.payment_profile(), **data)
        return _checkout_response(start)


class TipCheckoutView(PaymentsAPIView):
    """POST ``tip/create/``: start a tip to another user."""

    throttle_classes = (CheckoutRateThrottle,)

    @openapi.document(request=s.TipCheckoutSerializer,
                     responses={200: openapi.CheckoutStartSchema, **openapi.errors(400, 401, 404, 409, 413, 415, 429, 500, 502, 503)})
    def post(self, request):
        data = self.body(s.TipCheckoutSerializer)
        # The recipient is looked up before the sender's profile is created, so
        # a tip to nobody writes nothing.
        recipient = users.resolve_recipient(data.pop("to_user_id"))
        start = services.start_tip_checkout(self.payment_profile(), recipient=recipient, **data)
        return _checkout_response(start)


class PremiumStatusView(PaymentsAPIView):
    """GET ``subscription/status/``: ``{is_premium, status, subscription}`` (+ ``receipt``)."""

    @openapi.document(responses={200: openapi.PremiumStatusSchema, **openapi.errors(401, 404)})
    def get(self, request):
        profile = self.existing_profile()
        if profile is None:
            return Response(dict(s.EMPTY_PREMIUM_STATUS))
        return Response(services.get_premium_status(profile, with_receipt=True))


class TipHistoryView(PaymentsAPIView):
    """GET ``tip/history/?limit=&before=``: tips sent and received, newest first."""

    @openapi.document(parameters=openapi.query_parameters(s.PageQuerySerializer),
                     responses={200: openapi.TipHistorySchema, **openapi.errors(400, 401, 404)})
    def get(self, request):
        page = self.query(s.PageQuerySerializer)
        profile = self.existing_profile()
        if profile is None:
            return Response(dict(s.EMPTY_TIP_HISTORY))
        return Response(s.tip_history(services.get_tip_history(profile, **page)))


class PaymentHistoryView(PaymentsAPIView):
    """GET ``payments/history/``: the caller's payments, filtered and paginated."""

    @openapi.document(parameters=openapi.query_parameters(s.PaymentHistoryQuerySerializer),
                     responses={200: openapi.PaymentPageSchema, **openapi.errors(400, 401, 404)})
    def get(self, request):
        filters = self.query(s.PaymentHistoryQuerySerializer)
        if "type" in filters:
            filters["transaction_type"] = filters.pop("type")
        profile = self.existing_profile()
        if profile is None:
            return Response({"results": [], "next_before": None})
        payments = services.get_payment_history(profile, **filters)
        return Response(s.payment_page(payments, limit=filters["limit"]))


class CheckoutSessionView(PaymentsAPIView):
    """GET ``checkout/<session_id>/``: confirm a checkout from the success page (owner only)."""

    @openapi.document(responses={200: openapi.CheckoutStatusSchema, **openapi.errors(400, 401, 404, 409, 502, 503)})
    def get(self, request, session_id: str):
        s.validate_session_id(session_id)
        profile = self.existing_profile()
        if profile is None:
            raise PaymentNotFound()
        payment = services.confirm_checkout_session(profile, session_id)
        return Response(s.CheckoutStatusSerializer(payment).data)


class StripeWebhookView(APIView):
    """POST ``webhook/``: Stripe's signed event notifications.

    The Stripe signature is the only credential: no session, no CSRF, no
    throttling (Stripe retries whatever is not acknowledged).
    """

    authentication_classes = ()
    permission_classes = (SignedByStripe,)
    throttle_classes = ()
    parser_classes = ()
    renderer_classes = (ExactJSONRenderer,)
    schema = openapi.view_schema()

    def get_exception_handler(self):
        return exception_handler

    @openapi.document(request={"application/json": openapi.WebhookEventSchema}, auth=[],
                     parameters=openapi.header_parameter(
                         "Stripe-Signature", "Stripe's signature of the raw body (t=...,v1=...)"),
                     responses={200: openapi.WebhookAckSchema, **openapi.errors(400, 413, 500)})
    def post(self, request):
        try:
            body = request.body
        except RequestDataTooBig:
            return error_response("Webhook payload too large", status=413)
        signature = request.META.get("HTTP_STRIPE_SIGNATURE")
        try:
            webhooks.receive(body, signature)
        except WebhookProcessingFailed as exc:
            # A 5xx makes Stripe deliver the event again; it is stored as failed meanwhile.
            return error_response(
                "Webhook processing failed",
                f"Event {exc.event_id} was recorded and will be processed on redelivery",
                status=500,
            )
        except PaymentError as exc:
            return payment_error_response(exc)
        return Response({"status": "success"})
