"""Refunds: ``POST /v1/refunds`` against a succeeded PaymentIntent or Charge."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import objects, payment_objects
from .errors import invalid_request
from .params import check_metadata
from .store import EmulatorStore


class Refunds(EmulatorStore):
    """Full and partial refunds, which update the charge and emit ``charge.refunded``."""

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
            refund = payment_objects.refund(
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
            self._after_refund(charge, refund, params)
            self._emit("refund.created", refund)
            self._emit("charge.refunded", charge, previous_attributes=previous)
            return refund
