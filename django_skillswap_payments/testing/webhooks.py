"""Build, sign and send Stripe webhook events the way Stripe does.

The signature is the real one (``Stripe-Signature: t=<unix time>,v1=<hex
HMAC-SHA256 of "<t>.<payload>">``), so ``stripe.Webhook.construct_event`` --
and therefore the app's own verification code -- runs unchanged in tests.

Typical use in a test::

    payload, headers = build_signed_event(
        "checkout.session.completed", session_dict, secret="whsec_test"
    )
    response = send_webhook(client, payload, "whsec_test", path="/payments/webhook/")
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import stripe

#: The API version events are rendered in unless told otherwise: the one the
#: installed stripe-python is generated for, which is the version the app pins.
DEFAULT_API_VERSION: str = stripe.api_version

SIGNATURE_HEADER = "Stripe-Signature"


def sign_payload(payload: bytes | str, secret: str, *, timestamp: int | None = None) -> str:
    """Return the ``Stripe-Signature`` header value for ``payload`` signed with ``secret``."""
    body = payload.decode("utf-8") if isinstance(payload, bytes) else payload
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    signed = f"{timestamp}.{body}".encode()
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(12)


def build_event(
    type: str,
    data_object: Mapping[str, Any],
    *,
    event_id: str | None = None,
    created: int | None = None,
    livemode: bool = False,
    api_version: str = DEFAULT_API_VERSION,
    previous_attributes: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An ``event`` object wrapping ``data_object``, shaped like the ones Stripe sends."""
    from .emulator import objects

    return objects.event(
        id=event_id or new_event_id(),
        created=int(time.time()) if created is None else created,
        type=type,
        data_object=data_object,
        api_version=api_version,
        pending_webhooks=1,
        livemode=livemode,
        previous_attributes=previous_attributes,
    )


def encode_event(event: Mapping[str, Any]) -> bytes:
    """Serialise an event as Stripe does (pretty-printed JSON, UTF-8)."""
    return json.dumps(event, indent=2).encode("utf-8")


def signed_headers(payload: bytes, secret: str, *, timestamp: int | None = None) -> dict[str, str]:
    return {
        "Content-Type": "application/json; charset=utf-8",
        SIGNATURE_HEADER: sign_payload(payload, secret, timestamp=timestamp),
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    }


def build_signed_event(
    type: str,
    data_object: Mapping[str, Any],
    secret: str,
    *,
    event_id: str | None = None,
    created: int | None = None,
    livemode: bool = False,
    api_version: str = DEFAULT_API_VERSION,
    timestamp: int | None = None,
) -> tuple[bytes, dict[str, str]]:
    """Return ``(payload_bytes, headers)`` for a signed event ready to POST to a webhook endpoint."""
    event = build_event(
        type,
        data_object,
        event_id=event_id,
        created=created,
        livemode=livemode,
        api_version=api_version,
    )
    payload = encode_event(event)
    return payload, signed_headers(payload, secret, timestamp=timestamp)


@dataclass
class HTTPResult:
    """Outcome of a webhook POST made over a socket (mirrors the bits of a Django response tests use)."""

    status_code: int
    content: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def _as_payload(event: Mapping[str, Any] | bytes | str) -> bytes:
    if isinstance(event, bytes):
        return event
    if isinstance(event, str):
        return event.encode("utf-8")
    return encode_event(event)


def post_signed(
    url: str, payload: bytes, headers: Mapping[str, str], *, timeout: float = 10.0
) -> HTTPResult:
    """POST ``payload`` to ``url``; HTTP error statuses are returned, not raised."""
    request = urllib.request.Request(url, data=payload, headers=dict(headers), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - caller-chosen local URL
            return HTTPResult(response.status, response.read(), dict(response.headers.items()))
    except urllib.error.HTTPError as exc:
        return HTTPResult(
            exc.code, exc.read() or b"", dict(exc.headers.items()) if exc.headers else {}
        )


def send_webhook(
    target: Any,
    event: Mapping[str, Any] | bytes | str,
    secret: str,
    *,
    path: str | None = None,
    timestamp: int | None = None,
    timeout: float = 10.0,
) -> Any:
    """Sign ``event`` with ``secret`` and POST it to ``target``.

    ``target`` is either an absolute URL (sent over HTTP, returns an
    :class:`HTTPResult`) or a Django test client (``django.test.Client`` or
    DRF's ``APIClient``; needs ``path``, returns the client's response).
    ``event`` is an event dict or an already-encoded payload.
    """
    payload = _as_payload(event)
    headers = signed_headers(payload, secret, timestamp=timestamp)
    if isinstance(target, str):
        return post_signed(target, payload, headers, timeout=timeout)
    if path is None:
        raise ValueError("send_webhook() needs path= when posting through a Django test client")
    return DjangoClientTarget(target, path).post(payload, headers)


class DjangoClientTarget:
    """A webhook destination that POSTs through a Django test client instead of a socket.

    Usable as an emulator endpoint target: ``emulator.webhooks.add_endpoint(
    DjangoClientTarget(client, "/payments/webhook/"), secret)``.
    """

    def __init__(self, client: Any, path: str):
        self.client = client
        self.path = path

    def __repr__(self) -> str:
        return f"DjangoClientTarget({self.path!r})"

    def post(self, payload: bytes, headers: Mapping[str, str]) -> Any:
        extra = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        return self.client.post(
            self.path,
            data=payload,
            content_type="application/json",
            # WSGI environ names, understood by every Django version the app supports.
            **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in extra.items()},
        )

    def __call__(self, payload: bytes, headers: Mapping[str, str]) -> Any:
        return self.post(payload, headers)
