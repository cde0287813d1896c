"""Who may call the payment endpoints.

The classes are set on the views themselves, so a host whose
``DEFAULT_PERMISSION_CLASSES`` is ``AllowAny`` still cannot expose payments
to anonymous callers.
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission


class IsPaymentsUser(BasePermission):
    """An authenticated, active user (authenticated through the host's DRF classes)."""

    def has_permission(self, request, view) -> bool:
        user = getattr(request, "user", None)
        return bool(user and user.is_authenticated and getattr(user, "is_active", True))
