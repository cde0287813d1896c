"""WSGI application: the ``/v1`` API plus the hosted checkout pages.

Served by :class:`~.server.EmulatorServer`, by any WSGI server, or inside a
Django project through :func:`~.django_mount.django_urls`.  With ``prefix``
the app answers only below that path (``/stripe/v1/...``), which is how it is
mounted next to other applications.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, quote

from . import connect_pages, disputes, pages, refunds
from .api import handle_api_request
from .coupons import CodeRefused
from .errors import StripeError
from .state import CheckoutOutcome, StripeEmulator

#: An environ key a host framework may set to the absolute URL the app is mounted at.
BASE_URL_ENVIRON_KEY = "stripe_emulator.base_url"

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


class EmulatorWSGIApp:
    """Routes ``/v1/*`` to the API and ``/c/pay/*`` to the hosted pages of one emulator."""

    def __init__(self, emulator: StripeEmulator, prefix: str = ""):
        self.emulator = emulator
        stripped = prefix.strip("/")
        self.prefix = f"/{stripped}" if stripped else ""

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        script_name = environ.get("SCRIPT_NAME", "").rstrip("/")
        if self.prefix:
            if path != self.prefix and not path.startswith(self.prefix + "/"):
                return self._respond(
                    start_response, 404, _json_headers(), _not_found_body(environ, path)
                )
            path = path[len(self.prefix) :] or "/"
            script_name += self.prefix
        base_url = environ.get(BASE_URL_ENVIRON_KEY) or _base_url(environ, script_name)
        method = environ.get("REQUEST_METHOD", "GET").upper()
        body = _read_body(environ)

        if path == "/v1" or path.startswith("/v1/"):
            response = handle_api_request(
                self.emulator,
                method,
                path,
                query=environ.get("QUERY_STRING", ""),
                body=body,
                headers=_headers(environ),
                base_url=base_url,
            )
            return self._respond(
                start_response, response.status, list(response.headers.items()), response.body
            )
        if path.startswith("/c/pay/"):
            return self._hosted_page(start_response, method, path, body, script_name)
        if path.startswith("/connect/onboard/"):
            return self._onboarding_page(start_response, method, path, body, script_name)
        control = refunds.control_request(self.emulator, method, path, body)
        if control is None and (path == disputes.CONTROL_PREFIX or path.startswith(disputes.CONTROL_PREFIX + "/")):
            control = disputes.control(
                self.emulator, method, path, body, _headers(environ).get("Authorization")
            )
        if control is not None:
            status, answer = control
            return self._respond(start_response, status, _json_headers(), json.dumps(answer).encode("utf-8"))
        if path == "/_emulator/health":
            return self._respond(start_response, 200, _json_headers(), b'{"status": "ok"}')
        return self._respond(start_response, 404, _json_headers(), _not_found_body(environ, path))

    # ------------------------------------------------------------------ hosted pages

    def _hosted_page(
        self, start_response: StartResponse, method: str, path: str, body: bytes, script_name: str
    ) -> Iterable[bytes]:
        parts = path[len("/c/pay/") :].strip("/").split("/")
        session_id = parts[0]
        page_url = f"{script_name}/c/pay/{quote(session_id)}"
        try:
            session = self.emulator.get(session_id)
        except KeyError:
            return self._html(start_response, 404, pages.not_found_page())
        if session["object"] != "checkout.session":
            return self._html(start_response, 404, pages.not_found_page())
        form = (
            dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            if method == "POST"
            else {}
        )

        if len(parts) == 1:
            if method == "POST":
                outcome = self.emulator.submit_payment(
                    session_id,
                    form.get("cardNumber", ""),
                    expiry=form.get("cardExpiry", ""),
                    cvc=form.get("cardCvc", ""),
                    email=form.get("email") or None,
                    name=form.get("billingName") or None,
                )
                return self._after_outcome(start_response, outcome, page_url, form)
            return self._show(start_response, session, page_url)

        if parts[1:] == ["promotion-code"] and method == "POST":
            return self._apply_code(start_response, session_id, page_url, form.get("promotionCode", ""))
        if parts[1:] == ["authenticate"]:
            intent = self.emulator.lookup(session["payment_intent"] or "")
            if method == "POST":
                outcome = self.emulator.authenticate(
                    session_id, approve=form.get("outcome") == "approve"
                )
                return self._after_outcome(start_response, outcome, page_url, form)
            if (
                session["status"] == "open"
                and intent is not None
                and intent["status"] == "requires_action"
            ):
                return self._html(
                    start_response,
                    200,
                    pages.authentication_page(session, action=f"{page_url}/authenticate"),
                )
            return self._redirect(start_response, page_url)
        return self._html(start_response, 404, pages.not_found_page())

    def _apply_code(
        self, start_response: StartResponse, session_id: str, page_url: str, code: str
    ) -> Iterable[bytes]:
        try:
            self.emulator.apply_promotion_code(session_id, code)
        except CodeRefused as refused:
            session = self.emulator.get(session_id)
            if session["status"] != "open":
                return self._show(start_response, session, page_url)
            html = pages.checkout_page(
                session, self.emulator.line_items(session_id), action=page_url, promotion_error=refused.message
            )
            return self._html(start_response, 200, html)
        return self._redirect(start_response, page_url)

    def _onboarding_page(
        self, start_response: StartResponse, method: str, path: str, body: bytes, script_name: str
    ) -> Iterable[bytes]:
        token = path[len("/connect/onboard/") :].strip("/")
        link, usable = self.emulator.account_link(token)
        if link is None:
            return self._html(start_response, 404, connect_pages.link_not_found_page())
        if method == "POST":
            outcome = dict(parse_qsl(body.decode("utf-8"))).get("outcome")
            target = self.emulator.use_account_link(token, submit=outcome == "submit")
            return self._redirect(start_response, target or link.refresh_url)
        if not usable:
            return self._redirect(start_response, link.refresh_url)
        action = f"{script_name}/connect/onboard/{quote(token)}"
        return self._html(start_response, 200, connect_pages.onboarding_page(link.account, action=action))

    def _show(
        self, start_response: StartResponse, session: Mapping[str, Any], page_url: str
    ) -> Iterable[bytes]:
        if session["status"] == "expired":
            return self._html(start_response, 200, pages.expired_page(session))
        if session["status"] == "complete":
            if session.get("success_url"):
                return self._redirect(
                    start_response,
                    session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"]),
                )
            return self._html(start_response, 200, pages.complete_page(session))
        items = self.emulator.line_items(session["id"])
        return self._html(start_response, 200, pages.checkout_page(session, items, action=page_url))

    def _after_outcome(
        self,
        start_response: StartResponse,
        outcome: CheckoutOutcome,
        page_url: str,
        form: Mapping[str, str],
    ) -> Iterable[bytes]:
        session = self.emulator.get(outcome.session_id)
        if outcome.status in ("succeeded", "requires_action"):
            if outcome.redirect_url:
                return self._redirect(start_response, outcome.redirect_url)
            return self._html(start_response, 200, pages.complete_page(session))
        if outcome.status == "closed":
            return self._html(start_response, 200, pages.expired_page(session))
        if outcome.error_code == "no_pending_authentication":
            return self._redirect(start_response, page_url)
        # Declined or a form error: show the form again with the message; the
        # customer may retry with another card on the same session.
        items = self.emulator.line_items(session["id"])
        values = {"email": form.get("email", ""), "billingName": form.get("billingName", "")}
        html = pages.checkout_page(
            session, items, action=page_url, error=outcome.error_message, values=values
        )
        return self._html(start_response, 200, html)

    # ------------------------------------------------------------------ responses

    def _html(self, start_response: StartResponse, status: int, html: str) -> Iterable[bytes]:
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")]
        return self._respond(start_response, status, headers, html.encode("utf-8"))

    def _redirect(self, start_response: StartResponse, location: str) -> Iterable[bytes]:
        # 303 so the browser follows a form POST with a GET, as Checkout does.
        return self._respond(
            start_response, 303, [("Location", location), ("Cache-Control", "no-store")], b""
        )

    @staticmethod
    def _respond(
        start_response: StartResponse, status: int, headers: list[tuple[str, str]], body: bytes
    ) -> Iterable[bytes]:
        start_response(_status_line(status), headers + [("Content-Length", str(len(body)))])
        return [body]


def _json_headers() -> list[tuple[str, str]]:
    return [("Content-Type", "application/json")]


def _not_found_body(environ: Mapping[str, Any], path: str) -> bytes:
    method = environ.get("REQUEST_METHOD", "GET").upper()
    error = StripeError(
        404,
        "invalid_request_error",
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at "
        "https://support.stripe.com/.",
    )
    return json.dumps(error.body(), indent=2).encode("utf-8")


def _read_body(environ: Mapping[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ.get("wsgi.input")
    if stream is None or length <= 0:
        return b""
    return stream.read(length)


def _headers(environ: Mapping[str, Any]) -> dict[str, str]:
    headers = {
        key[5:].replace("_", "-").title(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    return headers


def _base_url(environ: Mapping[str, Any], script_name: str) -> str:
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST")
    if not host:
        host = environ.get("SERVER_NAME", "127.0.0.1")
        port = str(environ.get("SERVER_PORT", ""))
        if port and port != {"http": "80", "https": "443"}.get(scheme):
            host = f"{host}:{port}"
    return f"{scheme}://{host}{quote(script_name)}"
