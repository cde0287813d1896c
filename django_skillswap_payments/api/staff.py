"""The operator's endpoints: staff only (``STAFF_PERMISSION``)."""

from __future__ import annotations

from rest_framework.response import Response

from ..services import operator
from . import schema as openapi
from . import serializers as s
from .permissions import IsPaymentsStaff
from .views import PaymentsAPIView


class StaffPaymentListView(PaymentsAPIView):
    """GET ``payments/``: every user's payments, newest first, filtered and paginated (staff)."""

    permission_classes = (IsPaymentsStaff,)

    @openapi.document(parameters=openapi.query_parameters(s.PaymentHistoryQuerySerializer),
                      responses={200: s.PaymentPageSerializer, **openapi.errors(400, 401, 403)})
    def get(self, request):
        filters = self.query(s.PaymentHistoryQuerySerializer)
        return Response(s.payment_page(operator.list_payments(**filters), limit=filters["limit"]))
