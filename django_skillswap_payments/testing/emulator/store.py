"""The emulator's object store and the plumbing every resource family shares.

:class:`EmulatorStore` owns the account settings, the lock, the clock, id
generation, the request log, idempotency results, failure injection, the
stored objects and event emission.  The resource families (customers,
Checkout Sessions, hosted-page payments, refunds, events) are mixins on top of
it, assembled into :class:`~.state.StripeEmulator`.

Everything that changes state happens inside :meth:`EmulatorStore._operation`,
which holds one re-entrant lock (so concurrent HTTP requests see consistent
objects) and hands the events the operation produced to the webhook dispatcher
only *after* releasing the lock.  That ordering matters: a webhook receiver
commonly calls back into the API (to retrieve the session), and in synchronous
delivery mode it does so on the same thread while the delivery is in progress.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import random
import string
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..webhooks import DEFAULT_API_VERSION
from . import objects
from .delivery import AUTO, WebhookDispatcher
from .errors import resource_missing

_ALPHABET = string.ascii_letters + string.digits

# The name Stripe gives the URL's id in ``resource_missing`` errors.
_URL_PARAM_NAMES = {
    "checkout.session": "session",
    "payment_intent": "intent",
    "charge": "charge",
    "refund": "refund",
    "customer": "id",
    "event": "id",
}

# Bumped when the layout of the state file changes incompatibly.
_STATE_FORMAT = 1


@dataclass
class RecordedRequest:
    """One API request as the emulator saw it; lets tests assert on what the app sent."""

    method: str
    path: str
    params: dict[str, Any]
    status: int
    idempotency_key: str | None
    api_key: str | None
    stripe_version: str | None
    request_id: str
    replayed: bool = False


@dataclass
class InjectedFailure:
    """A canned failure for matching requests (see :meth:`EmulatorStore.inject_failure`)."""

    method: str
    path_prefix: str
    status: int
    error_type: str
    message: str
    code: str | None
    network: bool
    remaining: int

    def matches(self, method: str, path: str) -> bool:
        return (
            self.remaining > 0
            and method.upper() == self.method
            and path.startswith(self.path_prefix)
        )


@dataclass
class IdempotentResult:
    """The stored answer for one idempotency key, replayed on a matching retry."""

    method: str
    path: str
    params: dict[str, Any]
    status: int
    body: bytes
    headers: dict[str, str]
    created: float


class EmulatorStore:
    """Account settings, clock, ids, request log, idempotency, failures, objects and events.

    The constructor's arguments are described on :class:`~.state.StripeEmulator`.
    """

    def __init__(
        self,
        *,
        api_keys: Sequence[str] | None = None,
        public_url: str | None = None,
        clock: Callable[[], float] | None = None,
        seed: int | None = None,
        webhook_delivery: str = AUTO,
        api_version: str = DEFAULT_API_VERSION,
        sleep: Callable[[float], None] = time.sleep,
        state_file: str | os.PathLike[str] | None = None,
    ):
        self.api_keys = frozenset(api_keys) if api_keys else None
        self.public_url = public_url.rstrip("/") if public_url else None
        self.api_version = api_version
        self._clock = clock or time.time
        self._offset = 0.0
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._local = threading.local()
        self._objects: dict[str, dict[str, Any]] = {}
        self._by_type: dict[str, list[str]] = {}
        # Per-object data that Stripe's JSON leaves out (a Checkout Session's
        # line items and hosted-page state), keyed by the object's id.
        self._extras: dict[str, Any] = {}
        self._idempotency: dict[tuple, IdempotentResult] = {}
        self._failures: list[InjectedFailure] = []
        #: Every API request received, oldest first.
        self.requests: list[RecordedRequest] = []
        self.webhooks = WebhookDispatcher(
            mode=webhook_delivery, rng=random.Random(self._rng.random()), sleep=sleep
        )
        self.state_file = Path(state_file) if state_file is not None else None
        self._saved_state: str | None = None
        if self.state_file is not None and self.state_file.exists():
            self._load_state(self.state_file)

    # ------------------------------------------------------------------ time and ids

    def now(self) -> int:
        return int(self._clock() + self._offset)

    def advance_time(self, seconds: float) -> None:
        """Move the emulator's clock forward; open sessions past ``expires_at`` expire (with events)."""
        with self._operation():
            self._offset += seconds

    def new_id(self, prefix: str, length: int = 24) -> str:
        with self._lock:
            return prefix + "".join(self._rng.choice(_ALPHABET) for _ in range(length))

    # ------------------------------------------------------------------ reading state

    def get(self, object_id: str) -> dict[str, Any]:
        """A copy of any stored object (session, payment intent, charge, refund, customer, event)."""
        # Reads run as operations too, so time-driven changes (a session past
        # ``expires_at`` expiring, with its events) happen before anyone looks.
        with self._operation():
            try:
                return objects.snapshot(self._objects[object_id])
            except KeyError:
                raise KeyError(f"no object {object_id!r} in the emulator") from None

    def all(self, object_name: str) -> list[dict[str, Any]]:
        """Copies of every stored object of one type, oldest first (e.g. ``all("checkout.session")``)."""
        with self._operation():
            return [objects.snapshot(self._objects[i]) for i in self._by_type.get(object_name, [])]

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        """Recorded requests for one endpoint, e.g. ``requests_to("POST", "/v1/checkout/sessions")``."""
        return [r for r in list(self.requests) if r.method == method.upper() and r.path == path]

    # ------------------------------------------------------------------ fault injection

    def inject_failure(
        self,
        method: str,
        path_prefix: str,
        *,
        status: int = 500,
        error_type: str = "api_error",
        message: str = "An unknown error occurred",
        code: str | None = None,
        network: bool = False,
        times: int = 1,
    ) -> InjectedFailure:
        """Make the next ``times`` matching API requests fail.

        With ``network=True`` the in-process client raises
        ``stripe.APIConnectionError`` instead of answering (a lost connection);
        over HTTP the request gets a 503 with ``Stripe-Should-Retry: true``.
        Note that stripe-python retries 409/5xx and connection errors up to
        ``max_network_retries`` times, and each retry consumes one failure.
        """
        failure = InjectedFailure(
            method.upper(), path_prefix, status, error_type, message, code, network, times
        )
        with self._lock:
            self._failures.append(failure)
        return failure

    def take_failure(self, method: str, path: str) -> InjectedFailure | None:
        with self._lock:
            for failure in self._failures:
                if failure.matches(method, path):
                    failure.remaining -= 1
                    return failure
        return None

    # ------------------------------------------------------------------ idempotency

    def idempotent_result(self, api_key: str, key: str) -> IdempotentResult | None:
        with self._lock:
            result = self._idempotency.get((api_key, key))
            # Stripe prunes keys after 24 hours; a pruned key starts afresh.
            if result is not None and self.now() - result.created > 24 * 3600:
                del self._idempotency[(api_key, key)]
                return None
            return result

    def store_idempotent_result(self, api_key: str, key: str, result: IdempotentResult) -> None:
        with self._lock:
            self._idempotency.setdefault((api_key, key), result)

    # ------------------------------------------------------------------ operation plumbing

    @contextmanager
    def _operation(
        self, *, request_id: str | None = None, idempotency_key: str | None = None
    ) -> Iterator[None]:
        """Serialise a state change and deliver its events once the lock is released."""
        outermost = not getattr(self._local, "active", False)
        if outermost:
            self._local.active = True
            self._local.events = []
            self._local.request = (request_id, idempotency_key)
        try:
            with self._lock:
                self._on_operation_start()
                try:
                    yield
                finally:
                    if outermost:
                        self._save_state()
        finally:
            if outermost:
                events = self._local.events
                self._local.active = False
                self._local.events = []
                self._local.request = (None, None)
                if events:
                    self.webhooks.enqueue(events)

    def operation(self, *, request_id: str | None = None, idempotency_key: str | None = None):
        """Public form of the operation context, used by the API layer to scope one request."""
        return self._operation(request_id=request_id, idempotency_key=idempotency_key)

    def _on_operation_start(self) -> None:
        """Bring time-driven state up to date; families with such state extend this."""

    # Connect hooks of the charge and refund families, filled in by :mod:`.transfers`.
    def _check_destination(self, intent_data: Mapping[str, Any], amount: int) -> None: ...

    def _settle_destination(self, intent: dict[str, Any], charge: dict[str, Any], intent_data: Mapping[str, Any]) -> None: ...

    def _after_refund(self, charge: dict[str, Any], refund: dict[str, Any], params: Mapping[str, Any]) -> None: ...

    # ------------------------------------------------------------------ persistence

    def _save_state(self) -> None:
        """Write the account to ``state_file`` if an operation changed it.

        Called at the end of every outermost operation, inside the lock.  The
        whole account is serialised and compared with what was last written, so
        no mutation can be missed and reads cost no disk write.  The file is
        replaced atomically: a crash leaves the previous state, never half of one.
        """
        if self.state_file is None:
            return
        state = self._state_snapshot()
        compared = json.dumps(state, sort_keys=True)
        if compared == self._saved_state:
            return
        # Every request draws a request id, so the generator's state alone is no
        # reason to write; it is saved with the next change, before any new object id.
        state["rng"] = _encode_rng(self._rng.getstate())
        text = json.dumps(state, sort_keys=True)
        directory = self.state_file.parent
        directory.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=f".{self.state_file.name}.", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, self.state_file)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        self._saved_state = compared

    def _state_snapshot(self) -> dict[str, Any]:
        return {
            "format": _STATE_FORMAT,
            "clock_offset": self._offset,
            "objects": self._objects,
            "by_type": self._by_type,
            "extras": {key: _encode_extras(value) for key, value in self._extras.items()},
            "idempotency": [
                {"api_key": api_key, "key": key, **_encode_result(result)}
                for (api_key, key), result in self._idempotency.items()
            ],
        }

    def _load_state(self, path: Path) -> None:
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
            if state.get("format") != _STATE_FORMAT:
                raise ValueError(f"unknown format {state.get('format')!r}")
            self._offset = float(state["clock_offset"])
            self._objects = state["objects"]
            self._by_type = state["by_type"]
            self._extras = {key: _decode_extras(value) for key, value in state["extras"].items()}
            self._idempotency = {
                (item["api_key"], item["key"]): _decode_result(item)
                for item in state["idempotency"]
            }
            # A seeded emulator must not hand out the ids of stored objects a second time.
            self._rng.setstate(_decode_rng(state["rng"]))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(
                f"cannot load the Stripe emulator's state from {path}: {exc}. "
                "Delete the file to start with an empty account."
            ) from exc
        self._saved_state = json.dumps(self._state_snapshot(), sort_keys=True)

    # ------------------------------------------------------------------ objects and events

    def _emit(
        self,
        type: str,
        obj: Mapping[str, Any],
        *,
        previous_attributes: Mapping[str, Any] | None = None,
        account: str | None = None,
    ) -> None:
        """Store and queue an event; ``account`` names the connected account it happened on."""
        request_id, idempotency_key = getattr(self._local, "request", (None, None))
        event = objects.event(
            id=self.new_id("evt_"),
            created=self.now(),
            type=type,
            data_object=obj,
            api_version=self.api_version,
            pending_webhooks=self.webhooks.listeners(type),
            request_id=request_id,
            idempotency_key=idempotency_key,
            previous_attributes=previous_attributes,
        )
        if account is not None:
            event["account"] = account
        self._store(event)
        self._local.events.append(event)

    def _store(self, obj: dict[str, Any]) -> dict[str, Any]:
        self._objects[obj["id"]] = obj
        self._by_type.setdefault(obj["object"], []).append(obj["id"])
        return obj

    def _find(
        self, object_name: str, object_id: str, *, param: str | None = None, status: int = 404
    ) -> dict[str, Any]:
        obj = self._objects.get(object_id)
        if obj is None or obj["object"] != object_name:
            raise resource_missing(
                object_name,
                object_id,
                param=param or _URL_PARAM_NAMES.get(object_name, "id"),
                status=status,
            )
        return obj

    def lookup(self, object_id: str) -> dict[str, Any] | None:
        """The stored object for an id, or ``None`` (used for ``expand``)."""
        return self._objects.get(object_id)

    def newest_first(self, object_name: str) -> list[dict[str, Any]]:
        return [self._objects[i] for i in reversed(self._by_type.get(object_name, []))]

    def retrieve(self, object_name: str, object_id: str) -> dict[str, Any]:
        with self._operation():
            return self._find(object_name, object_id)


def filter_created(items: list[dict[str, Any]], created: Any) -> list[dict[str, Any]]:
    """Apply Stripe's ``created`` filter: an exact timestamp or ``{gt, gte, lt, lte}``."""
    if created is None:
        return items
    if isinstance(created, int):
        return [i for i in items if i["created"] == created]
    checks = {
        "gt": lambda v, bound: v > bound,
        "gte": lambda v, bound: v >= bound,
        "lt": lambda v, bound: v < bound,
        "lte": lambda v, bound: v <= bound,
    }
    return [
        i
        for i in items
        if all(checks[op](i["created"], bound) for op, bound in created.items() if op in checks)
    ]


# ---------------------------------------------------------------------- state file encoding


def _encode_extras(value: Any) -> dict[str, Any]:
    # The store keeps per-object data for the resource families without knowing
    # their types; each is a dataclass of plain JSON values, named by its class.
    cls = type(value)
    return {"type": f"{cls.__module__}:{cls.__qualname__}", "fields": dataclasses.asdict(value)}


def _decode_extras(data: Mapping[str, Any]) -> Any:
    module_name, _, class_name = data["type"].partition(":")
    # Only the emulator's own dataclasses: the file never chooses arbitrary code to run.
    if module_name.rpartition(".")[0] != __package__:
        raise ValueError(f"unexpected extras type {data['type']!r}")
    cls = getattr(importlib.import_module(module_name), class_name)
    if not dataclasses.is_dataclass(cls):
        raise ValueError(f"unexpected extras type {data['type']!r}")
    return cls(**data["fields"])


def _encode_result(result: IdempotentResult) -> dict[str, Any]:
    fields = dataclasses.asdict(result)
    fields["body"] = result.body.decode("utf-8")
    return fields


def _decode_result(data: Mapping[str, Any]) -> IdempotentResult:
    fields = {f.name: data[f.name] for f in dataclasses.fields(IdempotentResult)}
    fields["body"] = fields["body"].encode("utf-8")
    return IdempotentResult(**fields)


def _encode_rng(state: tuple) -> list[Any]:
    version, internal, gauss = state
    return [version, list(internal), gauss]


def _decode_rng(data: list[Any]) -> tuple:
    version, internal, gauss = data
    return (version, tuple(internal), gauss)
