"""Events: reading and listing the events operations emitted, and where webhooks go."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .store import EmulatorStore, filter_created


class Events(EmulatorStore):
    """``GET /v1/events`` and its filters, :meth:`events` for tests, webhook endpoints."""

    def add_webhook_endpoint(
        self, target: Any, secret: str, *, enabled_events: Sequence[str] = ("*",)
    ):
        """Register a webhook URL or callable; shorthand for ``emulator.webhooks.add_endpoint``."""
        return self.webhooks.add_endpoint(target, secret, enabled_events=enabled_events)

    def events(self, type: str | None = None) -> list[dict[str, Any]]:
        """Copies of emitted events, oldest first, optionally of one type."""
        return [e for e in self.all("event") if type is None or e["type"] == type]

    def list_events(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        with self._operation():
            events = self.newest_first("event")
            wanted = [params["type"]] if "type" in params else list(params.get("types") or [])
            if wanted:
                events = [
                    e
                    for e in events
                    if any(_type_matches(pattern, e["type"]) for pattern in wanted)
                ]
            return filter_created(events, params.get("created"))


def _type_matches(pattern: str, event_type: str) -> bool:
    # ``type=charge.*`` is a documented wildcard filter.
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type
