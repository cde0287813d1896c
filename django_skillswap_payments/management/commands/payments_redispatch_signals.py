"""Send payment signals again after a receiver failed."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from django_skillswap_payments import repository, signals
from django_skillswap_payments.errors import PaymentNotFound
from django_skillswap_payments.repository import disputes as dispute_store


class Command(BaseCommand):
    help = (
        "Re-send the signal matching each payment's current status. Pass payment ids, or "
        "--failed for every payment with a receiver failure not yet re-dispatched successfully."
    )

    def add_arguments(self, parser):
        parser.add_argument("payment_ids", nargs="*", help="Payment ids (24-hex ObjectIds).")
        parser.add_argument(
            "--failed",
            action="store_true",
            help="Re-dispatch every payment flagged after a receiver failure.",
        )
        parser.add_argument(
            "--limit",
            type=int,
            default=100,
            help="With --failed, at most this many payments (default 100).",
        )
        parser.add_argument(
            "--settled-seconds",
            type=int,
            default=60,
            help=(
                "With --failed, skip payments changed in the last N seconds, whose first "
                "dispatch may still be running (default 60)."
            ),
        )

    def handle(self, *args, payment_ids, failed, limit, settled_seconds, **options):
        if not payment_ids and not failed:
            raise CommandError("Give payment ids or --failed.")
        targets = list(payment_ids)
        if failed:
            targets += [
                str(payment.id) for payment in repository.payments_needing_signal_retry(
                    limit, settled_seconds=settled_seconds
                )
            ]
        still_failing = 0
        for payment_id in dict.fromkeys(targets):
            try:
                responses = signals.redispatch(payment_id)
            except PaymentNotFound:
                self.stderr.write(f"{payment_id}: payment not found")
                still_failing += 1
                continue
            errors = [response for _, response in responses if isinstance(response, Exception)]
            if errors:
                still_failing += 1
                self.stdout.write(f"{payment_id}: {len(errors)} receiver(s) failed again")
            else:
                self.stdout.write(f"{payment_id}: dispatched to {len(responses)} receiver(s)")
        still_failing += self._dispute_signals(payment_ids, failed, limit, settled_seconds)
        if still_failing:
            raise CommandError(
                f"{still_failing} payment(s) still have failing receivers or were not found."
            )

    def _dispute_signals(self, payment_ids, failed, limit, settled_seconds) -> int:
        """Dispute signals (disputes) not yet delivered to every receiver; returns how many payments still fail."""
        targets = list(payment_ids)
        if failed:
            targets += [
                str(payment.id) for payment in dispute_store.payments_with_pending_dispute_signals(
                    limit, settled_seconds=settled_seconds
                )
            ]
        still_failing = 0
        for payment_id in dict.fromkeys(targets):
            try:
                responses = signals.redispatch_disputes(payment_id)
            except PaymentNotFound:
                continue  # reported above
            if not responses:
                continue
            errors = [response for _, response in responses if isinstance(response, Exception)]
            if errors:
                still_failing += 1
                self.stdout.write(f"{payment_id}: {len(errors)} dispute signal receiver(s) failed again")
            else:
                self.stdout.write(f"{payment_id}: dispute signals dispatched to {len(responses)} receiver(s)")
        return still_failing
