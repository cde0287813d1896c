"""Create the MongoDB indexes the payments documents rely on."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from django_skillswap_payments import repository


class Command(BaseCommand):
    help = (
        "Create the payments MongoDB indexes (unique session/intent/event ids, query indexes). "
        "Safe to re-run. Indexes no longer declared are listed, and dropped only with --drop-obsolete."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--drop-obsolete",
            action="store_true",
            help=(
                "Also drop indexes of the payments collections that this release no longer "
                "declares (once no server of an older release runs)."
            ),
        )

    def handle(self, *args, drop_obsolete, **options):
        report = repository.build_indexes(drop_obsolete=drop_obsolete)
        repository.adopt_premium_holders()
        for collection, names in report.present.items():
            self.stdout.write(f"{collection}: {', '.join(names)}")
        for collection, names in report.dropped.items():
            self.stdout.write(f"{collection}: dropped obsolete {', '.join(names)}")
        for collection, names in report.obsolete.items():
            self.stdout.write(self.style.WARNING(
                f"{collection}: {', '.join(names)} no longer used by this release; "
                "drop with --drop-obsolete once no older server runs"
            ))
        self.stdout.write(self.style.SUCCESS("Indexes are in place."))
