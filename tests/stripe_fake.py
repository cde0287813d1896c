"""A small in-process stand-in for the Stripe API, plugged in as the StripeClient's HTTP client.

It records every request (method, path, decoded params, headers) so tests can
assert exactly what was sent, answers like Stripe for the few endpoints the
app uses, replays responses for a repeated ``Idempotency-Key`` as Stripe does,
and can be told to fail the next requests with a given Stripe error.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe

_current: FakeStripe | None = None


def current_client() -> FakeStripe:
    """Zero-argument factory named by the ``STRIPE_HTTP_CLIENT`` setting in tests."""
    assert _current is not None, "the stripe_fake fixture is not active"
    return _current


def install(fake: FakeStripe | None) -> None:
    global _current
    _current = fake


def _nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Turn Stripe's form encoding (``a[b][0][c]=v``) back into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def listify(node: Any) -> Any:
        if isinstance(node, dict):
            converted = {k: listify(v) for k, v in node.items()}
            if converted and all(k.isdigit() for k in converted):
                return [converted[k] for k in sorted(converted, key=int)]
            return converted
        return node

    return listify(root)


@dataclass
class Request:
    method: str
    url: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("Idempotency-Key")


@dataclass
class FakeStripe(stripe.HTTPClient):
    """Records requests and serves canned Stripe objects."""

    name = "fake"
    requests: list[Request] = field(default_factory=list)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    livemode: bool = False
    delay: float = 0.0

    def __post_init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._idempotent: dict[tuple[str, str], tuple[str, int]] = {}
        self._failures: list[tuple[int, dict[str, Any]] | None] = []

    # -- test controls ---------------------------------------------------

    def fail_next(
        self, status: int, error_type: str, message: str, *, code: str | None = None, times: int = 1
    ) -> None:
        """Make the next ``times`` requests fail with a Stripe error body."""
        error: dict[str, Any] = {"type": error_type, "message": message}
        if code:
            error["code"] = code
        self._failures.extend([(status, {"error": error})] * times)

    def fail_network_next(self, times: int = 1) -> None:
        """Make the next ``times`` requests fail as if the connection dropped."""
        self._failures.extend([None] * times)

    def calls(self, method: str, path_prefix: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def pay(
        self, session_id: str, *, amount_total: int | None = None, currency: str | None = None
    ) -> dict[str, Any]:
        """Mark a session paid (what happens when the customer completes Checkout)."""
        session = self.sessions[session_id]
        session.update(
            status="complete", payment_status="paid", payment_intent=f"pi_{session_id[3:]}"
        )
        if amount_total is not None:
            session["amount_total"] = amount_total
        if currency is not None:
            session["currency"] = currency
        return session

    # -- stripe.HTTPClient interface -------------------------------------

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        if self.delay:
            time.sleep(self.delay)
        parts = urlsplit(url)
        body = post_data.decode() if isinstance(post_data, bytes) else (post_data or "")
        query = parts.query if method == "get" else body
        record = Request(
            method.upper(), url, parts.path, _nest(parse_qsl(query)), dict(headers or {})
        )
        with self._lock:
            self.requests.append(record)
            if self._failures:
                failure = self._failures.pop(0)
                if failure is None:
                    raise stripe.APIConnectionError("Connection reset by peer", should_retry=True)
                status, payload = failure
                return json.dumps(payload), status, {"request-id": "req_fake"}
            key = record.idempotency_key
            if key and (record.path, key) in self._idempotent:
                body_text, status = self._idempotent[(record.path, key)]
                return body_text, status, {"request-id": "req_fake", "idempotent-replayed": "true"}
            status, payload = self._route(record)
            body_text = json.dumps(payload)
            if key:
                self._idempotent[(record.path, key)] = (body_text, status)
        return body_text, status, {"request-id": "req_fake"}

    def close(self) -> None:
        pass

    # -- endpoints -------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_test_{next(self._ids):06d}"

    def _missing(self, kind: str, ident: str) -> tuple[int, dict[str, Any]]:
        return 404, {
            "error": {
                "type": "invalid_request_error",
                "code": "resource_missing",
                "message": f"No such {kind}: '{ident}'",
            }
        }

    def _route(self, req: Request) -> tuple[int, dict[str, Any]]:
        path, params = req.path, req.params
        if req.method == "POST" and path == "/v1/customers":
            return 200, {
                "id": self._new_id("cus"),
                "object": "customer",
                "metadata": params.get("metadata", {}),
            }
        if req.method == "POST" and path == "/v1/checkout/sessions":
            session_id = self._new_id("cs")
            item = params["line_items"][0]["price_data"]
            session = {
                "id": session_id,
                "object": "checkout.session",
                "mode": params["mode"],
                "url": f"https://checkout.fake/pay/{session_id}",
                "status": "open",
                "payment_status": "unpaid",
                "amount_total": int(item["unit_amount"]) * int(params["line_items"][0]["quantity"]),
                "currency": item["currency"],
                "customer": params.get("customer"),
                "client_reference_id": params.get("client_reference_id"),
                "metadata": params.get("metadata", {}),
                "payment_intent": None,
                "livemode": self.livemode,
                "success_url": params["success_url"],
                "cancel_url": params["cancel_url"],
            }
            self.sessions[session_id] = session
            return 200, session
        if path.startswith("/v1/checkout/sessions/"):
            session_id = path.split("/")[4]
            session = self.sessions.get(session_id)
            if session is None:
                return self._missing("checkout.session", session_id)
            if req.method == "POST" and path.endswith("/expire"):
                if session["status"] != "open":
                    return 400, {
                        "error": {
                            "type": "invalid_request_error",
                            "message": "Only open sessions can be expired.",
                        }
                    }
                session["status"] = "expired"
            return 200, session
        if req.method == "GET" and path.startswith("/v1/payment_intents/"):
            intent_id = path.split("/")[3]
            return 200, {"id": intent_id, "object": "payment_intent", "status": "succeeded"}
        if req.method == "POST" and path == "/v1/refunds":
            return 200, {
                "id": self._new_id("re"),
                "object": "refund",
                "status": "succeeded",
                "payment_intent": params.get("payment_intent"),
            }
        return 404, {
            "error": {
                "type": "invalid_request_error",
                "message": f"Unrecognized request URL ({path})",
            }
        }


def use_fake_stripe(settings):
    """Fixture body: route the app's StripeClient to a fresh :class:`FakeStripe` for one test.

    ``settings`` is pytest-django's fixture, so the override is undone afterwards.
    """
    fake = FakeStripe()
    install(fake)
    settings.SKILLSWAP_PAYMENTS = {
        **settings.SKILLSWAP_PAYMENTS,
        "STRIPE_HTTP_CLIENT": "tests.stripe_fake.current_client",
        # Retries would sleep between attempts; tests that want them opt back in.
        "STRIPE_MAX_NETWORK_RETRIES": 0,
    }
    yield fake
    install(None)
