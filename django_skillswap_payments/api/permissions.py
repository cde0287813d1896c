"""Who may call the payment endpoints.

The classes are set on the views themselves, so a host whose
``DEFAULT_PERMISSION_CLASSES`` is ``AllowAny`` still cannot expose payments
to anonymous callers.
"""

from __future__ import annotations

from django.utils.module_loading import import_string
from rest_framework.permissions import BasePermission

from ..conf import payments_settings


class IsPaymentsUser(BasePermission):
    """An authenticated, active user (authenticated through the host's DRF classes)."""

    def has_permission(self, request, view) -> bool:
        user = getattr(request, "user", None)
        return bool(user and user.is_authenticated and getattr(user, "is_active", True))


class IsPremium(IsPaymentsUser):
    """A :class:`IsPaymentsUser` who has premium, for the host site's own DRF views.

    Reads the status through :func:`~django_skillswap_payments.services.is_premium_user`:
    one MongoDB command per request, none while the answer is in the status
    cache (``STATUS_CACHE_SECONDS``)::

        from django_skillswap_payments.api.permissions import IsPremium

        class LessonVideoView(APIView):
            permission_classes = [IsPremium]
    """

    message = "A premium account is required."

    def has_permission(self, request, view) -> bool:
        from ..services.premium import is_premium_user

        return super().has_permission(request, view) and is_premium_user(request.user)


class IsPaymentsStaff(BasePermission):
    """Whoever the site's ``STAFF_PERMISSION`` admits: the operator's endpoints (refunds, disputes, analytics).

    ``STAFF_PERMISSION`` is the dotted path of a DRF permission class
    (default ``rest_framework.permissions.IsAdminUser``, i.e. ``is_staff``).
    It is looked up on every check so ``override_settings`` takes effect at
    once; ``import_string`` caches the module import.
    """

    def _configured(self) -> BasePermission:
        return import_string(payments_settings.STAFF_PERMISSION)()

    @property
    def message(self):  # type: ignore[override]
        return getattr(self._configured(), "message", "Staff access is required.")

    def has_permission(self, request, view) -> bool:
        return bool(self._configured().has_permission(request, view))

    def has_object_permission(self, request, view, obj) -> bool:
        return bool(self._configured().has_object_permission(request, view, obj))
