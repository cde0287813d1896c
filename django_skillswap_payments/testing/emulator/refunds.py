"""Refunds: ``POST /v1/refunds`` against a succeeded PaymentIntent or Charge, ``GET /v1/refunds``,
and refunds that fail after they succeeded.

Full, partial and several refunds of one charge are refused past the charge's
amount as Stripe refuses them (``charge_already_refunded``, ``amount_too_large``).
Each refund emits ``refund.created`` and ``charge.refunded``.

Failing refunds, as in Stripe's test mode: a charge paid with the test card
``4000 0000 0000 5126`` is refunded (``succeeded``), and the refund fails
:data:`REFUND_FAILURE_DELAY_SECONDS` later on the emulator's clock
(:meth:`~.store.EmulatorStore.advance_time` gets there at once). Any refund
can be failed on demand with :meth:`Refunds.fail_refund`, over HTTP
(``POST /_emulator/refunds/<id>/fail``) or from the command line::

    python -m django_skillswap_payments.testing.emulator.refunds fail re_123 \\
        --emulator http://127.0.0.1:12111

A failure moves the refund to ``failed`` (with ``failure_reason``), gives
its amount back to the charge and emits ``refund.updated`` and ``refund.failed``.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import cards, objects, payment_objects
from .errors import StripeError, invalid_request
from .params import check_metadata
from .store import EmulatorStore, filter_created

#: Emulator seconds after which a refund of a charge of the failing card fails.
REFUND_FAILURE_DELAY_SECONDS = 5
#: Stripe's ``failure_reason`` for a refund to a card that no longer takes it.
DEFAULT_FAILURE_REASON = "expired_or_canceled_card"
FAILURE_REASONS = ("charge_for_pending_refund_disputed", "declined", "expired_or_canceled_card",
                   "insufficient_funds", "lost_or_stolen_card", "merchant_request", "unknown")
CONTROL_PREFIX = "/_emulator/refunds/"


@dataclass
class RefundExtras:
    """When a refund of the failing test card fails (emulator time)."""

    fails_at: int


class Refunds(EmulatorStore):
    """Full, partial and several refunds per charge, and refunds that fail later."""

    def create_refund(self, params: Mapping[str, Any]) -> dict[str, Any]:
        with self._operation():
            charge = self._refunded_charge(params)
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
            refund = payment_objects.refund(
                id=self.new_id("re_"),
                created=self.now(),
                charge_obj=charge,
                amount=amount,
                balance_transaction=self.new_id("txn_"),
                params=params,
            )
            self._store(refund)
            if _card_fingerprint(charge) == cards.fingerprint(cards.REFUND_FAILS_CARD):
                self._extras[refund["id"]] = RefundExtras(fails_at=self.now() + REFUND_FAILURE_DELAY_SECONDS)
            previous = {
                "amount_refunded": charge["amount_refunded"],
                "refunded": charge["refunded"],
            }
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] == charge["amount"]
            self._after_refund(charge, refund, params)
            self._emit("refund.created", refund)
            self._emit("charge.refunded", charge, previous_attributes=previous)
            return refund

    def _refunded_charge(self, params: Mapping[str, Any]) -> dict[str, Any]:
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
            return self._objects[intent["latest_charge"]]
        charge = self._find("charge", charge_id, param="charge", status=400)
        if charge["status"] != "succeeded":
            raise invalid_request(
                f"Charge {charge_id} has not succeeded and cannot be refunded.",
                param="charge",
                code="charge_not_refundable",
            )
        return charge

    def list_refunds(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """``GET /v1/refunds``: newest first, filtered by ``charge``, ``payment_intent`` and ``created``."""
        with self._operation():
            found = self.newest_first("refund")
            for name in ("charge", "payment_intent"):
                if name in params:
                    found = [r for r in found if r.get(name) == params[name]]
            return filter_created(found, params.get("created"))

    def fail_refund(self, refund_id: str, failure_reason: str = DEFAULT_FAILURE_REASON) -> dict[str, Any]:
        """Make a succeeded or pending refund fail now, as Stripe reports a refund the card network returned."""
        with self._operation():
            refund = self._find("refund", refund_id)
            if refund["status"] not in ("succeeded", "pending"):
                raise invalid_request(
                    f"Refund {refund_id} is {refund['status']} and cannot fail.", code="refund_not_failable"
                )
            if failure_reason not in FAILURE_REASONS:
                raise invalid_request(f"Unknown failure_reason {failure_reason!r}.", param="failure_reason")
            self._fail(refund, failure_reason)
            return objects.snapshot(refund)

    def _fail(self, refund: dict[str, Any], failure_reason: str) -> None:
        self._extras.pop(refund["id"], None)
        previous = {"status": refund["status"], "failure_reason": refund.get("failure_reason")}
        refund.update(
            status="failed",
            failure_reason=failure_reason,
            failure_balance_transaction=self.new_id("txn_"),
        )
        charge = self._objects[refund["charge"]]
        charge["amount_refunded"] -= refund["amount"]
        charge["refunded"] = False
        self._emit("refund.updated", refund, previous_attributes=previous)
        self._emit("refund.failed", refund)

    def _fail_due_refunds(self) -> None:
        now = self.now()
        for refund_id in self._by_type.get("refund", []):
            extras = self._extras.get(refund_id)
            refund = self._objects[refund_id]
            if isinstance(extras, RefundExtras) and extras.fails_at <= now and refund["status"] == "succeeded":
                self._fail(refund, DEFAULT_FAILURE_REASON)

    def _on_operation_start(self) -> None:
        super()._on_operation_start()
        self._fail_due_refunds()


def _card_fingerprint(charge: Mapping[str, Any]) -> str | None:
    details = charge.get("payment_method_details") or {}
    return (details.get("card") or {}).get("fingerprint")


# --------------------------------------------------------------------------- control API


def control_request(emulator: Refunds, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]] | None:
    """``POST /_emulator/refunds/<id>/fail`` (JSON body: optional ``failure_reason``); ``None`` if not ours."""
    if not path.startswith(CONTROL_PREFIX):
        return None
    refund_id, _, action = path[len(CONTROL_PREFIX):].partition("/")
    if method != "POST" or action.strip("/") != "fail":
        return 404, {"error": {"type": "invalid_request_error", "message": f"No control endpoint {method} {path}"}}
    try:
        options = json.loads(body or b"{}")
    except ValueError:
        options = None
    if not isinstance(options, dict):
        return 400, {"error": {"type": "invalid_request_error", "message": "The body must be a JSON object"}}
    try:
        refund = emulator.fail_refund(refund_id, options.get("failure_reason") or DEFAULT_FAILURE_REASON)
    except StripeError as exc:
        return exc.status, exc.body()
    return 200, refund


def main(argv: list[str] | None = None) -> int:
    """Command line: fail a refund of a running emulator."""
    parser = argparse.ArgumentParser(
        prog="python -m django_skillswap_payments.testing.emulator.refunds",
        description="Control refunds of a running Stripe emulator.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    fail = commands.add_parser("fail", help="make a refund fail now (refund.updated + refund.failed)")
    fail.add_argument("refund_id")
    fail.add_argument("--failure-reason", default=DEFAULT_FAILURE_REASON, choices=FAILURE_REASONS)
    fail.add_argument("--emulator", default="http://127.0.0.1:12111", help="the emulator's base URL")
    args = parser.parse_args(argv)
    request = urllib.request.Request(
        f"{args.emulator.rstrip('/')}{CONTROL_PREFIX}{args.refund_id}/fail",
        data=json.dumps({"failure_reason": args.failure_reason}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.load(response)
    except urllib.error.HTTPError as exc:
        print(exc.read().decode("utf-8", "replace"), file=sys.stderr)
        return 1
    print(f"{answer['id']}: {answer['status']} ({answer['failure_reason']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
