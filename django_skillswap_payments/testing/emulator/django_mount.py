"""Mount the emulator inside a Django project under a URL prefix.

Useful for a demo that runs as one process: the app's ``STRIPE_API_BASE``
points at its own site, e.g. ``http://127.0.0.1:8000/stripe-emulator``::

    # urls.py
    from django_skillswap_payments.testing.emulator import StripeEmulator, django_urls

    emulator = StripeEmulator(
        api_keys=[settings.SKILLSWAP_PAYMENTS["STRIPE_SECRET_KEY"]],
        state_file=BASE_DIR / "var" / "stripe-emulator.json",
    )
    urlpatterns += django_urls(emulator, "stripe-emulator/")

Pass ``api_keys``: without it the mounted API answers any ``sk_test_`` key, so
anyone who can reach the site could list and expire its sessions.  Pass
``state_file`` to keep the account across restarts, as Stripe would.  Never
mount it in production: it fakes payments.
"""

from __future__ import annotations

import io
import re
from typing import Any
from urllib.parse import urlencode

from .state import StripeEmulator
from .wsgi import BASE_URL_ENVIRON_KEY, EmulatorWSGIApp


def django_view(emulator: StripeEmulator, prefix: str):
    """A Django view that forwards the request to the emulator's WSGI app."""
    from django.http import HttpResponse
    from django.views.decorators.csrf import csrf_exempt

    app = EmulatorWSGIApp(emulator)
    mount = "/" + prefix.strip("/")

    @csrf_exempt
    def view(request, rest: str = ""):
        script_name = request.META.get("SCRIPT_NAME", "").rstrip("/") + mount
        body = request.body
        content_type = request.META.get("CONTENT_TYPE", "")
        if content_type.startswith("multipart/form-data"):
            # Django's test client posts dicts as multipart; the pages read
            # urlencoded forms, which is what browsers send for them.
            body = urlencode(list(request.POST.items())).encode("utf-8")
            content_type = "application/x-www-form-urlencoded"
        environ: dict[str, Any] = {
            key: value
            for key, value in request.META.items()
            if isinstance(key, str) and isinstance(value, str)
        }
        environ.update(
            {
                "REQUEST_METHOD": request.method,
                "SCRIPT_NAME": script_name,
                "PATH_INFO": "/" + rest,
                "QUERY_STRING": request.META.get("QUERY_STRING", ""),
                "CONTENT_LENGTH": str(len(body)),
                "CONTENT_TYPE": content_type,
                "wsgi.input": io.BytesIO(body),
                "wsgi.url_scheme": request.scheme,
                BASE_URL_ENVIRON_KEY: request.build_absolute_uri(script_name).rstrip("/"),
            }
        )
        captured: list[tuple[str, list[tuple[str, str]]]] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> None:
            captured.append((status, headers))

        content = b"".join(app(environ, start_response))
        status, headers = captured[0]
        response = HttpResponse(content, status=int(status.split(" ", 1)[0]))
        for name, value in headers:
            if name.lower() != "content-length":
                response[name] = value
        return response

    return view


def django_urls(emulator: StripeEmulator, prefix: str = "stripe-emulator/") -> list:
    """URL patterns serving ``emulator`` below ``prefix`` (API at ``<prefix>v1/...``, pages at ``<prefix>c/pay/...``)."""
    from django.urls import re_path

    cleaned = prefix.strip("/")
    return [
        re_path(
            rf"^{re.escape(cleaned)}/(?P<rest>.*)$",
            django_view(emulator, cleaned),
            name="stripe-emulator",
        )
    ]
