"""Pay out tips the platform held for recipients who have since onboarded (Stripe Connect)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from django_skillswap_payments.errors import ConnectNotEnabled
from django_skillswap_payments.services import connect


class Command(BaseCommand):
    help = (
        "Pay each held tip out with a Stripe Transfer once its recipient's account can be paid "
        "(exactly once per tip, also when several runs overlap); record destination payouts "
        "whose webhook was missed; take back the payout of held tips refunded afterwards. "
        "Run it periodically, e.g. from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit", type=int, default=100, help="At most this many tips of each kind per run (default 100)."
        )

    def handle(self, *args, limit, **options):
        try:
            run = connect.pay_out_held_tips(limit=limit)
        except ConnectNotEnabled:
            raise CommandError("Stripe Connect is not enabled (SKILLSWAP_PAYMENTS['CONNECT']['ENABLED']).") from None
        for payment_id in run.paid_out:
            self.stdout.write(f"{payment_id}: paid out")
        for payment_id in run.settled:
            self.stdout.write(f"{payment_id}: destination payout recorded")
        for payment_id in run.reversed:
            self.stdout.write(f"{payment_id}: payout reversed after refund")
        self.stdout.write(
            f"{len(run.paid_out)} paid out, {len(run.waiting)} waiting for their recipient, "
            f"{len(run.busy)} taken by another run, {len(run.failed)} failed"
        )
        for payment_id, error in run.failed:
            self.stderr.write(f"{payment_id}: {error}")
        if run.failed:
            raise CommandError(f"{len(run.failed)} payout(s) failed; they are retried on the next run.")
