"""The ``/v1`` REST surface: routing, authentication, idempotency, validation, expansion, pagination.

Transport-free: :func:`handle_api_request` takes a method, path, query, body
and headers and returns a :class:`Response`.  The in-process stripe HTTP client
and the WSGI app are both thin adapters around it.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

import stripe.params as P
import stripe.params.checkout as CP

from . import objects
from .errors import StripeError, invalid_request, resource_missing
from .params import decode_form, parse_query, validate
from .state import IdempotentResult, RecordedRequest, StripeEmulator


@dataclass
class Response:
    """An API answer: status, headers and the JSON body as bytes."""

    status: int
    headers: dict[str, str]
    body: bytes
    #: Set for an injected network failure: transports drop the connection instead of answering.
    network_failure: bool = False

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Context:
    base_url: str
    args: dict[str, str] = field(default_factory=dict)
    #: The ``Stripe-Account`` header: the connected account a request acts on.
    account: str | None = None


@dataclass
class _ListResult:
    url: str
    items: list[dict[str, Any]]


Handler = Callable[[StripeEmulator, dict[str, Any], _Context], Any]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    params_class: type
    handler: Handler


def _route(method: str, template: str, params_class: type, handler: Handler) -> Route:
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    return Route(method, re.compile(f"^{regex}$"), params_class, handler)


def _retrieve(object_name: str, arg: str) -> Handler:
    return lambda emulator, params, ctx: emulator.retrieve(object_name, ctx.args[arg])


#: Every endpoint the emulator serves, with the stripe-python TypedDict its parameters are checked against.
ROUTES: list[Route] = [
    _route("POST", "/v1/customers", P.CustomerCreateParams, lambda e, p, c: e.create_customer(p)),
    _route("GET", "/v1/customers/{id}", P.CustomerRetrieveParams, _retrieve("customer", "id")),
    _route(
        "POST",
        "/v1/checkout/sessions",
        CP.SessionCreateParams,
        lambda e, p, c: e.create_checkout_session(p, base_url=c.base_url),
    ),
    _route(
        "GET",
        "/v1/checkout/sessions",
        CP.SessionListParams,
        lambda e, p, c: _ListResult("/v1/checkout/sessions", e.list_checkout_sessions(p)),
    ),
    _route(
        "GET",
        "/v1/checkout/sessions/{session}",
        CP.SessionRetrieveParams,
        _retrieve("checkout.session", "session"),
    ),
    _route(
        "POST",
        "/v1/checkout/sessions/{session}/expire",
        CP.SessionExpireParams,
        lambda e, p, c: e.expire_checkout_session(c.args["session"]),
    ),
    _route(
        "GET",
        "/v1/checkout/sessions/{session}/line_items",
        CP.SessionLineItemListParams,
        lambda e, p, c: _ListResult(
            f"/v1/checkout/sessions/{c.args['session']}/line_items",
            _session_line_items(e, c.args["session"]),
        ),
    ),
    _route(
        "GET",
        "/v1/payment_intents/{intent}",
        P.PaymentIntentRetrieveParams,
        _retrieve("payment_intent", "intent"),
    ),
    _route("GET", "/v1/charges/{charge}", P.ChargeRetrieveParams, _retrieve("charge", "charge")),
    _route("POST", "/v1/refunds", P.RefundCreateParams, lambda e, p, c: e.create_refund(p)),
    _route(
        "GET",
        "/v1/refunds",
        P.RefundListParams,
        lambda e, p, c: _ListResult("/v1/refunds", e.list_refunds(p)),
    ),
    _route("GET", "/v1/refunds/{refund}", P.RefundRetrieveParams, _retrieve("refund", "refund")),
    _route("GET", "/v1/disputes/{dispute}", P.DisputeRetrieveParams, _retrieve("dispute", "dispute")),
    _route(
        "GET",
        "/v1/events",
        P.EventListParams,
        lambda e, p, c: _ListResult("/v1/events", e.list_events(p)),
    ),
    _route("GET", "/v1/events/{id}", P.EventRetrieveParams, _retrieve("event", "id")),
    # coupons and promotion codes (coupons.py)
    _route("POST", "/v1/coupons", P.CouponCreateParams, lambda e, p, c: e.create_coupon(p)),
    _route("GET", "/v1/coupons", P.CouponListParams, lambda e, p, c: _ListResult("/v1/coupons", e.list_coupons(p))),
    _route("GET", "/v1/coupons/{coupon}", P.CouponRetrieveParams, _retrieve("coupon", "coupon")),
    _route("POST", "/v1/promotion_codes", P.PromotionCodeCreateParams, lambda e, p, c: e.create_promotion_code(p)),
    _route(
        "GET",
        "/v1/promotion_codes",
        P.PromotionCodeListParams,
        lambda e, p, c: _ListResult("/v1/promotion_codes", e.list_promotion_codes(p)),
    ),
    _route("GET", "/v1/promotion_codes/{code}", P.PromotionCodeRetrieveParams, _retrieve("promotion_code", "code")),
    _route(
        "POST",
        "/v1/promotion_codes/{code}",
        P.PromotionCodeModifyParams,
        lambda e, p, c: e.update_promotion_code(c.args["code"], p),
    ),
    # Connect (accounts.py, transfers.py)
    _route("POST", "/v1/accounts", P.AccountCreateParams, lambda e, p, c: e.create_account(p)),
    _route("GET", "/v1/accounts/{account}", P.AccountRetrieveParams, _retrieve("account", "account")),
    _route(
        "POST",
        "/v1/account_links",
        P.AccountLinkCreateParams,
        lambda e, p, c: e.create_account_link(p, base_url=c.base_url),
    ),
    _route("POST", "/v1/transfers", P.TransferCreateParams, lambda e, p, c: e.create_transfer(p)),
    _route(
        "GET",
        "/v1/transfers",
        P.TransferListParams,
        lambda e, p, c: _ListResult("/v1/transfers", e.list_transfers(p)),
    ),
    _route("GET", "/v1/transfers/{id}", P.TransferRetrieveParams, _retrieve("transfer", "id")),
    _route(
        "POST",
        "/v1/transfers/{id}/reversals",
        P.TransferCreateReversalParams,
        lambda e, p, c: e.create_transfer_reversal(c.args["id"], p),
    ),
    _route("GET", "/v1/balance", P.BalanceRetrieveParams, lambda e, p, c: e.retrieve_balance(c.account)),
]

#: Fields that ``expand[]`` may replace with the object they reference.
EXPANDABLE: dict[str, frozenset] = {
    "checkout.session": frozenset(
        {
            "customer",
            "invoice",
            "line_items",
            "payment_intent",
            "payment_link",
            "setup_intent",
            "subscription",
            "total_details",
        }
    ),
    "payment_intent": frozenset(
        {"application", "customer", "latest_charge", "on_behalf_of", "payment_method", "review"}
    ),
    "charge": frozenset(
        {
            "application",
            "application_fee",
            "balance_transaction",
            "customer",
            "on_behalf_of",
            "payment_intent",
            "review",
            "transfer",
        }
    ),
    "refund": frozenset({"balance_transaction", "charge", "payment_intent"}),
    "customer": frozenset({"default_source", "test_clock"}),
}


def _session_line_items(emulator: StripeEmulator, session_id: str) -> list[dict[str, Any]]:
    emulator.retrieve("checkout.session", session_id)  # 404 for an unknown session
    return emulator.line_items(session_id)


# --------------------------------------------------------------------------- entry point


def handle_api_request(
    emulator: StripeEmulator,
    method: str,
    path: str,
    *,
    query: str = "",
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    base_url: str,
) -> Response:
    """Serve one ``/v1`` request against ``emulator``."""
    method = method.upper()
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    request_id = emulator.new_id("req_", 14)
    version = lowered.get("stripe-version") or emulator.api_version
    response_headers = {
        "Content-Type": "application/json",
        "Request-Id": request_id,
        "Stripe-Version": version,
        "Cache-Control": "no-cache, no-store",
        "Access-Control-Allow-Origin": "*",
    }
    idempotency_key = lowered.get("idempotency-key") if method == "POST" else None
    if idempotency_key:
        response_headers["Idempotency-Key"] = idempotency_key
    record = RecordedRequest(
        method=method,
        path=path,
        params={},
        status=0,
        idempotency_key=idempotency_key,
        api_key=None,
        stripe_version=lowered.get("stripe-version"),
        request_id=request_id,
    )
    # One operation per request: the idempotency check, the state change and
    # the stored result happen atomically, and the request's events are
    # delivered only after the emulator's lock is released.
    with emulator.operation(request_id=request_id, idempotency_key=idempotency_key):
        try:
            response = _serve(
                emulator, method, path, query, body, lowered, base_url, response_headers, record
            )
        except StripeError as exc:
            response = _error_response(exc, request_id, response_headers)
        record.status = response.status
        emulator.requests.append(record)
    return response


def _serve(
    emulator: StripeEmulator,
    method: str,
    path: str,
    query: str,
    body: bytes,
    headers: Mapping[str, str],
    base_url: str,
    response_headers: dict[str, str],
    record: RecordedRequest,
) -> Response:
    record.api_key = api_key = _authenticate(emulator, headers.get("authorization"))
    route, args = _match(method, path)
    failure = emulator.take_failure(method, path)
    if failure is not None:
        if failure.network:
            response = _error_response(
                StripeError(503, "api_error", failure.message), record.request_id, response_headers
            )
            response.headers["Stripe-Should-Retry"] = "true"
            response.network_failure = True
            return response
        raise StripeError(failure.status, failure.error_type, failure.message, code=failure.code)
    if method == "GET":
        raw = parse_query(query)
    else:
        raw = decode_form(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    record.params = raw
    key = record.idempotency_key
    if key:
        replay = _replay(emulator, api_key, key, method, path, raw)
        if replay is not None:
            record.replayed = True
            return replay
    # A request that fails validation never started executing, so (as on
    # Stripe) nothing is stored under its idempotency key.
    params = validate(route.params_class, raw)
    record.params = dict(params)
    expand = params.pop("expand", None) or []
    try:
        context = _Context(base_url=base_url, args=args, account=headers.get("stripe-account"))
        result = route.handler(emulator, params, context)
        response = Response(200, response_headers, _dump(_render(emulator, result, expand, params)))
    except StripeError as exc:
        response = _error_response(exc, record.request_id, response_headers)
    if key:
        emulator.store_idempotent_result(
            api_key,
            key,
            IdempotentResult(
                method,
                path,
                raw,
                response.status,
                response.body,
                dict(response.headers),
                emulator.now(),
            ),
        )
    return response


def _error_response(exc: StripeError, request_id: str, headers: Mapping[str, str]) -> Response:
    return Response(exc.status, {**headers, **exc.headers}, _dump(exc.body(request_id)))


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, indent=2).encode("utf-8")


def _authenticate(emulator: StripeEmulator, authorization: str | None) -> str:
    key = None
    if authorization:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer":
            key = credentials.strip()
        elif scheme.lower() == "basic":
            try:
                key = base64.b64decode(credentials).decode("utf-8").partition(":")[0]
            except (ValueError, UnicodeDecodeError):
                key = None
    if not key:
        raise StripeError(
            401,
            "invalid_request_error",
            "You did not provide an API key. You need to provide your API key in the Authorization header, "
            "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication "
            "for details, or we can help at https://support.stripe.com/.",
        )
    accepted = (
        key in emulator.api_keys
        if emulator.api_keys is not None
        else key.startswith(("sk_test_", "rk_test_"))
    )
    if not accepted:
        raise StripeError(401, "invalid_request_error", f"Invalid API Key provided: {_mask(key)}")
    return key


def _mask(key: str) -> str:
    prefix = key[:8] if key.startswith(("sk_", "rk_", "pk_")) else ""
    return f"{prefix}{'*' * max(len(key) - len(prefix) - 4, 4)}{key[-4:]}"


def _match(method: str, path: str) -> tuple[Route, dict[str, str]]:
    for route in ROUTES:
        match = route.pattern.match(path)
        if match and route.method == method:
            return route, {k: unquote(v) for k, v in match.groupdict().items()}
    raise StripeError(
        404,
        "invalid_request_error",
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at "
        "https://support.stripe.com/.",
    )


def _replay(
    emulator: StripeEmulator, api_key: str, key: str, method: str, path: str, raw: dict[str, Any]
) -> Response | None:
    previous = emulator.idempotent_result(api_key, key)
    if previous is None:
        return None
    if (previous.method, previous.path) != (method, path):
        raise StripeError(
            400,
            "idempotency_error",
            "Keys for idempotent requests can only be used for the same endpoint they were first used for "
            f"('{previous.method} {previous.path}' vs '{method} {path}'). Try using a key other than '{key}' "
            "if you meant to execute a different request.",
        )
    if previous.params != raw:
        raise StripeError(
            400,
            "idempotency_error",
            "Keys for idempotent requests can only be used with the same parameters they were first used with. "
            f"Try using a key other than '{key}' if you meant to execute a different request.",
        )
    return Response(
        previous.status, {**previous.headers, "Idempotent-Replayed": "true"}, previous.body
    )


# --------------------------------------------------------------------------- rendering


def _render(
    emulator: StripeEmulator, result: Any, expand: list[str], params: Mapping[str, Any]
) -> dict[str, Any]:
    if isinstance(result, _ListResult):
        page, has_more = _paginate(emulator, result.items, params)
        rendered = objects.list_object(
            result.url, [objects.snapshot(item) for item in page], has_more
        )
        for path in expand:
            if not path.startswith("data."):
                raise invalid_request(
                    f"This property cannot be expanded ({path}). You may want to try expanding 'data.{path}' instead.",
                    param="expand",
                )
            for item in rendered["data"]:
                _expand(emulator, item, path[len("data.") :].split("."), path)
        return rendered
    rendered = objects.snapshot(result)
    for path in expand:
        _expand(emulator, rendered, path.split("."), path)
    return rendered


def _expand(
    emulator: StripeEmulator, obj: dict[str, Any], parts: list[str], full_path: str
) -> None:
    name, rest = parts[0], parts[1:]
    allowed = EXPANDABLE.get(obj.get("object", ""), frozenset())
    if name not in allowed:
        raise invalid_request(f"This property cannot be expanded ({full_path}).", param="expand")
    if name == "line_items" and obj.get("object") == "checkout.session":
        items = emulator.line_items(obj["id"])
        obj["line_items"] = objects.list_object(
            f"/v1/checkout/sessions/{obj['id']}/line_items", items[:100], len(items) > 100
        )
        return
    if name == "total_details" and obj.get("object") == "checkout.session" and rest == ["breakdown"]:
        obj["total_details"]["breakdown"] = emulator.discount_breakdown(obj["id"])
        return
    value = obj.get(name)
    if isinstance(value, str):
        target = emulator.lookup(value)
        if target is not None:
            obj[name] = value = objects.snapshot(target)
    if rest and isinstance(value, dict):
        _expand(emulator, value, rest, full_path)


def _paginate(
    emulator: StripeEmulator, items: list[dict[str, Any]], params: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], bool]:
    limit = params.get("limit", 10)
    if not 1 <= limit <= 100:
        raise invalid_request(
            f"This value must be greater than or equal to 1 and less than or equal to 100 (it was {limit}).",
            param="limit",
        )
    ids = [item["id"] for item in items]
    for cursor in ("starting_after", "ending_before"):
        if cursor in params and params[cursor] not in ids:
            target = emulator.lookup(params[cursor])
            raise resource_missing(
                target["object"] if target else "object", params[cursor], param=cursor, status=400
            )
    if "starting_after" in params:
        remaining = items[ids.index(params["starting_after"]) + 1 :]
        return remaining[:limit], len(remaining) > limit
    if "ending_before" in params:
        preceding = items[: ids.index(params["ending_before"])]
        return preceding[-limit:], len(preceding) > limit
    return items[:limit], len(items) > limit
