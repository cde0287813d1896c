"""Fuzz the payments API with schemathesis, against its own OpenAPI schema.

Run through ``scripts/fuzz`` (which installs schemathesis into .venv), or
directly::

    python -m tests.fuzz.run_fuzz --max-examples 100 --max-time 600 --seed 1

Everything happens in this process and on 127.0.0.1: a local MongoDB wire
server (or ``MONGODB_URI``), Django's WSGI app called in-process, and the
testing toolkit's Stripe emulator in place of Stripe.  Two users exist:
``alice`` sends every request (HTTP Basic) and ``bob`` is a valid tip
recipient, so generated tips can get past the recipient lookup; some
checkouts are given allowed redirect URLs for the same reason.  Half of the
generated webhook deliveries are correctly signed, and half of their bodies
are events of a handled type about the seeded payments, so the handlers
themselves get fuzzed, not only the signature check.

Checks on every response:

* ``not_a_server_error``: bad input never gets a 5xx;
* ``response_schema_conformance`` and ``content_type_conformance``: the
  schema tells the truth about the answers;
* ``stored_data_unchanged_on_4xx`` (ours): a request answered 4xx left every
  MongoDB collection exactly as it was.

The exit status is 1 when any check failed (or the run errored), 0 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

SCHEMA_PATH = "/api/payments/schema/"
TIP_CREATE_PATH = "/api/payments/tip/create/"
WEBHOOK_PATH = "/api/payments/webhook/"
PREMIUM_PATH = "/api/payments/premium/create-checkout/"
# schemathesis calls the app as http://localhost, a host the redirect check allows by default.
SUCCESS_URL = "http://localhost/payments/success?session_id={CHECKOUT_SESSION_ID}"
CANCEL_URL = "http://localhost/payments/cancel"
WEBHOOK_SECRET = "whsec_test_emulator"
# A Stripe-Signature value the WSGI wrapper replaces with a valid signature of the exact body.
SIGN_ME = "fuzz-sign-this-body"
PASSWORD = "fuzz-password"
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "response_schema_conformance",
    "content_type_conformance",
]
STORED_DATA_CHECK = "stored_data_unchanged_on_4xx"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--max-examples", type=int, default=100,
                        help="generated examples per operation and phase (default 100)")
    parser.add_argument("--max-time", type=float, default=600, help="stop generating after this many seconds (default 600)")
    parser.add_argument("--seed", type=int, default=1, help="Hypothesis seed; the same seed replays the same run (default 1)")
    parser.add_argument("--phases", default="examples,coverage,fuzzing",
                        help="schemathesis phases, comma-separated (default examples,coverage,fuzzing)")
    parser.add_argument("--show", type=int, default=3, help="failures shown in full per operation and check (default 3)")
    return parser.parse_args(argv)


# -- environment -----------------------------------------------------------------


@contextlib.contextmanager
def mongodb_uri() -> Iterator[str]:
    configured = os.environ.get("MONGODB_URI")
    if configured:
        yield configured
        return
    from django_skillswap_payments.testing.mongo import LocalMongoServer

    with LocalMongoServer() as server:
        assert server.uri is not None
        yield server.uri


@contextlib.contextmanager
def app_environment(uri: str, sqlite_path: str) -> Iterator[dict[str, Any]]:
    """Django, MongoDB and the Stripe emulator wired together; yields the fixtures of the run."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.fuzz.settings"
    os.environ["SKILLSWAP_FUZZ_SQLITE"] = sqlite_path
    import django

    django.setup()
    import mongoengine
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from pymongo import MongoClient

    from django_skillswap_payments import repository, users
    from django_skillswap_payments.testing.emulator import StripeEmulator, activate
    from django_skillswap_payments.testing.mongo import with_database

    call_command("migrate", verbosity=0, interactive=False)
    name = f"skillswap_payments_fuzz_{uuid.uuid4().hex[:8]}"
    mongoengine.connect(alias="default", host=with_database(uri, name), tz_aware=True, uuidRepresentation="standard")
    repository.ensure_indexes()
    client: MongoClient = MongoClient(uri)
    emulator = StripeEmulator(webhook_delivery="sync")
    activate(emulator)
    try:
        user_model = get_user_model()
        alice = user_model.objects.create_user("alice", password=PASSWORD)
        bob = user_model.objects.create_user("bob", password=PASSWORD)
        # Both profiles exist up front: alice's first request must not be what creates hers,
        # and bob's id is the recipient generated tips are pointed at.
        users.resolve_profile(alice, create=True)
        bob_profile = users.resolve_profile(bob, create=True)
        known = seed_history(alice_profile=users.resolve_profile(alice), bob_profile=bob_profile)
        yield {"database": client[name], "recipient_id": str(bob_profile.id), "known": known}
    finally:
        activate(None)
        emulator.webhooks.stop()
        client.drop_database(name)
        client.close()
        mongoengine.disconnect(alias="default")


def seed_history(*, alice_profile: Any, bob_profile: Any) -> dict[str, list[str]]:
    """A few payments of every kind, so the history endpoints answer with real items.

    Returns the identifiers generated webhook events may refer to.
    """
    from django_skillswap_payments.testing.factories import PaymentFactory

    # alice (who sends the requests) has no premium yet, so her premium checkouts can succeed.
    payments = [
        PaymentFactory(sender=bob_profile, completed=True),
        PaymentFactory(sender=alice_profile, recipient=bob_profile, tip=True, completed=True, message="thanks!"),
        PaymentFactory(sender=bob_profile, recipient=alice_profile, tip=True, completed=True, message=""),
        PaymentFactory(sender=bob_profile, recipient=alice_profile, tip=True),
        PaymentFactory(sender=alice_profile, recipient=bob_profile, tip=True, status="failed",
                       failure_reason="Card declined"),
        PaymentFactory(sender=alice_profile, failed=True),
    ]
    return {
        "payment_ids": [str(payment.id) for payment in payments],
        "session_ids": [payment.stripe_session_id for payment in payments],
        "intent_ids": [payment.stripe_payment_intent_id for payment in payments if payment.stripe_payment_intent_id],
        "profile_ids": [str(alice_profile.id), str(bob_profile.id)],
    }


def signing_wsgi(app: Any, secret: str) -> Any:
    """Wrap ``app``: a webhook delivery whose signature is ``SIGN_ME`` gets a valid one for its body."""
    import hmac
    import io

    def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("HTTP_STRIPE_SIGNATURE") == SIGN_ME:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length > 0 else b""
            environ["wsgi.input"] = io.BytesIO(body)
            # Stripe's scheme over the raw bytes (the toolkit's helper wants text; fuzzed bodies may not be).
            timestamp = int(time.time())
            digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
            environ["HTTP_STRIPE_SIGNATURE"] = f"t={timestamp},v1={digest}"
        return app(environ, start_response)

    return wrapped


def event_strategy(known: dict[str, list[str]]) -> Any:
    """Stripe events of the handled types, about the seeded payments, with arbitrary field values."""
    from hypothesis import strategies as st

    from django_skillswap_payments.webhooks import HANDLERS

    # Any code point, with the ones storage trips over (NUL, lone surrogates, "." and "$") made common.
    awkward = st.sampled_from(["\x00", "\ud800", "\udfff", ".", "$"])
    text = st.text(st.one_of(st.characters(exclude_categories=()), awkward), max_size=12)
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), text)
    anything = st.recursive(
        scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3), max_leaves=6
    )

    def one_of_or_anything(*values: Any) -> Any:
        return st.one_of(st.sampled_from(values), anything) if values else anything

    payment_id = one_of_or_anything(*known["payment_ids"])
    stripe_object = st.fixed_dictionaries({}, optional={
        "id": one_of_or_anything(*known["session_ids"], *known["intent_ids"], "sub_fuzz", "ch_fuzz"),
        "object": one_of_or_anything("checkout.session", "payment_intent", "charge", "subscription"),
        "mode": one_of_or_anything("payment", "subscription"),
        "payment_status": one_of_or_anything("paid", "unpaid"),
        "status": one_of_or_anything("complete", "active", "canceled", "succeeded"),
        "amount_total": one_of_or_anything(999, 500, 0, -1, 10**30),
        "amount": one_of_or_anything(999, 500),
        "amount_received": one_of_or_anything(999, 500),
        "currency": one_of_or_anything("usd", "eur", "USD"),
        "payment_intent": one_of_or_anything(*known["intent_ids"], {"id": "pi_fuzz"}),
        "client_reference_id": payment_id,
        "customer": one_of_or_anything("cus_fuzz"),
        "metadata": st.one_of(
            st.fixed_dictionaries({}, optional={"payment_id": payment_id, "type": one_of_or_anything("premium", "tip"),
                                                "user_id": one_of_or_anything(*known["profile_ids"])}),
            anything,
        ),
        "refunded": one_of_or_anything(True, False),
        "refunds": one_of_or_anything({"data": [{"id": "re_fuzz"}]}, {"data": ["re_fuzz"]}),
        "last_payment_error": one_of_or_anything({"message": "Card declined"}),
        "current_period_start": one_of_or_anything(1_700_000_000, -10**20),
        "current_period_end": one_of_or_anything(1_800_000_000, 10**20),
        "cancel_at_period_end": one_of_or_anything(True, False),
        "items": one_of_or_anything({"data": [{"current_period_end": 1_800_000_000}]}),
    })
    return st.fixed_dictionaries(
        {
            "id": st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=24).map("evt_".__add__),
            "type": st.sampled_from(sorted(HANDLERS)),
            "data": st.fixed_dictionaries({"object": stripe_object}),
        },
        optional={"created": one_of_or_anything(1_700_000_000), "livemode": one_of_or_anything(False, True),
                  "api_version": one_of_or_anything("2026-10-28.endive")},
    )


# -- the stored-data guard -----------------------------------------------------------


class StoredData:
    """Fingerprints of every MongoDB collection, taken around each request."""

    def __init__(self, database: Any) -> None:
        self.database = database
        self._before: dict[int, dict[str, str]] = {}
        self._lock = threading.Lock()

    def fingerprint(self) -> dict[str, str]:
        from bson import BSON

        prints = {}
        for name in sorted(self.database.list_collection_names()):
            digest = hashlib.sha256()
            for document in self.database[name].find({}, sort=[("_id", 1)]):
                digest.update(BSON.encode(document))
            prints[name] = digest.hexdigest()
        return prints

    def before(self, case: Any) -> None:
        with self._lock:
            self._before[id(case)] = self.fingerprint()

    def changed_since(self, case: Any) -> list[str]:
        with self._lock:
            before = self._before.pop(id(case), None)
        if before is None:
            return []
        after = self.fingerprint()
        return sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))


def register_hooks(
    *, stored: StoredData, summary: Summary, recipient_id: str, known: dict[str, list[str]]
) -> None:
    import schemathesis
    from hypothesis import strategies as st

    @schemathesis.hook
    def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
        stored.before(case)

    @schemathesis.hook
    def after_call(context: Any, case: Any, response: Any) -> None:
        summary.count_response(f"{case.operation.method.upper()} {case.operation.path}", response.status_code)

    events = event_strategy(known)

    def path_of(context: Any) -> str | None:
        operation = getattr(context, "operation", None)
        return getattr(operation, "path", None)

    @schemathesis.hook
    def flatmap_body(context: Any, body: Any) -> Any:
        if not isinstance(body, dict):
            return st.just(body)
        if path_of(context) in (TIP_CREATE_PATH, PREMIUM_PATH):
            # Some checkouts get allowed redirect URLs and (tips) an existing recipient, so
            # generated values reach the checks behind the redirect and recipient ones.
            redirects = {"success_url": SUCCESS_URL, "cancel_url": CANCEL_URL}
            variants = [body, {**body, **redirects}]
            if path_of(context) == TIP_CREATE_PATH:
                valid = {**redirects, "to_user_id": recipient_id}
                variants += [{**body, "to_user_id": recipient_id}, {**body, **valid}, {**body, **valid, "amount": 5}]
            return st.sampled_from(variants)
        if path_of(context) == WEBHOOK_PATH:
            return st.one_of(st.just(body), events)
        return st.just(body)

    @schemathesis.hook
    def flatmap_headers(context: Any, headers: Any) -> Any:
        if path_of(context) != WEBHOOK_PATH or not isinstance(headers, dict) or "Stripe-Signature" not in headers:
            return st.just(headers)
        return st.sampled_from([headers, {**headers, "Stripe-Signature": SIGN_ME}])

    @schemathesis.check
    def stored_data_unchanged_on_4xx(ctx: Any, response: Any, case: Any) -> bool | None:
        changed = stored.changed_since(case)
        if 400 <= response.status_code < 500 and changed:
            raise AssertionError(
                f"A {response.status_code} response changed stored data in: {', '.join(changed)}"
            )
        return None


# -- the run -----------------------------------------------------------------------------


@dataclass
class Summary:
    operations: set[str] = field(default_factory=set)
    examples: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    # operation -> Counter of status classes (200, 400, 500)
    operation_statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    checks: Counter = field(default_factory=Counter)
    # (operation, check) -> list of (title, message, code sample)
    failures: dict[tuple[str, str], list[tuple[str, str, str]]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    stop_reason: str = ""
    duration: float = 0.0
    lock: Any = field(default_factory=threading.Lock)

    @property
    def failure_count(self) -> int:
        return sum(len(items) for items in self.failures.values())

    def count_response(self, operation: str, status_code: int) -> None:
        status_class = status_code // 100 * 100
        with self.lock:
            self.statuses[status_class] += 1
            self.operation_statuses[operation][status_class] += 1

    def record(self, recorder: Any) -> None:
        self.operations.add(recorder.label)
        self.examples[recorder.label] += len(recorder.cases)
        for checks in recorder.checks.values():
            for check in checks:
                self.checks[check.name] += 1
                if check.failure_info is None:
                    continue
                failure = check.failure_info.failure
                key = (recorder.label, check.name)
                item = (failure.title, failure.message, check.failure_info.code_sample)
                if item[:2] not in [existing[:2] for existing in self.failures[key]]:
                    self.failures[key].append(item)


def run(args: argparse.Namespace, env: dict[str, Any]) -> Summary:
    import schemathesis
    from django.core.wsgi import get_wsgi_application
    from schemathesis.engine import events, from_schema

    config = schemathesis.Config(seed=args.seed)
    config.cache.enabled = False
    project = config.projects.override
    project.update(basic_auth=("alice", PASSWORD), workers=1, headers={"Accept": "application/json"})
    project.phases.update(phases=[name.strip() for name in args.phases.split(",") if name.strip()])
    project.checks.update(included_check_names=[*CHECKS, STORED_DATA_CHECK])
    project.generation.update(max_examples=args.max_examples, deterministic=True, database="none")

    app = signing_wsgi(get_wsgi_application(), WEBHOOK_SECRET)
    schema = schemathesis.openapi.from_wsgi(SCHEMA_PATH, app, config=config)
    stored = StoredData(env["database"])
    summary = Summary()
    register_hooks(stored=stored, summary=summary, recipient_id=env["recipient_id"], known=env["known"])

    started = time.monotonic()
    stream = from_schema(schema).execute()
    # The time limit stops generation from outside, so a run that fits in it is the same
    # run for the same seed (schemathesis' own max_time keeps cycling until it is spent).
    timer = threading.Timer(args.max_time, stream.stop)
    timer.daemon = True
    timer.start()
    try:
        for event in stream:
            if isinstance(event, events.ScenarioFinished):
                summary.record(event.recorder)
            elif isinstance(event, events.NonFatalError):
                summary.errors.append(f"{event.label}: {event.info.title}: {event.info.message}")
            elif isinstance(event, events.FatalError):
                summary.errors.append(f"fatal: {event.exception!r}")
            elif isinstance(event, events.EngineFinished):
                summary.stop_reason = str(event.stop_reason)
    finally:
        timer.cancel()
    summary.duration = time.monotonic() - started
    return summary


def report(summary: Summary, args: argparse.Namespace) -> None:
    out = sys.stdout
    out.write("\nFuzzing the payments API (schemathesis, in-process WSGI)\n")
    for operation in sorted(summary.operations):
        statuses = " ".join(
            f"{status // 100}xx:{count}" for status, count in sorted(summary.operation_statuses[operation].items())
        )
        out.write(f"  {summary.examples[operation]:6d}  {operation:45s} {statuses}\n")
    for (operation, check), items in sorted(summary.failures.items()):
        out.write(f"\nFAILED {check} on {operation} ({len(items)} distinct)\n")
        for title, message, code_sample in items[: args.show]:
            out.write(f"  - {title}: {message}\n")
            out.write("    " + code_sample.replace("\n", "\n    ") + "\n")
    for error in summary.errors:
        out.write(f"\nERROR {error}\n")
    checks = ", ".join(f"{name} {count}" for name, count in sorted(summary.checks.items()))
    out.write(f"\nChecks run: {checks}\n")
    statuses = ", ".join(f"{status // 100}xx: {count}" for status, count in sorted(summary.statuses.items()))
    out.write(
        f"\nSummary: {len(summary.operations)} operations, {sum(summary.examples.values())} examples "
        f"({statuses}), {summary.failure_count} failures, {len(summary.errors)} errors, "
        f"{summary.duration:.1f}s, seed {args.seed}, stop: {summary.stop_reason}\n"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="skillswap-fuzz-") as tmp, mongodb_uri() as uri:
        with app_environment(uri, os.path.join(tmp, "users.sqlite3")) as env:
            summary = run(args, env)
    report(summary, args)
    return 1 if summary.failure_count or summary.errors else 0


if __name__ == "__main__":
    sys.exit(main())
