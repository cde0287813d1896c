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


class SignedByStripe(BasePermission):
    """Lets the request through to the webhook view, which verifies the Stripe signature itself.

    The signature covers the raw body, so it cannot be checked before the
    view reads that body; an unverifiable request never gets past the view.
    """

    def has_permission(self, request, view) -> bool:
        return True
