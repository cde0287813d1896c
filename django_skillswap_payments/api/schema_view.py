"""The ``schema/`` view: drf-spectacular's, answering its errors in the app's JSON.

Imported only when drf-spectacular is installed (see ``urls.py``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.views import SpectacularAPIView
from rest_framework.exceptions import ValidationError

from .content import ExactJSONRenderer
from .errors import exception_handler


class PaymentsSchemaView(SpectacularAPIView):
    """OpenAPI document of the payment endpoints; errors are ``{"error", "message"}`` JSON."""

    def get_exception_handler(self):
        return exception_handler

    def get(self, request, *args: Any, **kwargs: Any):
        lang = request.GET.get("lang")
        if settings.USE_I18N and lang and lang not in dict(settings.LANGUAGES):
            # drf-spectacular activates any string as a language, and Django keeps a
            # translation object per code for the life of the process.
            raise ValidationError({"lang": "Unknown language; use one of the site's LANGUAGES codes."})
        return super().get(request, *args, **kwargs)

    def finalize_response(self, request, response, *args: Any, **kwargs: Any):
        if getattr(response, "exception", False):
            # Errors are JSON whatever was negotiated: YAML by default, nothing at all
            # after a refused Accept header or ?format=.
            request.accepted_renderer = ExactJSONRenderer()
            request.accepted_media_type = ExactJSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
