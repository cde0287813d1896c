"""Process recorded Stripe webhook events again.

    manage.py payments_replay_webhooks evt_1 evt_2    # these events (if not yet handled)
    manage.py payments_replay_webhooks --failed       # every event whose processing failed
    manage.py payments_replay_webhooks evt_1 --force  # even if already processed

Events are replayed from the payload stored when the signed delivery was
received. Replaying is safe: payment transitions are conditional, so an
event that already had its effect changes nothing and sends no signal.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ... import repository, webhooks
from ...documents import WEBHOOK_FAILED, WEBHOOK_RECEIVED
from ...errors import WebhookEventNotFound, WebhookProcessingFailed


class Command(BaseCommand):
    help = "Replay recorded Stripe webhook events by event id, or all failed ones with --failed."

    def add_arguments(self, parser):
        parser.add_argument("event_ids", nargs="*", metavar="EVENT_ID", help="Stripe event ids (evt_...)")
        parser.add_argument("--failed", action="store_true", help="replay every event marked failed")
        parser.add_argument(
            "--received",
            action="store_true",
            help="with --failed, also replay events recorded but never finished (e.g. after a crash)",
        )
        parser.add_argument("--force", action="store_true", help="replay events already processed or ignored")
        parser.add_argument("--limit", type=int, default=100, help="at most this many events with --failed")
        parser.add_argument("--dry-run", action="store_true", help="list the events without processing them")

    def handle(self, *args, event_ids, failed, received, force, limit, dry_run, **options):
        if not event_ids and not failed:
            raise CommandError("Give event ids or --failed.")
        if received and not failed:
            raise CommandError("--received only applies together with --failed.")
        targets = list(dict.fromkeys(event_ids))
        if failed:
            statuses = (WEBHOOK_FAILED, WEBHOOK_RECEIVED) if received else (WEBHOOK_FAILED,)
            targets += [
                event.stripe_event_id
                for event in repository.webhook_events(statuses=statuses, limit=limit)
                if event.stripe_event_id not in targets
            ]
        if not targets:
            self.stdout.write("No events to replay.")
            return
        problems = 0
        for event_id in targets:
            if dry_run:
                self.stdout.write(f"{event_id}: would replay")
                continue
            try:
                outcome = webhooks.replay(event_id, force=force)
            except WebhookEventNotFound:
                problems += 1
                self.stderr.write(f"{event_id}: not recorded")
                continue
            except WebhookProcessingFailed as exc:
                problems += 1
                self.stderr.write(f"{event_id}: failed again: {exc.error}")
                continue
            if outcome.duplicate:
                self.stdout.write(f"{event_id}: skipped, already {outcome.status} (use --force)")
            else:
                note = f" ({outcome.note})" if outcome.note else ""
                self.stdout.write(f"{event_id}: {outcome.status}{note}")
        if problems:
            raise CommandError(f"{problems} of {len(targets)} event(s) could not be replayed.")
