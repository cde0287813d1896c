"""Checkout Sessions in payment mode: creation, line items, listing and expiry.

Paying a session on its hosted page is :mod:`.payments`; this module owns the
session itself, the prices and line items made from ``price_data``, and the
expiry of open sessions, both on request and when the clock passes
``expires_at``.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import objects
from .errors import StripeError, invalid_request, resource_missing
from .params import check_metadata
from .store import EmulatorStore, filter_created

#: Where hosted pages are assumed to live when the emulator is used without a server.
DEFAULT_PUBLIC_URL = "http://127.0.0.1:12111"

# Parameters whose effect on the amount or flow the emulator does not model.
# They are valid Stripe parameters (validation accepts them); silently ignoring
# them would produce wrong totals, so they are refused with a clear message.
_UNSIMULATED_SESSION_PARAMS = (
    "discounts",
    "optional_items",
    "setup_intent_data",
    "shipping_options",
    "subscription_data",
)

_SESSION_MIN_LIFETIME = 30 * 60
_SESSION_MAX_LIFETIME = 24 * 3600


@dataclass
class CheckoutExtras:
    """Session data that is not part of the session's JSON."""

    base_url: str
    payment_intent_data: dict[str, Any]
    line_items: list[dict[str, Any]]
    customer_creation: str | None
    pending_card: dict[str, Any] | None = None
    email: str | None = None
    name: str | None = None


class CheckoutSessions(EmulatorStore):
    """``/v1/checkout/sessions`` and the session data the hosted page needs."""

    def create_checkout_session(
        self, params: Mapping[str, Any], *, base_url: str | None = None
    ) -> dict[str, Any]:
        with self._operation():
            mode = params.get("mode", "payment")
            if mode != "payment":
                raise _unsimulated(f"mode={mode}", param="mode")
            # ``hosted_page`` is this API version's name for the redirect flow; ``hosted`` is the older one.
            if params.get("ui_mode", "hosted_page") not in ("hosted_page", "hosted"):
                raise _unsimulated(f"ui_mode={params['ui_mode']}", param="ui_mode")
            for name in _UNSIMULATED_SESSION_PARAMS:
                if name in params:
                    raise _unsimulated(name, param=name)
            for name in ("automatic_tax", "invoice_creation"):
                if (params.get(name) or {}).get("enabled"):
                    raise _unsimulated(f"{name}[enabled]=true", param=f"{name}[enabled]")
            if params.get("customer") and params.get("customer_email"):
                raise invalid_request(
                    "You may only specify one of these parameters: customer, customer_email.",
                    param="customer_email",
                )
            if params.get("customer"):
                self._find("customer", params["customer"], param="customer", status=400)
            for url_param in ("success_url", "cancel_url"):
                if url_param in params and not params[url_param].startswith(
                    ("http://", "https://")
                ):
                    raise invalid_request("Not a valid URL", param=url_param, code="url_invalid")
            if len(params.get("client_reference_id") or "") > 200:
                raise invalid_request(
                    "Invalid string: client_reference_id must be at most 200 characters.",
                    param="client_reference_id",
                )
            check_metadata(params.get("metadata"), "metadata")
            intent_data = dict(params.get("payment_intent_data") or {})
            check_metadata(intent_data.get("metadata"), "payment_intent_data[metadata]")

            now = self.now()
            expires_at = params.get("expires_at", now + _SESSION_MAX_LIFETIME)
            if expires_at - now < _SESSION_MIN_LIFETIME:
                raise invalid_request(
                    "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
                    param="expires_at",
                )
            if expires_at - now > _SESSION_MAX_LIFETIME:
                raise invalid_request(
                    "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
                    param="expires_at",
                )

            currency, amount, items = self._build_line_items(params.get("line_items"))
            step = objects.charge_step(currency)
            if amount % step:
                raise invalid_request(
                    f"Invalid amount. Amounts in {currency.upper()} must be evenly divisible by {step} "
                    "(in the currency's smallest unit).",
                    param="line_items",
                    code="invalid_charge_amount",
                )
            minimum = objects.MINIMUM_CHARGE.get(currency, 50)
            if amount < minimum:
                raise invalid_request(
                    "The Checkout Session's total amount due must add up to at least "
                    f"{objects.format_amount(minimum, currency)} {currency}",
                    param="line_items",
                )
            self._check_destination(intent_data, amount)

            session_id = self.new_id("cs_test_a1", 56)
            base = (self.public_url or base_url or DEFAULT_PUBLIC_URL).rstrip("/")
            session = objects.checkout_session(
                id=session_id,
                created=now,
                expires_at=expires_at,
                params=params,
                amount=amount,
                currency=currency,
                url=f"{base}/c/pay/{session_id}",
            )
            self._store(session)
            heapq.heappush(
                self._expiry_queue(),
                (expires_at, len(self._by_type["checkout.session"]) - 1, session_id),
            )
            self._extras[session_id] = CheckoutExtras(
                base_url=base,
                payment_intent_data=intent_data,
                line_items=items,
                customer_creation=params.get("customer_creation"),
            )
            return session

    def _build_line_items(self, line_items: list[Mapping[str, Any]] | None):
        if not line_items:
            raise invalid_request(
                "Missing required param: line_items.", param="line_items", code="parameter_missing"
            )
        currency: str | None = None
        total = 0
        items: list[dict[str, Any]] = []
        for index, item in enumerate(line_items):
            path = f"line_items[{index}]"
            if "price" in item:
                raise resource_missing("price", item["price"], param=f"{path}[price]", status=400)
            for name in ("adjustable_quantity", "dynamic_tax_rates", "tax_rates"):
                if name in item:
                    raise _unsimulated(f"{path}[{name}]", param=f"{path}[{name}]")
            price_data = item.get("price_data")
            if price_data is None:
                raise invalid_request(
                    f"You must specify either `price` or `price_data` in {path}.",
                    param=path,
                    code="parameter_missing",
                )
            if "quantity" not in item:
                raise invalid_request(
                    f"Missing required param: {path}[quantity].",
                    param=f"{path}[quantity]",
                    code="parameter_missing",
                )
            quantity = item["quantity"]
            if quantity < 1:
                raise invalid_request(
                    "This value must be greater than or equal to 1.", param=f"{path}[quantity]"
                )
            if price_data.get("recurring"):
                raise invalid_request(
                    "You must be in `subscription` mode to specify a recurring price.",
                    param=f"{path}[price_data][recurring]",
                )
            if "product" in price_data:
                raise resource_missing(
                    "product",
                    price_data["product"],
                    param=f"{path}[price_data][product]",
                    status=400,
                )
            product_data = price_data.get("product_data")
            if product_data is None:
                raise invalid_request(
                    "You must specify either `product` or `product_data` when creating a price.",
                    param=f"{path}[price_data][product_data]",
                    code="parameter_missing",
                )
            has_amount = "unit_amount" in price_data
            has_decimal = "unit_amount_decimal" in price_data
            if has_amount and has_decimal:
                raise invalid_request(
                    "You may only specify one of these parameters: unit_amount, unit_amount_decimal.",
                    param=f"{path}[price_data][unit_amount_decimal]",
                    code="parameters_exclusive",
                )
            if not (has_amount or has_decimal):
                raise invalid_request(
                    f"Missing required param: {path}[price_data][unit_amount].",
                    param=f"{path}[price_data][unit_amount]",
                    code="parameter_missing",
                )
            unit = (
                Decimal(price_data["unit_amount"])
                if has_amount
                else Decimal(price_data["unit_amount_decimal"])
            )
            if unit < 0:
                raise invalid_request(
                    "This value must be greater than or equal to 0.",
                    param=f"{path}[price_data][unit_amount]",
                )
            item_currency = price_data["currency"].lower()
            if currency is not None and item_currency != currency:
                raise invalid_request(
                    "All line items must use the same currency; "
                    f"line_items[0] uses {currency} and {path} uses {item_currency}.",
                    param=f"{path}[price_data][currency]",
                )
            currency = item_currency
            amount = objects.round_minor(unit * quantity)
            total += amount
            price = objects.price(
                id=self.new_id("price_"),
                product_id=self.new_id("prod_", 14),
                created=self.now(),
                price_data=price_data,
                unit_amount_decimal=unit,
            )
            self._store(price)
            items.append(
                objects.line_item(
                    id=self.new_id("li_"),
                    price_obj=price,
                    description=product_data["name"],
                    quantity=quantity,
                    amount=amount,
                )
            )
        assert currency is not None
        return currency, total, items

    def list_checkout_sessions(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        with self._operation():
            sessions = self.newest_first("checkout.session")
            for name in ("customer", "payment_intent", "status", "payment_link", "subscription"):
                if name in params:
                    sessions = [s for s in sessions if s.get(name) == params[name]]
            email = (params.get("customer_details") or {}).get("email")
            if email is not None:
                sessions = [
                    s for s in sessions if (s.get("customer_details") or {}).get("email") == email
                ]
            return filter_created(sessions, params.get("created"))

    def expire_checkout_session(self, session_id: str) -> dict[str, Any]:
        """Expire an open session now (``POST /v1/checkout/sessions/:id/expire``)."""
        with self._operation():
            session = self._find("checkout.session", session_id, param="session")
            if session["status"] != "open":
                raise invalid_request(
                    'Only Checkout Sessions with a status in ["open"] can be expired. '
                    f'This Checkout Session has a status of "{session["status"]}".',
                    param="session",
                )
            self._expire(session)
            return session

    def _expire(self, session: dict[str, Any]) -> None:
        intent = self._objects.get(session["payment_intent"] or "")
        if intent is not None and intent["status"] not in ("succeeded", "canceled"):
            intent.update(
                status="canceled",
                canceled_at=self.now(),
                cancellation_reason="abandoned",
                next_action=None,
            )
            self._emit("payment_intent.canceled", intent)
        session.update(status="expired", url=None)
        self._emit("checkout.session.expired", session)

    def line_items(self, session_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [
                objects.snapshot(item) for item in self._require_checkout(session_id).line_items
            ]

    def checkout_url(self, session_id: str) -> str:
        """The hosted page URL, even after Stripe has nulled ``url`` on a finished session."""
        with self._lock:
            return f"{self._require_checkout(session_id).base_url}/c/pay/{session_id}"

    def _require_checkout(self, session_id: str) -> CheckoutExtras:
        extras = self._extras.get(session_id)
        if extras is None:
            raise resource_missing("checkout.session", session_id, param="session")
        return extras

    def _expire_due_sessions(self) -> None:
        # Runs before every operation: only the sessions now due are looked at, in creation order.
        queue = self._expiry_queue()
        now = self.now()
        due: list[tuple[int, str]] = []
        while queue and queue[0][0] <= now:
            _expires_at, created_order, session_id = heapq.heappop(queue)
            due.append((created_order, session_id))
        for _created_order, session_id in sorted(due):
            session = self._objects.get(session_id)
            if session is not None and session["status"] == "open":
                self._expire(session)

    def _expiry_queue(self) -> list[tuple[int, int, str]]:
        """Sessions by ``expires_at`` (a heap), each once; built from the stored ones on first use."""
        queue = self.__dict__.get("_session_expiry_queue")
        if queue is None:
            queue = [
                (self._objects[session_id]["expires_at"], order, session_id)
                for order, session_id in enumerate(self._by_type.get("checkout.session", []))
                if self._objects[session_id]["status"] == "open"
            ]
            heapq.heapify(queue)
            self.__dict__["_session_expiry_queue"] = queue
        return queue

    def _on_operation_start(self) -> None:
        super()._on_operation_start()
        self._expire_due_sessions()


def _unsimulated(what: str, *, param: str) -> StripeError:
    return invalid_request(
        f"The Stripe emulator does not simulate `{what}`. Remove it, or run this test against Stripe's test mode.",
        param=param,
        code="emulator_unsupported",
    )
