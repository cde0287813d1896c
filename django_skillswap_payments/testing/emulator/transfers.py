"""Moving money to connected accounts: destination charges, Transfers, reversals, balances.

A Checkout Session whose ``payment_intent_data`` names ``transfer_data[destination]``
makes a destination charge: when it succeeds the whole amount is transferred
to the account (``charge.transfer``) and the ``application_fee_amount`` is
taken back as an application fee (``charge.application_fee``). A refund with
``reverse_transfer`` reverses that transfer in proportion, and with
``refund_application_fee`` returns the fee. ``POST /v1/transfers`` moves the
platform's balance to an account (a held tip paid out later), and
``POST /v1/transfers/:id/reversals`` takes it back.

Balances are computed from those objects, per currency:
the platform has what its charges brought in, less refunds and transfers,
plus reversals and the fees it kept; an account has what was transferred to
it, less reversals and the fees taken. Everything is ``available`` at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import objects
from .errors import invalid_request
from .params import check_metadata
from .store import EmulatorStore


def _missing_destination(account_id: str) -> Exception:
    return invalid_request(f"No such destination: '{account_id}'", param="destination", code="resource_missing")


def _no_transfers_capability(param: str) -> Exception:
    return invalid_request(
        "Your destination account needs to have at least one of the following capabilities enabled: "
        "transfers, crypto_transfers, legacy_payments",
        param=param,
        code="insufficient_capabilities_for_transfer",
    )


def _prorated(whole: int, part: int, of: int) -> int:
    """``whole * part / of`` rounded half up, in integers (a partial refund's share of a transfer or fee)."""
    return (2 * whole * part + of) // (2 * of)


class Transfers(EmulatorStore):
    """``/v1/transfers``, their reversals, ``/v1/balance`` and the Connect side of charges and refunds."""

    # -- destination charges (hooks called by checkout, hosted payments and refunds)

    def _check_destination(self, intent_data: Mapping[str, Any], amount: int) -> None:
        transfer_data = intent_data.get("transfer_data") or {}
        fee = intent_data.get("application_fee_amount")
        if not transfer_data:
            if fee is not None:
                raise invalid_request(
                    "Can only apply an application_fee_amount when the PaymentIntent is attempting a "
                    "direct payment (using an OAuth key or Stripe-Account header) or destination payment "
                    "(using `transfer_data[destination]`).",
                    param="payment_intent_data[application_fee_amount]",
                )
            return
        destination = transfer_data.get("destination") or ""
        account = self._objects.get(destination)
        if account is None or account["object"] != "account":
            raise _missing_destination(destination)
        if account["capabilities"]["transfers"] != "active":
            raise _no_transfers_capability("payment_intent_data[transfer_data][destination]")
        if fee is not None and not 0 <= fee <= amount:
            raise invalid_request(
                "The application fee amount must not exceed the amount of the payment.",
                param="payment_intent_data[application_fee_amount]",
            )

    def _settle_destination(self, intent: dict[str, Any], charge: dict[str, Any], intent_data: Mapping[str, Any]) -> None:
        """Transfer a succeeded destination charge to its account and take the application fee."""
        destination = (intent_data.get("transfer_data") or {}).get("destination")
        if not destination:
            return
        fee = intent_data.get("application_fee_amount")
        transfer = self._new_transfer(
            amount=charge["amount"], currency=charge["currency"], destination=destination,
            metadata={}, transfer_group=f"group_{intent['id']}", source_transaction=charge["id"],
        )
        intent.update(transfer_data={"destination": destination}, application_fee_amount=fee,
                      transfer_group=transfer["transfer_group"])
        charge.update(transfer=transfer["id"], transfer_data={"amount": None, "destination": destination},
                      application_fee_amount=fee,
                      transfer_group=transfer["transfer_group"])
        if fee:
            application_fee = self._store({
                "id": self.new_id("fee_"),
                "object": "application_fee",
                "account": destination,
                "amount": fee,
                "amount_refunded": 0,
                "charge": charge["id"],
                "created": self.now(),
                "currency": charge["currency"],
                "livemode": False,
                "originating_transaction": charge["id"],
                "refunded": False,
            })
            charge["application_fee"] = application_fee["id"]
            self._emit("application_fee.created", application_fee)

    def _after_refund(self, charge: dict[str, Any], refund: dict[str, Any], params: Mapping[str, Any]) -> None:
        """``reverse_transfer`` / ``refund_application_fee`` of a refund of a destination charge."""
        transfer = self._objects.get(charge.get("transfer") or "")
        if transfer is None:
            return
        if params.get("reverse_transfer"):
            amount = min(_prorated(transfer["amount"], refund["amount"], charge["amount"]),
                         transfer["amount"] - transfer["amount_reversed"])
            if amount > 0:
                reversal = self._reverse(transfer, amount, metadata={})
                refund["transfer_reversal"] = reversal["id"]
        fee = self._objects.get(charge.get("application_fee") or "")
        if params.get("refund_application_fee") and fee is not None:
            amount = min(_prorated(fee["amount"], refund["amount"], charge["amount"]),
                         fee["amount"] - fee["amount_refunded"])
            fee["amount_refunded"] += amount
            fee["refunded"] = fee["amount_refunded"] == fee["amount"]
            self._emit("application_fee.refunded", fee)

    # -- transfers

    def create_transfer(self, params: Mapping[str, Any]) -> dict[str, Any]:
        with self._operation():
            check_metadata(params.get("metadata"), "metadata")
            destination = params["destination"]
            account = self._objects.get(destination)
            if account is None or account["object"] != "account":
                raise _missing_destination(destination)
            if account["capabilities"]["transfers"] != "active":
                raise _no_transfers_capability("destination")
            amount = params.get("amount")
            if amount is None or amount < 1:
                raise invalid_request("Invalid positive integer", param="amount", code="parameter_invalid_integer")
            currency = params["currency"].lower()
            available = self._platform_balance().get(currency, 0)
            if amount > available:
                raise invalid_request(
                    "You have insufficient available funds in your Stripe account.",
                    code="balance_insufficient",
                )
            return self._new_transfer(
                amount=amount, currency=currency, destination=destination,
                metadata=dict(params.get("metadata") or {}),
                transfer_group=params.get("transfer_group"), source_transaction=None,
            )

    def list_transfers(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        with self._operation():
            transfers = self.newest_first("transfer")
            for name in ("destination", "transfer_group"):
                if name in params:
                    transfers = [t for t in transfers if t.get(name) == params[name]]
            return transfers

    def create_transfer_reversal(self, transfer_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
        with self._operation():
            transfer = self._find("transfer", transfer_id, param="id")
            check_metadata(params.get("metadata"), "metadata")
            remaining = transfer["amount"] - transfer["amount_reversed"]
            amount = params.get("amount", remaining)
            if remaining == 0:
                raise invalid_request(f"Transfer {transfer_id} has already been fully reversed.",
                                      code="transfer_already_reversed")
            if amount < 1 or amount > remaining:
                raise invalid_request(
                    f"Reversal amount ({amount}) is greater than the unreversed amount of the transfer ({remaining}).",
                    param="amount",
                )
            return self._reverse(transfer, amount, metadata=dict(params.get("metadata") or {}))

    def _new_transfer(self, *, amount: int, currency: str, destination: str, metadata: dict[str, Any],
                      transfer_group: str | None, source_transaction: str | None) -> dict[str, Any]:
        transfer_id = self.new_id("tr_")
        transfer = self._store(objects.complete({
            "id": transfer_id,
            "object": "transfer",
            "amount": amount,
            "amount_reversed": 0,
            "balance_transaction": self.new_id("txn_"),
            "created": self.now(),
            "currency": currency,
            "description": None,
            "destination": destination,
            "destination_payment": self.new_id("py_"),
            "livemode": False,
            "metadata": metadata,
            "reversals": objects.list_object(f"/v1/transfers/{transfer_id}/reversals", [], False),
            "reversed": False,
            "source_transaction": source_transaction,
            "source_type": "card",
            "transfer_group": transfer_group,
        }))
        self._emit("transfer.created", transfer)
        return transfer

    def _reverse(self, transfer: dict[str, Any], amount: int, *, metadata: dict[str, Any]) -> dict[str, Any]:
        reversal = self._store(objects.complete({
            "id": self.new_id("trr_"),
            "object": "transfer_reversal",
            "amount": amount,
            "balance_transaction": self.new_id("txn_"),
            "created": self.now(),
            "currency": transfer["currency"],
            "destination_payment_refund": self.new_id("pyr_"),
            "metadata": metadata,
            "source_refund": None,
            "transfer": transfer["id"],
        }))
        transfer["amount_reversed"] += amount
        transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
        transfer["reversals"]["data"].insert(0, objects.snapshot(reversal))
        self._emit("transfer.reversed", transfer)
        return reversal

    # -- balances

    def _platform_balance(self) -> dict[str, int]:
        totals: dict[str, int] = {}

        def add(currency: str, amount: int) -> None:
            totals[currency] = totals.get(currency, 0) + amount

        for charge in self._of_type("charge"):
            if charge["status"] == "succeeded":
                add(charge["currency"], charge["amount"] - charge["amount_refunded"])
        for transfer in self._of_type("transfer"):
            add(transfer["currency"], transfer["amount_reversed"] - transfer["amount"])
        for fee in self._of_type("application_fee"):
            add(fee["currency"], fee["amount"] - fee["amount_refunded"])
        return totals

    def _account_balance(self, account_id: str) -> dict[str, int]:
        totals: dict[str, int] = {}
        for transfer in self._of_type("transfer"):
            if transfer["destination"] == account_id:
                currency = transfer["currency"]
                totals[currency] = totals.get(currency, 0) + transfer["amount"] - transfer["amount_reversed"]
        for fee in self._of_type("application_fee"):
            if fee["account"] == account_id:
                currency = fee["currency"]
                totals[currency] = totals.get(currency, 0) - fee["amount"] + fee["amount_refunded"]
        return totals

    def _of_type(self, object_name: str) -> list[dict[str, Any]]:
        return [self._objects[i] for i in self._by_type.get(object_name, [])]

    def retrieve_balance(self, account_id: str | None = None) -> dict[str, Any]:
        """``GET /v1/balance``: the platform's, or a connected account's with ``Stripe-Account``."""
        with self._operation():
            if account_id:
                self._find("account", account_id, param="account")
                totals = self._account_balance(account_id)
            else:
                totals = self._platform_balance()
            return {
                "object": "balance",
                "available": [
                    {"amount": amount, "currency": currency, "source_types": {"card": amount}}
                    for currency, amount in sorted(totals.items())
                ],
                "livemode": False,
                "pending": [
                    {"amount": 0, "currency": currency, "source_types": {"card": 0}} for currency in sorted(totals)
                ],
            }

    def balance(self, account_id: str | None = None) -> dict[str, int]:
        """Available balance per currency, for tests: the platform's, or ``account_id``'s."""
        with self._operation():
            return self._account_balance(account_id) if account_id else self._platform_balance()
