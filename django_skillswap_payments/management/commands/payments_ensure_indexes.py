"""Create the MongoDB indexes the payments documents rely on."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from django_skillswap_payments import repository


class Command(BaseCommand):
    help = "Create the payments MongoDB indexes (unique session/intent/event ids, query indexes). Safe to re-run."

    def handle(self, *args, **options):
        for collection, names in repository.ensure_indexes().items():
            self.stdout.write(f"{collection}: {', '.join(names)}")
        self.stdout.write(self.style.SUCCESS("Indexes are in place."))
