"""Paying on the emulator's hosted checkout page over HTTP, as a browser's form submission does."""

from __future__ import annotations

import http.client
from urllib.parse import urlencode, urlsplit


def post_form(url: str, form: dict[str, str]) -> tuple[int, str | None, str]:
    """POST a form the way a browser submits the hosted page; redirects are not followed."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)
    try:
        connection.request(
            "POST",
            parts.path,
            body=urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        response = connection.getresponse()
        return response.status, response.getheader("Location"), response.read().decode()
    finally:
        connection.close()


def card(number: str) -> dict[str, str]:
    """The hosted page's card form filled in with ``number``."""
    return {
        "email": "ada@example.com",
        "cardNumber": number,
        "cardExpiry": "12 / 40",
        "cardCvc": "123",
        "billingName": "Ada Lovelace",
    }
