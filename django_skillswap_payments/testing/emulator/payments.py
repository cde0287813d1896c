"""Paying a Checkout Session on its hosted page: PaymentIntents, payment methods and charges.

The hosted page's form (or a test calling :meth:`HostedPayments.submit_payment`)
submits one of Stripe's test cards; the card decides whether the payment
succeeds, is declined or first needs 3D Secure (:meth:`HostedPayments.authenticate`).
The PaymentIntent is created on the first submit, as Stripe does since API
version 2022-08-01; a card that is charged or declined leaves a charge object.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import cards, objects, payment_objects
from .checkout import CheckoutExtras, CheckoutSessions
from .customers import Customers
from .disputes import Disputes


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


class HostedPayments(CheckoutSessions, Customers, Disputes):
    """What the hosted page does: submit a card, authenticate, succeed or decline."""

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
                outcome = self._succeed(session, intent, extras, card, payment_method)
                # A dispute test card: the charge is disputed after the payment's own events.
                self._dispute_charge(self._objects[intent["latest_charge"]], digits)
                return outcome
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
        self, session: dict[str, Any], extras: CheckoutExtras
    ) -> dict[str, Any]:
        if session["payment_intent"]:
            return self._objects[session["payment_intent"]]
        intent_id = self.new_id("pi_")
        intent = payment_objects.payment_intent(
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
        self, card: Mapping[str, Any], extras: CheckoutExtras
    ) -> dict[str, Any]:
        return self._store(
            {
                "id": self.new_id("pm_"),
                "object": "payment_method",
                "allow_redisplay": "unspecified",
                "billing_details": payment_objects.billing_details(
                    email=extras.email, name=extras.name
                ),
                "card": payment_objects.card_details(card),
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
        extras: CheckoutExtras,
        card: Mapping[str, Any],
        payment_method: Mapping[str, Any],
        *,
        failure: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store the card charge for ``intent``; ``failure`` makes it a declined one."""
        return self._store(
            payment_objects.charge(
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
        extras: CheckoutExtras,
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
        self._settle_destination(intent, charge, extras.payment_intent_data)
        session.update(
            status="complete",
            payment_status="paid",
            url=None,
            customer_details=payment_objects.session_customer_details(email=extras.email, name=extras.name),
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
        extras: CheckoutExtras,
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
