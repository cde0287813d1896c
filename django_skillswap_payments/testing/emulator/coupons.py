"""Coupons, promotion codes and the promotion code field of the hosted checkout page.

``POST /v1/coupons`` makes a coupon (``percent_off`` or ``amount_off`` with
its ``currency``; ``duration``, ``max_redemptions``, ``redeem_by``);
``POST /v1/promotion_codes`` a customer-facing code for one
(``promotion[coupon]``, ``code``, ``active``, ``max_redemptions``,
``expires_at``). A Checkout Session created with ``allow_promotion_codes``
shows a code field on its hosted page; a code that is unknown, inactive,
expired or used up is refused there with Checkout's "This code is invalid.". An
applied code lowers ``amount_total`` and fills ``total_details.amount_discount``,
``discounts`` and (with ``expand[]=total_details.breakdown``) the breakdown; a
code that takes the whole price completes the session without a card, with
``payment_status == "no_payment_required"`` and no PaymentIntent. A code and
its coupon count a redemption when the session completes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from . import objects, payment_objects
from .errors import StripeError, invalid_request
from .params import check_metadata
from .payments import CheckoutOutcome, HostedPayments
from .store import filter_created

_CODE_PATTERN = re.compile(r"[A-Za-z0-9-]{1,500}")
_CODE_ALPHABET_LENGTH = 8

# What Checkout's code field says. It calls an unknown, inactive, expired or used-up code alike
# "invalid"; CodeRefused.reason tells them apart for tests.
INVALID_CODE = "This code is invalid."
CODES_NOT_ALLOWED = "Promotion codes are not enabled for this Checkout Session."
BELOW_MINIMUM = "This code can't be used: the total would be below the minimum amount that can be charged."
FREE_AFTER_ATTEMPT = "This code can't be applied after a payment attempt; start a new checkout."
SESSION_CLOSED = "This Checkout Session is no longer active."


class CodeRefused(Exception):
    """A promotion code the hosted page will not apply.

    ``message`` is shown under the field; ``reason`` is one of ``unknown``,
    ``inactive``, ``expired``, ``used_up``, ``currency``, ``below_minimum``,
    ``free_after_attempt``, ``not_allowed`` or ``closed``.
    """

    def __init__(self, reason: str, message: str = INVALID_CODE):
        super().__init__(message)
        self.reason = reason
        self.message = message


class Coupons(HostedPayments):
    """``/v1/coupons``, ``/v1/promotion_codes`` and discounts on hosted checkout pages."""

    # ------------------------------------------------------------------ coupons

    def create_coupon(self, params: Mapping[str, Any]) -> dict[str, Any]:
        with self._operation():
            percent, amount_off = params.get("percent_off"), params.get("amount_off")
            if (percent is None) == (amount_off is None):
                raise invalid_request("You must pass exactly one of percent_off or amount_off.", param="percent_off")
            if percent is not None and not 0 < Decimal(percent) <= 100:
                raise invalid_request(
                    "Invalid percent_off: must be greater than 0 and less than or equal to 100.", param="percent_off"
                )
            if amount_off is not None and amount_off < 1:
                raise invalid_request("Invalid positive integer", param="amount_off")
            if amount_off is not None and not params.get("currency"):
                raise invalid_request(
                    "You must specify a currency when creating an amount_off coupon.", param="currency"
                )
            duration = params.get("duration", "once")
            if duration == "repeating" and not params.get("duration_in_months"):
                raise invalid_request(
                    "You must specify duration_in_months when duration is repeating.", param="duration_in_months"
                )
            self._check_limits(params, expiry_name="redeem_by")
            check_metadata(params.get("metadata"), "metadata")
            coupon_id = params.get("id") or self.new_id("", _CODE_ALPHABET_LENGTH)
            if coupon_id in self._objects:
                raise invalid_request("Coupon already exists.", param="id", code="resource_already_exists")
            coupon = {
                "id": coupon_id,
                "object": "coupon",
                # Stripe answers percent_off as a JSON number; discounts are computed from its text.
                "amount_off": amount_off,
                "applies_to": None,
                "created": self.now(),
                "currency": params["currency"].lower() if amount_off is not None else None,
                "duration": duration,
                "duration_in_months": params.get("duration_in_months"),
                "livemode": False,
                "max_redemptions": params.get("max_redemptions"),
                "metadata": dict(params.get("metadata") or {}),
                "name": params.get("name"),
                "percent_off": float(percent) if percent is not None else None,
                "redeem_by": params.get("redeem_by"),
                "times_redeemed": 0,
                "valid": True,
            }
            self._store(coupon)
            self._emit("coupon.created", coupon)
            return coupon

    def list_coupons(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        with self._operation():
            return filter_created(self.newest_first("coupon"), params.get("created"))

    # ------------------------------------------------------------------ promotion codes

    def create_promotion_code(self, params: Mapping[str, Any]) -> dict[str, Any]:
        with self._operation():
            promotion = params.get("promotion") or {}
            if promotion.get("type") != "coupon" or not promotion.get("coupon"):
                raise invalid_request(
                    "Missing required param: promotion[coupon].", param="promotion[coupon]", code="parameter_missing"
                )
            coupon = self._find("coupon", promotion["coupon"], param="promotion[coupon]", status=400)
            for name in ("customer", "customer_account"):
                if params.get(name):
                    raise _unsimulated(name)
            if any(value for value in (params.get("restrictions") or {}).values()):
                raise _unsimulated("restrictions")
            self._check_limits(params, expiry_name="expires_at")
            if coupon["redeem_by"] and params.get("expires_at", 0) > coupon["redeem_by"]:
                raise invalid_request(
                    "The promotion code's expires_at cannot be after the coupon's redeem_by.", param="expires_at"
                )
            if coupon["max_redemptions"] and params.get("max_redemptions", 0) > coupon["max_redemptions"]:
                raise invalid_request(
                    "The promotion code's max_redemptions cannot exceed the coupon's.", param="max_redemptions"
                )
            check_metadata(params.get("metadata"), "metadata")
            code = params.get("code") or self.new_id("", _CODE_ALPHABET_LENGTH).upper()
            if not _CODE_PATTERN.fullmatch(code):
                raise invalid_request(
                    "Promotion codes may contain only letters, digits and dashes.", param="code"
                )
            active = params.get("active", True)
            if active and self._active_code(code) is not None:
                raise invalid_request(
                    f"An active promotion code with `code: {code}` already exists.",
                    param="code",
                    code="resource_already_exists",
                )
            promotion_code = {
                "id": self.new_id("promo_"),
                "object": "promotion_code",
                "active": active,
                "code": code,
                "created": self.now(),
                "customer": None,
                "customer_account": None,
                "expires_at": params.get("expires_at"),
                "livemode": False,
                "max_redemptions": params.get("max_redemptions"),
                "metadata": dict(params.get("metadata") or {}),
                "promotion": {"coupon": coupon["id"], "type": "coupon"},
                "restrictions": {
                    "currency_options": {},
                    "first_time_transaction": False,
                    "minimum_amount": None,
                    "minimum_amount_currency": None,
                },
                "times_redeemed": 0,
            }
            self._store(promotion_code)
            self._emit("promotion_code.created", promotion_code)
            return promotion_code

    def update_promotion_code(self, promotion_code_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /v1/promotion_codes/:id``: ``active`` and ``metadata``."""
        with self._operation():
            promotion_code = self._find("promotion_code", promotion_code_id, param="promotion_code")
            if params.get("active") and not promotion_code["active"]:
                if self._active_code(promotion_code["code"]) is not None:
                    raise invalid_request(
                        f"An active promotion code with `code: {promotion_code['code']}` already exists.",
                        param="active",
                    )
            if "active" in params:
                promotion_code["active"] = params["active"]
            check_metadata(params.get("metadata"), "metadata")
            promotion_code["metadata"].update(params.get("metadata") or {})
            self._emit("promotion_code.updated", promotion_code)
            return promotion_code

    def list_promotion_codes(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        with self._operation():
            codes = self.newest_first("promotion_code")
            if "code" in params:
                codes = [c for c in codes if c["code"].casefold() == params["code"].casefold()]
            if "active" in params:
                codes = [c for c in codes if c["active"] == params["active"]]
            if "coupon" in params:
                codes = [c for c in codes if c["promotion"]["coupon"] == params["coupon"]]
            return filter_created(codes, params.get("created"))

    def seed_promotion_code(
        self,
        code: str,
        *,
        percent_off: Decimal | int | str | None = None,
        amount_off: int | None = None,
        currency: str | None = None,
        max_redemptions: int | None = None,
        expires_at: int | None = None,
    ) -> dict[str, Any]:
        """The active promotion code ``code``, made with a ``once`` coupon if there is none yet.

        For demos and the command line: safe to call on every start of an
        emulator that keeps its account in a state file.
        """
        with self._operation():
            existing = self._active_code(code)
            if existing is not None:
                return existing
            coupon_params: dict[str, Any] = {"duration": "once", "name": code}
            if percent_off is not None:
                coupon_params["percent_off"] = Decimal(str(percent_off))
            else:
                coupon_params.update(amount_off=amount_off, currency=currency)
            coupon = self.create_coupon(coupon_params)
            limits = {"max_redemptions": max_redemptions, "expires_at": expires_at}
            return self.create_promotion_code(
                {
                    "code": code,
                    "promotion": {"type": "coupon", "coupon": coupon["id"]},
                    **{name: value for name, value in limits.items() if value is not None},
                }
            )

    def _check_limits(self, params: Mapping[str, Any], *, expiry_name: str) -> None:
        if params.get("max_redemptions") is not None and params["max_redemptions"] < 1:
            raise invalid_request("Invalid positive integer", param="max_redemptions")
        if params.get(expiry_name) is not None and params[expiry_name] <= self.now():
            raise invalid_request(f"{expiry_name} must be in the future.", param=expiry_name)

    def _active_code(self, code: str) -> dict[str, Any] | None:
        for candidate in self.newest_first("promotion_code"):
            if candidate["active"] and candidate["code"].casefold() == code.casefold():
                return candidate
        return None

    # ------------------------------------------------------------------ the hosted page's code field

    def apply_promotion_code(self, session_id: str, code: str) -> dict[str, Any]:
        """Apply ``code`` on an open session's hosted page; raises :class:`CodeRefused` with the page's message."""
        with self._operation():
            session = self._find("checkout.session", session_id, param="session")
            if session["status"] != "open":
                raise CodeRefused("closed", SESSION_CLOSED)
            if not session.get("allow_promotion_codes"):
                raise CodeRefused("not_allowed", CODES_NOT_ALLOWED)
            promotion_code = self._usable_code(code.strip())
            coupon = self._objects[promotion_code["promotion"]["coupon"]]
            subtotal, currency = session["amount_subtotal"], session["currency"]
            if coupon["amount_off"] is not None and coupon["currency"] != currency:
                raise CodeRefused("currency")
            if coupon["percent_off"] is not None:
                discount = objects.round_minor(Decimal(str(coupon["percent_off"])) * subtotal / 100)
            else:
                discount = coupon["amount_off"]
            discount = min(discount, subtotal)
            total = subtotal - discount
            if 0 < total < objects.MINIMUM_CHARGE.get(currency, 50):
                raise CodeRefused("below_minimum", BELOW_MINIMUM)
            intent = self._objects.get(session["payment_intent"] or "")
            if intent is not None and total == 0:
                raise CodeRefused("free_after_attempt", FREE_AFTER_ATTEMPT)
            if intent is not None:
                intent["amount"] = total
            self._store(
                {
                    "id": self.new_id("di_"),
                    "object": "discount",
                    "checkout_session": session_id,
                    "customer": session["customer"],
                    "customer_account": None,
                    "end": None,
                    "invoice": None,
                    "invoice_item": None,
                    "promotion_code": promotion_code["id"],
                    "source": {"coupon": coupon["id"], "type": "coupon"},
                    "start": self.now(),
                    "subscription": None,
                    "subscription_item": None,
                }
            )
            session.update(
                amount_total=total,
                discounts=[{"coupon": coupon["id"], "promotion_code": promotion_code["id"]}],
                total_details={**session["total_details"], "amount_discount": discount},
            )
            return session

    def _usable_code(self, code: str) -> dict[str, Any]:
        matches = [c for c in self.newest_first("promotion_code") if c["code"].casefold() == code.casefold()]
        if not code or not matches:
            raise CodeRefused("unknown")
        active = [c for c in matches if c["active"]]
        if not active:
            raise CodeRefused("inactive")
        promotion_code = active[0]
        coupon = self._objects[promotion_code["promotion"]["coupon"]]
        now = self.now()
        if (promotion_code["expires_at"] and promotion_code["expires_at"] <= now) or (
            coupon["redeem_by"] and coupon["redeem_by"] <= now
        ):
            raise CodeRefused("expired")
        for limited in (promotion_code, coupon):
            if limited["max_redemptions"] and limited["times_redeemed"] >= limited["max_redemptions"]:
                raise CodeRefused("used_up")
        return promotion_code

    def discount_breakdown(self, session_id: str) -> dict[str, Any]:
        """``total_details.breakdown`` of a session (only returned when expanded, as on Stripe)."""
        with self._lock:
            session = self._objects[session_id]
            applied = [d for d in self.newest_first("discount") if d["checkout_session"] == session_id]
            discounts = []
            if applied and session["total_details"]["amount_discount"]:
                # The latest discount is the one in force: a code entered later replaces an earlier one.
                discounts.append(
                    {"amount": session["total_details"]["amount_discount"], "discount": objects.snapshot(applied[0])}
                )
            return {"discounts": discounts, "taxes": []}

    # ------------------------------------------------------------------ completion

    def submit_payment(
        self, session_id: str, card_number: str = "4242 4242 4242 4242", **kwargs: Any
    ) -> CheckoutOutcome:
        """As :meth:`HostedPayments.submit_payment`; a session with nothing to pay completes without a card."""
        with self._operation():
            session = self._find("checkout.session", session_id, param="session")
            if session["status"] == "open" and session["amount_total"] == 0 and session["discounts"]:
                return self._complete_free(session, email=kwargs.get("email"), name=kwargs.get("name"))
            return super().submit_payment(session_id, card_number, **kwargs)

    def _complete_free(self, session: dict[str, Any], *, email: str | None, name: str | None) -> CheckoutOutcome:
        extras = self._require_checkout(session["id"])
        extras.email = email or extras.email or self._default_email(session)
        extras.name = name or extras.name
        if session["customer"] is None and extras.customer_creation == "always":
            session["customer"] = self.create_customer({"email": extras.email})["id"]
        session.update(
            status="complete",
            payment_status="no_payment_required",
            url=None,
            customer_details=payment_objects.session_customer_details(email=extras.email, name=extras.name),
        )
        self._redeem(session)
        self._emit("checkout.session.completed", session)
        return CheckoutOutcome("succeeded", session["id"], None, redirect_url=self._success_redirect(session))

    def _succeed(self, session: dict[str, Any], *args: Any) -> CheckoutOutcome:
        self._redeem(session)
        return super()._succeed(session, *args)

    def _redeem(self, session: Mapping[str, Any]) -> None:
        for applied in session.get("discounts") or []:
            for object_id in (applied.get("promotion_code"), applied.get("coupon")):
                limited = self._objects.get(object_id or "")
                if limited is not None:
                    limited["times_redeemed"] += 1
                    if limited["object"] == "coupon" and limited["max_redemptions"]:
                        limited["valid"] = limited["times_redeemed"] < limited["max_redemptions"]


def _unsimulated(name: str) -> StripeError:
    return invalid_request(
        f"The Stripe emulator does not simulate promotion code `{name}`. Remove it, or run this test "
        "against Stripe's test mode.",
        param=name,
        code="emulator_unsupported",
    )
