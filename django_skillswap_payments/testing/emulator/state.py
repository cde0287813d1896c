"""The emulator's in-memory Stripe account: resources, state transitions and events.

The object store, clock, ids, request log, idempotency, failure injection and
the operation lock live in :mod:`.store`; this module adds the resources on top.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import cards, objects
from .errors import StripeError, invalid_request, resource_missing
from .params import check_metadata
from .store import (
    EmulatorStore,
    IdempotentResult,
    InjectedFailure,
    RecordedRequest,
    filter_created,
)

__all__ = [
    "DEFAULT_PUBLIC_URL",
    "CheckoutOutcome",
    "IdempotentResult",
    "InjectedFailure",
    "RecordedRequest",
    "StripeEmulator",
    "filter_created",
]

#: Where hosted pages are assumed to live when the emulator is used without a server.
DEFAULT_PUBLIC_URL = "http://127.0.0.1:12111"

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
class CheckoutOutcome:
    """What happened when a card was submitted on (or authenticated for) a hosted checkout page."""

    #: ``succeeded``, ``requires_action``, ``declined``, ``invalid`` (form error, nothing charged) or ``closed``.
    status: str
    session_id: str
    payment_intent: str | None = None
    #: Where the browser goes next: success_url, or the authentication page.
    redirect_url: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    decline_code: str | None = None
    #: For ``invalid``: the form field at fault (``cardNumber``, ``cardExpiry``, ``cardCvc``).
    field: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"


@dataclass
class _CheckoutExtras:
    """Session data that is not part of the session's JSON."""

    base_url: str
    payment_intent_data: dict[str, Any]
    line_items: list[dict[str, Any]]
    customer_creation: str | None
    pending_card: dict[str, Any] | None = None
    email: str | None = None
    name: str | None = None


class StripeEmulator(EmulatorStore):
    """A stateful, in-memory stand-in for the slice of Stripe's API the app uses.

    ``api_keys``: accepted secret keys (default: any ``sk_test_``/``rk_test_`` key).
    ``public_url``: base URL of hosted pages; by default taken from the request
    that creates the session (or :data:`DEFAULT_PUBLIC_URL` in-process).
    ``clock``: returns the current Unix time; :meth:`advance_time` adds to it.
    ``seed``: makes generated ids and shuffled deliveries reproducible.
    ``webhook_delivery``: ``"sync"``, ``"background"`` or ``"auto"`` (see :class:`WebhookDispatcher`).
    ``sleep``: how webhook delivery waits for delays and retry backoff.
    """

    # ------------------------------------------------------------------ clients

    def http_client(self):
        """A stripe-python HTTP client answering from this emulator in memory (no sockets)."""
        from .client import EmulatorHTTPClient

        return EmulatorHTTPClient(self)

    def stripe_client(self, api_key: str = "sk_test_emulator", **options: Any):
        """A ``stripe.StripeClient`` wired to :meth:`http_client`; ``options`` go to StripeClient."""
        import stripe

        return stripe.StripeClient(api_key, http_client=self.http_client(), **options)

    def wsgi_app(self, prefix: str = ""):
        """A WSGI application serving the API and hosted pages, optionally under ``prefix``."""
        from .wsgi import EmulatorWSGIApp

        return EmulatorWSGIApp(self, prefix=prefix)

    # ------------------------------------------------------------------ webhooks

    def add_webhook_endpoint(
        self, target: Any, secret: str, *, enabled_events: Sequence[str] = ("*",)
    ):
        """Register a webhook URL or callable; shorthand for ``emulator.webhooks.add_endpoint``."""
        return self.webhooks.add_endpoint(target, secret, enabled_events=enabled_events)

    def events(self, type: str | None = None) -> list[dict[str, Any]]:
        """Copies of emitted events, oldest first, optionally of one type."""
        return [e for e in self.all("event") if type is None or e["type"] == type]

    def line_items(self, session_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [
                objects.snapshot(item) for item in self._require_checkout(session_id).line_items
            ]

    def checkout_url(self, session_id: str) -> str:
        """The hosted page URL, even after Stripe has nulled ``url`` on a finished session."""
        with self._lock:
            return f"{self._require_checkout(session_id).base_url}/c/pay/{session_id}"

    def _require_checkout(self, session_id: str) -> _CheckoutExtras:
        extras = self._extras.get(session_id)
        if extras is None:
            raise resource_missing("checkout.session", session_id, param="session")
        return extras

    def _expire_due_sessions(self) -> None:
        now = self.now()
        for session_id in self._by_type.get("checkout.session", []):
            session = self._objects[session_id]
            if session["status"] == "open" and session["expires_at"] <= now:
                self._expire(session)

    def _on_operation_start(self) -> None:
        super()._on_operation_start()
        self._expire_due_sessions()

    # ------------------------------------------------------------------ customers

    def create_customer(self, params: Mapping[str, Any]) -> dict[str, Any]:
        with self._operation():
            check_metadata(params.get("metadata"), "metadata")
            customer = objects.customer(
                id=self.new_id("cus_", 14),
                created=self.now(),
                params=params,
                invoice_prefix="".join(self._rng.choice("0123456789ABCDEF") for _ in range(8)),
            )
            self._store(customer)
            self._emit("customer.created", customer)
            return customer

    # ------------------------------------------------------------------ checkout sessions

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
            minimum = objects.MINIMUM_CHARGE.get(currency, 50)
            if amount < minimum:
                raise invalid_request(
                    "The Checkout Session's total amount due must add up to at least "
                    f"{objects.format_amount(minimum, currency)} {currency}",
                    param="line_items",
                )

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
            self._extras[session_id] = _CheckoutExtras(
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

    # ------------------------------------------------------------------ hosted checkout

    def submit_payment(
        self,
        session_id: str,
        card_number: str = "4242 4242 4242 4242",
        *,
        expiry: str | None = None,
        cvc: str | None = None,
        email: str | None = None,
        name: str | None = None,
    ) -> CheckoutOutcome:
        """Pay a session as the hosted page's form does, with one of Stripe's test cards.

        ``expiry`` is ``"MM / YY"`` (default: a date in the future) and ``cvc``
        defaults to a valid one for the card brand.
        """
        with self._operation():
            session = self._find("checkout.session", session_id, param="session")
            extras = self._require_checkout(session_id)
            closed = self._closed_outcome(session)
            if closed is not None:
                return closed
            digits = cards.normalise_number(card_number)
            if cvc is None:
                cvc = "1234" if digits.startswith(("34", "37")) else "123"
            if expiry is None:
                expiry = f"12 / {(time.gmtime(self.now()).tm_year + 5) % 100:02d}"
            try:
                digits = cards.check_card(card_number, cvc)
                today = time.gmtime(self.now())
                exp_month, exp_year = cards.parse_expiry(
                    expiry, current_year=today.tm_year, current_month=today.tm_mon
                )
            except cards.CardInputError as exc:
                return CheckoutOutcome(
                    "invalid",
                    session_id,
                    session["payment_intent"],
                    error_code=exc.code,
                    error_message=exc.message,
                    field=exc.field,
                )

            spec = cards.lookup(digits)
            card = {
                "brand": spec.brand if spec else cards.brand_for(digits),
                "funding": spec.funding if spec else "credit",
                "last4": digits[-4:],
                "exp_month": exp_month,
                "exp_year": exp_year,
                "fingerprint": cards.fingerprint(digits),
            }
            extras.email = email or extras.email or self._default_email(session)
            extras.name = name or extras.name
            intent = self._ensure_payment_intent(session, extras)
            payment_method = self._create_payment_method(card, extras)

            if spec is not None and spec.behaviour == cards.SUCCEED:
                return self._succeed(session, intent, extras, card, payment_method)
            if spec is not None and spec.behaviour == cards.AUTHENTICATE:
                extras.pending_card = {**card, "payment_method": payment_method["id"]}
                auth_url = f"{extras.base_url}/c/pay/{session_id}/authenticate"
                intent.update(
                    status="requires_action",
                    payment_method=payment_method["id"],
                    last_payment_error=None,
                    next_action={
                        "type": "redirect_to_url",
                        "redirect_to_url": {
                            "return_url": f"{extras.base_url}/c/pay/{session_id}",
                            "url": auth_url,
                        },
                    },
                )
                self._emit("payment_intent.requires_action", intent)
                return CheckoutOutcome(
                    "requires_action", session_id, intent["id"], redirect_url=auth_url
                )
            if spec is not None and spec.decline is not None:
                code, decline_code, message = spec.decline
            else:
                code, decline_code, message = (
                    "card_declined",
                    "test_mode_live_card",
                    cards.LIVE_CARD_IN_TEST_MODE,
                )
            return self._decline(
                session, intent, extras, card, payment_method, code, decline_code, message
            )

    def authenticate(self, session_id: str, *, approve: bool = True) -> CheckoutOutcome:
        """Finish the 3D Secure step that a ``4000 0025 0000 3155`` payment started."""
        with self._operation():
            session = self._find("checkout.session", session_id, param="session")
            extras = self._require_checkout(session_id)
            closed = self._closed_outcome(session)
            if closed is not None:
                return closed
            intent = self._objects.get(session["payment_intent"] or "")
            if (
                intent is None
                or intent["status"] != "requires_action"
                or extras.pending_card is None
            ):
                return CheckoutOutcome(
                    "invalid",
                    session_id,
                    session["payment_intent"],
                    error_code="no_pending_authentication",
                    error_message="No authentication is pending for this Checkout Session.",
                )
            card = extras.pending_card
            extras.pending_card = None
            payment_method = self._objects[card["payment_method"]]
            if approve:
                return self._succeed(
                    session, intent, extras, {**card, "three_d_secure": True}, payment_method
                )
            error = {
                "code": "payment_intent_authentication_failure",
                "doc_url": "https://stripe.com/docs/error-codes/payment-intent-authentication-failure",
                "message": cards.AUTHENTICATION_FAILED,
                "payment_method": objects.snapshot(payment_method),
                "type": "invalid_request_error",
            }
            intent.update(
                status="requires_payment_method",
                payment_method=None,
                next_action=None,
                last_payment_error=error,
            )
            self._emit("payment_intent.payment_failed", intent)
            return CheckoutOutcome(
                "declined",
                session_id,
                intent["id"],
                error_code=error["code"],
                error_message=error["message"],
            )

    def _closed_outcome(self, session: Mapping[str, Any]) -> CheckoutOutcome | None:
        if session["status"] == "complete":
            # A double-submitted form lands where the first submit went.
            return CheckoutOutcome(
                "succeeded",
                session["id"],
                session["payment_intent"],
                redirect_url=self._success_redirect(session),
            )
        if session["status"] == "expired":
            return CheckoutOutcome(
                "closed",
                session["id"],
                session["payment_intent"],
                error_code="checkout_session_expired",
                error_message="This Checkout Session is no longer active.",
            )
        return None

    def _default_email(self, session: Mapping[str, Any]) -> str | None:
        if session.get("customer_email"):
            return session["customer_email"]
        customer = self._objects.get(session.get("customer") or "")
        return customer.get("email") if customer else None

    def _ensure_payment_intent(
        self, session: dict[str, Any], extras: _CheckoutExtras
    ) -> dict[str, Any]:
        if session["payment_intent"]:
            return self._objects[session["payment_intent"]]
        intent_id = self.new_id("pi_")
        intent = objects.payment_intent(
            id=intent_id,
            created=self.now(),
            amount=session["amount_total"],
            currency=session["currency"],
            customer=session["customer"],
            client_secret=f"{intent_id}_secret_{self.new_id('', 25)}",
            payment_intent_data=extras.payment_intent_data,
        )
        self._store(intent)
        session["payment_intent"] = intent_id
        self._emit("payment_intent.created", intent)
        return intent

    def _create_payment_method(
        self, card: Mapping[str, Any], extras: _CheckoutExtras
    ) -> dict[str, Any]:
        return self._store(
            {
                "id": self.new_id("pm_"),
                "object": "payment_method",
                "allow_redisplay": "unspecified",
                "billing_details": objects.billing_details(email=extras.email, name=extras.name),
                "card": objects.card_details(card),
                "created": self.now(),
                "customer": None,
                "livemode": False,
                "metadata": {},
                "type": "card",
            }
        )

    def _create_charge(
        self,
        intent: Mapping[str, Any],
        extras: _CheckoutExtras,
        card: Mapping[str, Any],
        payment_method: Mapping[str, Any],
        *,
        failure: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store the card charge for ``intent``; ``failure`` makes it a declined one."""
        return self._store(
            objects.charge(
                id=self.new_id("ch_"),
                created=self.now(),
                intent=intent,
                card=card,
                payment_method_id=payment_method["id"],
                # A declined charge moves no money, so it has no balance transaction.
                balance_transaction=self.new_id("txn_") if failure is None else None,
                email=extras.email,
                name=extras.name,
                failure=failure,
            )
        )

    def _succeed(
        self,
        session: dict[str, Any],
        intent: dict[str, Any],
        extras: _CheckoutExtras,
        card: Mapping[str, Any],
        payment_method: Mapping[str, Any],
    ) -> CheckoutOutcome:
        if session["customer"] is None and extras.customer_creation == "always":
            customer = self.create_customer(
                {"email": extras.email, "name": extras.name}
                if extras.name
                else {"email": extras.email}
            )
            session["customer"] = customer["id"]
            intent["customer"] = customer["id"]
        charge = self._create_charge(intent, extras, card, payment_method)
        intent.update(
            status="succeeded",
            amount_received=intent["amount"],
            latest_charge=charge["id"],
            payment_method=payment_method["id"],
            last_payment_error=None,
            next_action=None,
        )
        session.update(
            status="complete",
            payment_status="paid",
            url=None,
            customer_details={
                "address": {
                    key: None
                    for key in ("city", "country", "line1", "line2", "postal_code", "state")
                },
                "business_name": None,
                "email": extras.email,
                "individual_name": None,
                "name": extras.name,
                "phone": None,
                "tax_exempt": "none",
                "tax_ids": [],
            },
        )
        self._emit("charge.succeeded", charge)
        self._emit("payment_intent.succeeded", intent)
        self._emit("checkout.session.completed", session)
        return CheckoutOutcome(
            "succeeded", session["id"], intent["id"], redirect_url=self._success_redirect(session)
        )

    def _decline(
        self,
        session: dict[str, Any],
        intent: dict[str, Any],
        extras: _CheckoutExtras,
        card: Mapping[str, Any],
        payment_method: Mapping[str, Any],
        code: str,
        decline_code: str | None,
        message: str,
    ) -> CheckoutOutcome:
        charge = self._create_charge(
            intent,
            extras,
            card,
            payment_method,
            failure={"code": code, "decline_code": decline_code, "message": message},
        )
        error = {
            "advice_code": None,
            "charge": charge["id"],
            "code": code,
            "decline_code": decline_code,
            "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
            "message": message,
            "network_advice_code": None,
            "network_decline_code": None,
            "payment_method": objects.snapshot(payment_method),
            "type": "card_error",
        }
        intent.update(
            status="requires_payment_method",
            latest_charge=charge["id"],
            payment_method=None,
            next_action=None,
            last_payment_error=error,
        )
        self._emit("charge.failed", charge)
        self._emit("payment_intent.payment_failed", intent)
        return CheckoutOutcome(
            "declined",
            session["id"],
            intent["id"],
            error_code=code,
            error_message=message,
            decline_code=decline_code,
        )

    @staticmethod
    def _success_redirect(session: Mapping[str, Any]) -> str | None:
        url = session.get("success_url")
        return url.replace("{CHECKOUT_SESSION_ID}", session["id"]) if url else None

    # ------------------------------------------------------------------ refunds

    def create_refund(self, params: Mapping[str, Any]) -> dict[str, Any]:
        with self._operation():
            intent_id, charge_id = params.get("payment_intent"), params.get("charge")
            if intent_id and charge_id:
                raise invalid_request(
                    "You may only specify one of these parameters: charge, payment_intent.",
                    param="payment_intent",
                )
            if not (intent_id or charge_id):
                raise invalid_request(
                    "One of the following params should be provided for this request: payment_intent or charge."
                )
            if intent_id:
                intent = self._find("payment_intent", intent_id, param="payment_intent", status=400)
                if intent["status"] != "succeeded":
                    raise invalid_request(
                        f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                        param="payment_intent",
                        code="charge_not_refundable",
                    )
                charge = self._objects[intent["latest_charge"]]
            else:
                charge = self._find("charge", charge_id, param="charge", status=400)
                if charge["status"] != "succeeded":
                    raise invalid_request(
                        f"Charge {charge_id} has not succeeded and cannot be refunded.",
                        param="charge",
                        code="charge_not_refundable",
                    )
            check_metadata(params.get("metadata"), "metadata")
            remaining = charge["amount"] - charge["amount_refunded"]
            if remaining == 0:
                raise invalid_request(
                    f"Charge {charge['id']} has already been refunded.",
                    code="charge_already_refunded",
                )
            amount = params.get("amount", remaining)
            if amount < 1:
                raise invalid_request(
                    "Invalid positive integer", param="amount", code="parameter_invalid_integer"
                )
            if amount > remaining:
                raise invalid_request(
                    f"Refund amount ({objects.format_amount(amount, charge['currency'])}) is greater than unrefunded "
                    f"amount on charge ({objects.format_amount(remaining, charge['currency'])})",
                    param="amount",
                    code="amount_too_large",
                )
            refund = objects.refund(
                id=self.new_id("re_"),
                created=self.now(),
                charge_obj=charge,
                amount=amount,
                balance_transaction=self.new_id("txn_"),
                params=params,
            )
            self._store(refund)
            previous = {
                "amount_refunded": charge["amount_refunded"],
                "refunded": charge["refunded"],
            }
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] == charge["amount"]
            self._emit("refund.created", refund)
            self._emit("charge.refunded", charge, previous_attributes=previous)
            return refund

    # ------------------------------------------------------------------ events

    def list_events(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        with self._operation():
            events = self.newest_first("event")
            wanted = [params["type"]] if "type" in params else list(params.get("types") or [])
            if wanted:
                events = [
                    e
                    for e in events
                    if any(_type_matches(pattern, e["type"]) for pattern in wanted)
                ]
            return filter_created(events, params.get("created"))


def _type_matches(pattern: str, event_type: str) -> bool:
    # ``type=charge.*`` is a documented wildcard filter.
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


def _unsimulated(what: str, *, param: str) -> StripeError:
    return invalid_request(
        f"The Stripe emulator does not simulate `{what}`. Remove it, or run this test against Stripe's test mode.",
        param=param,
        code="emulator_unsupported",
    )
