"""Webhook delivery: signed POSTs to registered endpoints, with retries and fault modes.

Real Stripe delivers each event at least once, in no guaranteed order, late,
and retries any endpoint that does not answer 2xx.  An app is only correct if
it copes with all of that, so besides plain delivery the dispatcher can:

* deliver every event ``repeat`` times (duplicates);
* ``shuffle`` the deliveries of a batch (reordering);
* wait ``delay`` seconds before delivering a batch (lateness);
* ``drop`` events by type or id (loss -- the app must recover another way);
* ``hold`` deliveries until :meth:`WebhookDispatcher.flush` (full control in tests).

A *batch* is the set of events one operation produced (e.g. a successful
payment emits ``charge.succeeded``, ``payment_intent.succeeded`` and
``checkout.session.completed`` together); with ``hold`` it is everything held.

Delivery runs either synchronously in the thread that caused the events
(deterministic, for in-process tests) or on a background thread (like Stripe,
used by the HTTP server).
"""

from __future__ import annotations

import dataclasses
import json
import queue
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..webhooks import post_signed, signed_headers

SYNC = "sync"
BACKGROUND = "background"
AUTO = "auto"

WebhookTarget = str | Callable[[bytes, Mapping[str, str]], Any]


@dataclass
class WebhookEndpoint:
    """A registered destination: a URL or a callable ``(payload, headers) -> status or response``."""

    id: str
    target: WebhookTarget
    secret: str
    enabled_events: tuple[str, ...] = ("*",)

    @property
    def url(self) -> str:
        return self.target if isinstance(self.target, str) else repr(self.target)

    def accepts(self, event_type: str) -> bool:
        for pattern in self.enabled_events:
            if pattern == "*" or pattern == event_type:
                return True
            if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
                return True
        return False


@dataclass(frozen=True)
class DeliveryOptions:
    """How events reach endpoints; change with :meth:`WebhookDispatcher.configure`."""

    repeat: int = 1
    shuffle: bool = False
    delay: float = 0.0
    #: Event types or event ids never delivered.
    drop: frozenset = frozenset()
    hold: bool = False
    #: Total tries per delivery, the first one included.
    max_attempts: int = 3
    #: Wait before the first retry; doubled for each further retry.
    backoff: float = 0.05
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.repeat < 1:
            raise ValueError("repeat must be at least 1")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.delay < 0 or self.backoff < 0:
            raise ValueError("delay and backoff cannot be negative")
        object.__setattr__(self, "drop", frozenset(self.drop))


@dataclass(frozen=True)
class DeliveryAttempt:
    """One POST of one event to one endpoint."""

    event_id: str
    event_type: str
    endpoint_id: str
    url: str
    attempt: int
    status: int | None
    error: str | None
    at: float

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class _Delivery:
    endpoint: WebhookEndpoint
    event: dict[str, Any]


@dataclass
class _Batch:
    deliveries: list[_Delivery] = field(default_factory=list)
    delay: float = 0.0


class WebhookDispatcher:
    """Delivers emulator events to registered endpoints.

    ``mode`` is ``"sync"``, ``"background"`` or ``"auto"`` (synchronous until
    an :class:`~.server.EmulatorServer` starts serving the emulator, then
    background, as with real Stripe).
    """

    def __init__(
        self,
        *,
        mode: str = AUTO,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
        id_factory: Callable[[], str] | None = None,
    ):
        if mode not in (SYNC, BACKGROUND, AUTO):
            raise ValueError(f"unknown delivery mode {mode!r}")
        self.mode = mode
        self.options = DeliveryOptions()
        self.endpoints: list[WebhookEndpoint] = []
        self.attempts: list[DeliveryAttempt] = []
        #: Ids of events that were not delivered because of ``drop``.
        self.dropped: list[str] = []
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._id_factory = id_factory or (lambda: f"we_{self._rng.getrandbits(96):024x}")
        self._held: list[_Batch] = []
        self._lock = threading.RLock()
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        self._queue: queue.Queue[_Batch | None] = queue.Queue()
        self._worker: threading.Thread | None = None

    # ------------------------------------------------------------------ configuration

    def add_endpoint(
        self, target: WebhookTarget, secret: str, *, enabled_events: Sequence[str] = ("*",)
    ) -> WebhookEndpoint:
        """Register a URL or callable; events are signed with ``secret``."""
        if not secret:
            raise ValueError("a webhook endpoint needs a signing secret")
        endpoint = WebhookEndpoint(self._id_factory(), target, secret, tuple(enabled_events))
        with self._lock:
            self.endpoints.append(endpoint)
        return endpoint

    def remove_endpoint(self, endpoint: WebhookEndpoint) -> None:
        with self._lock:
            self.endpoints.remove(endpoint)

    def configure(self, **changes: Any) -> DeliveryOptions:
        """Change delivery options, e.g. ``configure(repeat=2, shuffle=True)``; returns the new options."""
        with self._lock:
            self.options = dataclasses.replace(self.options, **changes)
            return self.options

    def reset(self) -> None:
        """Back to plain delivery: default options, nothing held."""
        with self._lock:
            self.options = DeliveryOptions()
            self._held.clear()

    @property
    def background(self) -> bool:
        return self.mode == BACKGROUND

    def serve_in_background(self) -> None:
        """Switch ``auto`` mode to background delivery (called when a server starts)."""
        if self.mode == AUTO:
            self.mode = BACKGROUND

    # ------------------------------------------------------------------ delivery

    def listeners(self, event_type: str) -> int:
        with self._lock:
            return sum(1 for endpoint in self.endpoints if endpoint.accepts(event_type))

    def enqueue(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Deliver ``events`` (one batch) according to the current options."""
        with self._lock:
            options = self.options
            batch = _Batch(delay=options.delay)
            for event in events:
                if event["type"] in options.drop or event["id"] in options.drop:
                    self.dropped.append(event["id"])
                    continue
                for endpoint in self.endpoints:
                    if endpoint.accepts(event["type"]):
                        batch.deliveries.extend(
                            _Delivery(endpoint, dict(event)) for _ in range(options.repeat)
                        )
            if not batch.deliveries:
                return
            if options.hold:
                self._held.append(batch)
                return
            if options.shuffle:
                self._rng.shuffle(batch.deliveries)
        self._run(batch)

    def resend(self, event: Mapping[str, Any]) -> None:
        """Deliver ``event`` again to every endpoint that accepts it (ignores ``drop`` and ``hold``)."""
        with self._lock:
            batch = _Batch(
                deliveries=[
                    _Delivery(e, dict(event)) for e in self.endpoints if e.accepts(event["type"])
                ]
            )
        if batch.deliveries:
            self._run(batch)

    def flush(self) -> int:
        """Release held deliveries as one batch (shuffled if ``shuffle``); returns how many."""
        with self._lock:
            deliveries = [d for batch in self._held for d in batch.deliveries]
            delay = max((batch.delay for batch in self._held), default=0.0)
            self._held.clear()
            if self.options.shuffle:
                self._rng.shuffle(deliveries)
        if deliveries:
            self._run(_Batch(deliveries, delay))
        return len(deliveries)

    @property
    def held(self) -> int:
        with self._lock:
            return sum(len(batch.deliveries) for batch in self._held)

    def wait_until_idle(self, timeout: float = 10.0) -> bool:
        """Block until no delivery is queued or running; ``False`` on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def delivered(self, event_type: str | None = None) -> list[DeliveryAttempt]:
        """Successful attempts, optionally for one event type."""
        with self._lock:
            return [
                a
                for a in self.attempts
                if a.ok and (event_type is None or a.event_type == event_type)
            ]

    def stop(self) -> None:
        """Stop the background worker after it finishes queued batches."""
        worker = self._worker
        if worker is not None:
            self._queue.put(None)
            worker.join(timeout=30)
            self._worker = None

    # ------------------------------------------------------------------ internals

    def _run(self, batch: _Batch) -> None:
        with self._lock:
            self._in_flight += 1
            background = self.mode == BACKGROUND
            if background and self._worker is None:
                self._worker = threading.Thread(
                    target=self._work, name="stripe-emulator-webhooks", daemon=True
                )
                self._worker.start()
        if background:
            self._queue.put(batch)
        else:
            self._deliver_batch(batch)

    def _work(self) -> None:
        while True:
            batch = self._queue.get()
            if batch is None:
                return
            self._deliver_batch(batch)

    def _deliver_batch(self, batch: _Batch) -> None:
        try:
            if batch.delay:
                self._sleep(batch.delay)
            for delivery in batch.deliveries:
                self._deliver(delivery)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def _deliver(self, delivery: _Delivery) -> None:
        options = self.options
        payload = json.dumps(delivery.event, indent=2).encode("utf-8")
        for attempt in range(1, options.max_attempts + 1):
            # Each attempt is signed afresh, as Stripe does, so a retry never
            # carries a stale timestamp that the receiver's tolerance rejects.
            headers = signed_headers(payload, delivery.endpoint.secret)
            status, error = self._post(delivery.endpoint, payload, headers, options.timeout)
            record = DeliveryAttempt(
                event_id=delivery.event["id"],
                event_type=delivery.event["type"],
                endpoint_id=delivery.endpoint.id,
                url=delivery.endpoint.url,
                attempt=attempt,
                status=status,
                error=error,
                at=time.time(),
            )
            with self._lock:
                self.attempts.append(record)
            if record.ok:
                return
            if attempt < options.max_attempts:
                self._sleep(options.backoff * (2 ** (attempt - 1)))

    @staticmethod
    def _post(
        endpoint: WebhookEndpoint, payload: bytes, headers: Mapping[str, str], timeout: float
    ) -> tuple[int | None, str | None]:
        try:
            if isinstance(endpoint.target, str):
                result: Any = post_signed(endpoint.target, payload, headers, timeout=timeout)
            else:
                result = endpoint.target(payload, headers)
        except Exception as exc:  # noqa: BLE001 - any failure of the receiver is a failed delivery
            return None, f"{type(exc).__name__}: {exc}"
        status = (
            result
            if isinstance(result, int)
            else getattr(result, "status_code", getattr(result, "status", None))
        )
        if not isinstance(status, int):
            return None, f"endpoint returned {result!r}, not a status"
        return status, None if 200 <= status < 300 else f"HTTP {status}"
