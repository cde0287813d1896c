"""Premium-only plain Django views.

::

    from django_skillswap_payments.decorators import premium_required

    @premium_required
    def lesson_video(request, lesson_id):
        ...

Anonymous visitors are sent to the login page (as ``login_required`` does);
signed-in users without premium get a 403 (``PermissionDenied``, so the
site's own 403 page). The status is read like
:class:`~django_skillswap_payments.api.permissions.IsPremium` reads it: one
MongoDB command per request, none with ``STATUS_CACHE_SECONDS`` set.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from .services.premium import is_premium_user


def premium_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Let only signed-in users with premium through to ``view``."""

    @functools.wraps(view)
    def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_premium_user(user):
            raise PermissionDenied("A premium account is required.")
        return view(request, *args, **kwargs)

    return wrapper
