"""Counting the MongoDB commands an operation sends, like Django's ``assertNumQueries``.

A :class:`CommandLog` is registered with pymongo before the test session
connects, so it sees every command of every client the app uses. Connection
chatter (handshakes, heartbeats, session cleanup) is not counted.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from pymongo import monitoring

# Commands the driver sends on its own, whatever the app does.
DRIVER_COMMANDS = frozenset(
    {"hello", "ismaster", "isMaster", "ping", "endSessions", "buildinfo", "buildInfo",
     "saslStart", "saslContinue", "getnonce", "killCursors"}
)


class CommandLog(monitoring.CommandListener):
    """Records the commands started while recording is on, as ``(name, collection, command)``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._recording = 0
        self.commands: list[tuple[str, Any, dict[str, Any]]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if not self._recording or event.command_name in DRIVER_COMMANDS:
            return
        with self._lock:
            self.commands.append(
                (event.command_name, event.command.get(event.command_name), dict(event.command))
            )

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[tuple[str, Any, dict[str, Any]]]]:
        with self._lock:
            self._recording += 1
            start = len(self.commands)
        seen: list[tuple[str, Any, dict[str, Any]]] = []
        try:
            yield seen
        finally:
            with self._lock:
                seen.extend(self.commands[start:])
                self._recording -= 1
                if not self._recording:
                    self.commands.clear()


command_log = CommandLog()
monitoring.register(command_log)


def describe(commands: list[tuple[str, Any, dict[str, Any]]]) -> str:
    return "\n".join(f"  {name} {collection}" for name, collection, _ in commands) or "  (none)"


@contextlib.contextmanager
def assert_mongo_commands(expected: int) -> Iterator[list[tuple[str, Any, dict[str, Any]]]]:
    """Fail unless the block sends exactly ``expected`` MongoDB commands (names listed on failure)."""
    with command_log.recording() as seen:
        yield seen
    assert len(seen) == expected, f"{len(seen)} MongoDB commands, expected {expected}:\n{describe(seen)}"
