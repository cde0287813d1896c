"""Where a checkout may send the user back to: no open redirects.

Stripe redirects the browser to the ``success_url``/``cancel_url`` it was
given, so an attacker-chosen URL there would turn the payment flow into an
open redirect. :func:`validate_redirect_url` is the one check every caller
uses (the HTTP API included).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from .conf import payments_settings
from .errors import InvalidRedirectUrl

MAX_URL_LENGTH = 2048
ALLOWED_SCHEMES = ("http", "https")
# Browsers treat "\" like "/" and drop tabs/newlines inside URLs, so
# "https://evil.example\@shop.example" would parse differently here than in
# the browser that follows it. Such URLs are refused outright, as are lone
# surrogates, which no HTTP client can encode for Stripe.
_UNSAFE_CHARS = re.compile(r"[\x00-\x20\x7f\\\ud800-\udfff]")


# Django's own defaults when DEBUG is on and ALLOWED_HOSTS is empty (see HttpRequest.get_host).
_DEBUG_LOCAL_HOSTS = (".localhost", "127.0.0.1", "[::1]")


def allowed_redirect_hosts(request_host: str | None = None) -> list[str]:
    """Hosts a success/cancel URL may point at.

    ``ALLOWED_REDIRECT_HOSTS`` when configured (a ``"*"`` there is honoured,
    because someone wrote it on purpose); otherwise the hosts Django's
    ``ALLOWED_HOSTS`` pins: its exact names and ``.domain`` patterns, without
    the ``"*"`` wildcard, which sites often set for unrelated reasons. With
    ``DEBUG`` on and ``ALLOWED_HOSTS`` empty, Django's local defaults.

    The host the request came to is never added: behind ``"*"`` it is
    whatever the client put in its ``Host`` header, and a pinned host is
    already on the list. ``request_host`` is accepted for compatibility only
    and has no effect.
    """
    _warn_request_host(request_host)
    configured = payments_settings.allowed_redirect_hosts
    if configured is not None:
        return list(configured)
    if not settings.ALLOWED_HOSTS and settings.DEBUG:
        return list(_DEBUG_LOCAL_HOSTS)
    return [str(host).lower() for host in settings.ALLOWED_HOSTS if host != "*"]


def _warn_request_host(request_host: str | None) -> None:
    if request_host is not None:
        warnings.warn(
            "request_host is ignored: the request's Host header never widens the redirect hosts; "
            "list hosts in ALLOWED_HOSTS or SKILLSWAP_PAYMENTS['ALLOWED_REDIRECT_HOSTS']",
            DeprecationWarning,
            stacklevel=3,
        )


def host_is_allowed(host: str, patterns: Iterable[str]) -> bool:
    """Whether ``host`` matches one of ``patterns``.

    A pattern matches exactly, or as a domain and its subdomains when it
    starts with a dot (``".example.com"``); ``"*"`` matches every host.
    IPv6 patterns may keep their brackets (``"[::1]"``).
    """
    host = host.lower()
    for raw in patterns:
        pattern = str(raw).lower().strip("[]")
        if pattern == "*" or host == pattern:
            return True
        if pattern.startswith(".") and (host.endswith(pattern) or host == pattern[1:]):
            return True
    return False


def validate_redirect_url(
    url: Any,
    *,
    allowed_hosts: Iterable[str] | None = None,
    request_host: str | None = None,
) -> str:
    """Return ``url`` if it is a safe absolute http(s) URL on an allowed host.

    ``allowed_hosts`` defaults to :func:`allowed_redirect_hosts`
    (``request_host`` is deprecated and ignored, see there). Besides the
    host check, refuses what browsers and URL parsers disagree on: credentials before the host
    (``https://shop.example@evil.example``), backslashes, whitespace and
    control characters, non-ASCII hosts and malformed ports. An upper-case
    scheme (``HTTPS://``) is returned lower-cased; the rest of the URL is
    returned unchanged, including the ``{CHECKOUT_SESSION_ID}`` placeholder
    Stripe fills in. Raises ``InvalidRedirectUrl``.
    """
    if not isinstance(url, str) or not url:
        raise InvalidRedirectUrl("Redirect URL must be a non-empty string")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidRedirectUrl(f"Redirect URL must be at most {MAX_URL_LENGTH} characters")
    if _UNSAFE_CHARS.search(url):
        raise InvalidRedirectUrl("Redirect URL contains characters that are not allowed")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a non-numeric or out-of-range port
    except ValueError:
        raise InvalidRedirectUrl("Redirect URL is malformed") from None
    if parts.scheme not in ALLOWED_SCHEMES or not parts.hostname:
        raise InvalidRedirectUrl("Redirect URLs must be absolute http(s) URLs")
    if "@" in parts.netloc:
        raise InvalidRedirectUrl("Redirect URL must not contain credentials")
    if port == 0:
        raise InvalidRedirectUrl("Redirect URL is malformed")
    if not parts.netloc.isascii():
        # Browsers map look-alike characters onto ASCII hosts (IDNA); only the
        # punycode form names the host unambiguously.
        raise InvalidRedirectUrl("Redirect URL host must be ASCII (use its punycode form)")
    _warn_request_host(request_host)
    hosts = allowed_redirect_hosts() if allowed_hosts is None else allowed_hosts
    if not host_is_allowed(parts.hostname, hosts):
        raise InvalidRedirectUrl(f"Redirect host {parts.hostname!r} is not allowed")
    # urlsplit already lower-cased the scheme; keep every other character as given.
    return parts.scheme + url[len(parts.scheme):]
