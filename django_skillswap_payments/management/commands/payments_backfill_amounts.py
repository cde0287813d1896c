"""Give payments written by the legacy gateway exact minor-unit amounts."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from django_skillswap_payments import repository


class Command(BaseCommand):
    help = (
        "Add amount_minor (and a Decimal128 amount) to payments that only have the legacy "
        "system's float amount. Safe to run repeatedly."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Report only; change nothing.")
        parser.add_argument("--limit", type=int, default=None, help="At most this many payments.")

    def handle(self, *args, dry_run, limit, **options):
        report = repository.backfill_minor_units(dry_run=dry_run, limit=limit)
        verb = "would update" if dry_run else "updated"
        self.stdout.write(f"{verb} {len(report.updated)} payment(s)")
        for payment_id, reason in report.skipped:
            self.stderr.write(f"{payment_id}: left unchanged: {reason}")
        if report.skipped:
            raise CommandError(
                f"{len(report.skipped)} payment(s) have an amount that is not an exact positive "
                "number; fix them by hand and run the command again."
            )
