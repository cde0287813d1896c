"""What processing a Stripe event amounted to, as handlers report it."""

from __future__ import annotations

from dataclasses import dataclass

from ..documents import WEBHOOK_IGNORED, WEBHOOK_PROCESSED

# Events in these states have had their effect; another delivery must not repeat it.
FINAL_STATUSES = (WEBHOOK_PROCESSED, WEBHOOK_IGNORED)


@dataclass(frozen=True)
class Outcome:
    """What processing an event amounted to: a webhook event status and an optional note."""

    status: str
    note: str | None = None
    duplicate: bool = False


def processed(note: str | None = None) -> Outcome:
    return Outcome(WEBHOOK_PROCESSED, note)


def ignored(note: str) -> Outcome:
    return Outcome(WEBHOOK_IGNORED, note)
