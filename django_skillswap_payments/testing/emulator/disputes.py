"""Disputes: Stripe's dispute test cards, and closing a dispute as won or lost.

A payment made on the hosted page with one of :data:`DISPUTE_CARDS` (such as
``4000 0000 0000 0259``) succeeds as usual; then, as Stripe does, its charge
is disputed: the charge gets ``disputed: true`` and
``charge.dispute.created`` and ``charge.dispute.funds_withdrawn`` follow the
payment's own events. Stripe decides a dispute weeks later; here a test or an
operator decides it at once, from Python (:meth:`Disputes.close_dispute`),
over HTTP (``POST /_emulator/disputes/<dp_id>/close`` with ``outcome=won`` or
``lost``) or from the command line::

    python -m django_skillswap_payments.testing.emulator.disputes list
    python -m django_skillswap_payments.testing.emulator.disputes close dp_... --outcome lost

(``--url`` and ``--api-key`` say which emulator, and the secret key it accepts).

Closing emits ``charge.dispute.closed``, and for a won dispute
``charge.dispute.funds_reinstated``. A closed dispute cannot be closed again.
All dispute state lives in the stored dispute objects (kept in the state file
like every other object).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from . import objects
from .errors import StripeError, invalid_request
from .store import EmulatorStore

# Test card number -> (reason, first status) of the dispute that follows its payment.
DISPUTE_CARDS: dict[str, tuple[str, str]] = {
    "4000000000000259": ("fraudulent", "needs_response"),
    "4000000000002685": ("product_not_received", "needs_response"),
    # An inquiry: a warning that may never become a chargeback.
    "4000000000001976": ("fraudulent", "warning_needs_response"),
}
OUTCOMES = ("won", "lost")
CLOSED = ("won", "lost", "warning_closed", "prevented")
# What Stripe charges for a dispute, in the charge's minor units (returned when it is won).
DISPUTE_FEE_MINOR = 1500
EVIDENCE_DAYS = 7
CONTROL_PREFIX = "/_emulator/disputes"


class Disputes(EmulatorStore):
    """Disputes raised by the dispute test cards, closed on request."""

    def _dispute_charge(self, charge: dict[str, Any], card_number: str) -> dict[str, Any] | None:
        """Dispute a charge just paid with a dispute test card (inside the payment's operation)."""
        spec = DISPUTE_CARDS.get(card_number)
        if spec is None:
            return None
        reason, status = spec
        created = self.now()
        dispute = {
            "id": self.new_id("dp_"),
            "object": "dispute",
            "amount": charge["amount"],
            "currency": charge["currency"],
            "charge": charge["id"],
            "payment_intent": charge.get("payment_intent"),
            "created": created,
            "reason": reason,
            "status": status,
            "is_charge_refundable": False,
            "livemode": False,
            "metadata": {},
            "balance_transactions": [self._balance_transaction(charge, -1)] if status == "needs_response" else [],
            "evidence_details": {
                "due_by": created + EVIDENCE_DAYS * 86400,
                "has_evidence": False,
                "past_due": False,
                "submission_count": 0,
            },
        }
        dispute = self._store(objects.complete(dispute))
        charge["disputed"] = True
        self._emit("charge.dispute.created", dispute)
        if dispute["balance_transactions"]:
            self._emit("charge.dispute.funds_withdrawn", dispute)
        return dispute

    def _balance_transaction(self, dispute_or_charge: Mapping[str, Any], sign: int) -> dict[str, Any]:
        return {
            "id": self.new_id("txn_"),
            "object": "balance_transaction",
            "amount": sign * dispute_or_charge["amount"],
            "currency": dispute_or_charge["currency"],
            "fee": sign * -DISPUTE_FEE_MINOR,
            "reporting_category": "dispute_reversal" if sign > 0 else "dispute",
            "type": "adjustment",
            "created": self.now(),
        }

    def close_dispute(self, dispute_id: str, *, outcome: str) -> dict[str, Any]:
        """Decide a dispute: ``outcome`` is ``"won"`` or ``"lost"`` (an inquiry won closes as ``warning_closed``)."""
        with self._operation():
            if outcome not in OUTCOMES:
                raise invalid_request("outcome must be won or lost.", param="outcome")
            dispute = self._find("dispute", dispute_id, param="dispute")
            if dispute["status"] in CLOSED:
                raise invalid_request(
                    f"This dispute is already closed ({dispute['status']}).", code="dispute_already_closed"
                )
            inquiry = dispute["status"].startswith("warning_")
            previous = {"status": dispute["status"]}
            dispute["status"] = ("warning_closed" if inquiry else "won") if outcome == "won" else "lost"
            if inquiry and outcome == "lost":
                # An inquiry that is lost becomes a chargeback, which withdraws the money now.
                dispute["balance_transactions"].append(self._balance_transaction(dispute, -1))
                self._emit("charge.dispute.funds_withdrawn", dispute)
            self._emit("charge.dispute.closed", dispute, previous_attributes=previous)
            if dispute["status"] == "won":
                dispute["balance_transactions"].append(self._balance_transaction(dispute, 1))
                self._emit("charge.dispute.funds_reinstated", dispute)
            return objects.snapshot(dispute)

    def disputes(self) -> list[dict[str, Any]]:
        """Copies of every dispute, oldest first."""
        return self.all("dispute")


def control(
    emulator: Any, method: str, path: str, body: bytes, authorization: str | None
) -> tuple[int, dict[str, Any]]:
    """The HTTP control endpoints: ``GET /_emulator/disputes`` and ``POST .../<dp_id>/close``.

    They take the same secret key as the API (``Authorization: Bearer sk_test_...``): in a
    mounted demo, visitors of the site must not decide its disputes.
    """
    from .api import _authenticate

    rest = path[len(CONTROL_PREFIX):].strip("/")
    try:
        _authenticate(emulator, authorization)
        if not rest and method == "GET":
            return 200, {"object": "list", "data": emulator.disputes()}
        parts = rest.split("/")
        if len(parts) == 2 and parts[1] == "close" and method == "POST":
            return 200, emulator.close_dispute(parts[0], outcome=_outcome(body))
    except StripeError as exc:
        return exc.status, exc.body()
    return 404, invalid_request(f"Unrecognized request URL ({method}: {path}).", status=404).body()


def _outcome(body: bytes) -> str:
    text = body.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            data = {}
        return str(data.get("outcome", "")) if isinstance(data, dict) else ""
    return dict(urllib.parse.parse_qsl(text)).get("outcome", "")


# -- command line -----------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m django_skillswap_payments.testing.emulator.disputes",
        description="List the disputes of a running Stripe emulator, or close one as won or lost.",
    )
    parser.add_argument("--url", default="http://127.0.0.1:12111", help="the emulator's base URL")
    parser.add_argument(
        "--api-key",
        default=os.environ.get("STRIPE_SECRET_KEY") or "sk_test_emulator",
        help="a secret key the emulator accepts (default: $STRIPE_SECRET_KEY, else sk_test_emulator)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="print every dispute (id, status, reason, amount, charge)")
    close = commands.add_parser("close", help="close a dispute, emitting charge.dispute.closed")
    close.add_argument("dispute_id", help="dp_...")
    close.add_argument("--outcome", choices=OUTCOMES, required=True)
    return parser


def _call(url: str, api_key: str, *, data: bytes | None = None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, data=data, method="POST" if data is not None else "GET",
        headers={"Authorization": f"Bearer {api_key}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    base = args.url.rstrip("/") + CONTROL_PREFIX
    if args.command == "list":
        status, answer = _call(base, args.api_key)
        for dispute in answer.get("data", []):
            print(f"{dispute['id']}  {dispute['status']:<24} {dispute['reason']:<22} "
                  f"{objects.format_amount(dispute['amount'], dispute['currency']):>10}  {dispute['charge']}")
    else:
        status, answer = _call(f"{base}/{args.dispute_id}/close", args.api_key,
                               data=urllib.parse.urlencode({"outcome": args.outcome}).encode())
        if status == 200:
            print(f"{answer['id']} closed: {answer['status']}")
    if status != 200:
        print(answer.get("error", {}).get("message", f"HTTP {status}"), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
