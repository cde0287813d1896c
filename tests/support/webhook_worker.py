"""One server process of a multi-process race: ``python -m tests.support.webhook_worker POOL_JSON INDEX``.

Driven through files by :class:`tests.support.race.WorkerPool`. Once: configure
Django (``settings_module``), connect to the pool's MongoDB database, connect
receivers for every payment signal, then write ``ready-INDEX``. Then, for each
round K until ``stop`` appears: read ``round-K.json``, apply its
``SKILLSWAP_PAYMENTS``, warm up, write ``ready-K-INDEX``, wait for ``go-K`` so
that all workers start together, and run this worker's plan:

* ``webhook``: POST the event body, freshly signed with the configured secret,
  to the app's webhook view through Django's test client;
* ``confirm``: ``services.confirm_checkout_session`` as the success page calls it.

Signals go to ``signals-K-INDEX.jsonl`` as they are sent, one JSON line each;
status codes, per-action seconds and errors go to ``result-K-INDEX.json``.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

POLL_SECONDS = 0.002
IDLE_TIMEOUT = 300.0


def wait_for(*paths: Path) -> Path | None:
    """Return the first of ``paths`` to exist; ``None`` after ``IDLE_TIMEOUT``."""
    deadline = time.monotonic() + IDLE_TIMEOUT
    while time.monotonic() < deadline:
        for path in paths:
            if path.exists():
                return path
        time.sleep(POLL_SECONDS)
    return None


def main(argv: list[str]) -> int:
    config_path, index = Path(argv[0]), int(argv[1])
    config = json.loads(config_path.read_text())
    workdir = Path(config["workdir"])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", config["settings_module"])

    import django

    django.setup()

    import mongoengine
    from django.test import Client
    from django.urls import reverse

    from django_skillswap_payments import signals
    from django_skillswap_payments.conf import payments_settings as app_settings
    from django_skillswap_payments.testing.mongo import with_database

    mongoengine.connect(
        alias=app_settings.MONGO_ALIAS,
        host=with_database(config["mongodb_uri"], config["database"]),
        tz_aware=True,
        uuidRepresentation="standard",
    )
    mongoengine.get_db(app_settings.MONGO_ALIAS).command("ping")

    sink: dict[str, Any] = {"file": None}

    def make_receiver(name: str):
        def receiver(sender, payment, **kwargs):
            line = json.dumps({"signal": name, "payment_id": str(payment.id), "worker": index})
            sink["file"].write(line + "\n")

        return receiver

    for signal, name in signals.SIGNAL_NAMES.items():
        signal.connect(make_receiver(name), weak=False)

    client, webhook_path = Client(), reverse("payments:webhook")
    (workdir / f"ready-{index}").write_text(str(os.getpid()))

    k = 0
    while True:
        k += 1
        found = wait_for(workdir / f"round-{k}.json", workdir / "stop")
        if found is None or found.name == "stop":
            return 0
        job = json.loads(found.read_text())
        with open(workdir / f"signals-{k}-{index}.jsonl", "a", buffering=1) as log:
            sink["file"] = log
            result = run_round(job, k, index, workdir, client, webhook_path)
        # Written aside and renamed: the pool reads it as soon as the name appears.
        partial = workdir / f"result-{k}-{index}.json.partial"
        partial.write_text(json.dumps(result))
        os.replace(partial, workdir / f"result-{k}-{index}.json")


def run_round(job: dict[str, Any], k: int, index: int, workdir: Path, client: Any, webhook_path: str) -> dict[str, Any]:
    from bson import ObjectId
    from django.test.utils import override_settings

    from django_skillswap_payments import services
    from django_skillswap_payments.conf import payments_settings as app_settings
    from django_skillswap_payments.documents import PaymentProfile
    from django_skillswap_payments.testing.webhooks import DjangoClientTarget, signed_headers

    with override_settings(SKILLSWAP_PAYMENTS=job["payments_settings"]):
        secret = app_settings.webhook_secrets[0]
        target = DjangoClientTarget(client, webhook_path)
        # Warm up before the start line: an unsigned delivery is refused before anything is written.
        warm = target.post(b"{}", {"Content-Type": "application/json"})
        if warm.status_code != 400:
            raise RuntimeError(f"warm-up delivery answered {warm.status_code}")
        profiles: dict[str, Any] = {}

        (workdir / f"ready-{k}-{index}").write_text("ready")
        if wait_for(workdir / f"go-{k}") is None:
            raise RuntimeError(f"round {k} was never started")

        steps, errors = [], []
        started = time.time()
        for action in job["plans"][index]:
            step: dict[str, Any] = {"kind": action["kind"]}
            begin = time.perf_counter()
            try:
                if action["kind"] == "webhook":
                    body = action["body"].encode("utf-8")
                    step["event_id"] = action["event_id"]
                    step["status_code"] = target.post(body, signed_headers(body, secret)).status_code
                elif action["kind"] == "confirm":
                    profile_id = action["profile_id"]
                    if profile_id not in profiles:
                        profiles[profile_id] = PaymentProfile.objects.get(id=ObjectId(profile_id))
                    payment = services.confirm_checkout_session(profiles[profile_id], action["session_id"])
                    step["payment_status"] = payment.status
                else:
                    raise ValueError(f"unknown action {action['kind']!r}")
            except Exception:
                errors.append(traceback.format_exc(limit=5))
            step["seconds"] = time.perf_counter() - begin
            steps.append(step)
        finished = time.time()
    return {"index": index, "pid": os.getpid(), "started": started, "finished": finished,
            "steps": steps, "errors": errors}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
