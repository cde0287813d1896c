"""The built wheel in a brand-new Django site, served by several gunicorn workers.

What a reviewer or a new user does, end to end and over HTTP only: build the wheel, install it
with its ``[testing]`` extra and gunicorn into a new virtualenv, ``django-admin startproject``,
edit settings.py and urls.py as docs/quickstart.md says, ``migrate``, ``check``,
``payments_ensure_indexes``, then run the installed package's Stripe emulator from its command
line with webhooks to ``gunicorn -w 3``. A premium purchase is paid on the emulator's hosted page
and completed by its webhook; its events delivered again, many at once across the workers,
change nothing; a tip reaches a second user; malformed JSON and unknown paths get JSON errors.
The site has its own MongoDB database on the test session's server, read back with pymongo.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import pytest
from pymongo import MongoClient

from django_skillswap_payments.testing.mongo import with_database
from django_skillswap_payments.testing.webhooks import signed_headers
from tests.support import fresh_site
from tests.support.fresh_site import FreshSite, SiteClient
from tests.support.hosted_page import card, post_form

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not fresh_site.has_checkout(),
        reason="builds the wheel from the project's git checkout (tox and the sdist run a copy)",
    ),
]

PREFIX = "/api/payments/"
SUCCESS_URL = "http://localhost:3000/dashboard/payments/success"
CANCEL_URL = "http://localhost:3000/dashboard/payments/cancel"
API_KEY = "sk_test_fresh_site"
REDELIVERIES = 8
WAIT_SECONDS = 20.0

# Two users, each signed in with a session of their own (what a browser holds after logging
# in), and the recipient's payment profile id, which is what tips are addressed to.
CREATE_USERS = """
from django.contrib.auth import get_user_model
from django.test import Client
from django_skillswap_payments.users import get_or_create_profile
sessions = {}
for name in ("ada", "grace"):
    user = get_user_model().objects.create_user(name, name + "@example.com", "fresh-site-password")
    browser = Client()
    browser.force_login(user)
    sessions[name] = browser.cookies["sessionid"].value
print(sessions["ada"], sessions["grace"], get_or_create_profile(user).id)
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory, mongodb_uri):
    """The fresh site behind gunicorn; yields its URL, the database, the emulator and users."""
    workdir = tmp_path_factory.mktemp("fresh-site")
    wheel = fresh_site.build_wheel(workdir)
    python = fresh_site.make_virtualenv(workdir / "venv", wheel)
    project = FreshSite.start_project(python, workdir / "site")

    port = fresh_site.free_port()
    base_url = f"http://127.0.0.1:{port}"
    webhook_secret = "whsec_" + secrets.token_hex(16)
    database = f"fresh_site_{secrets.token_hex(4)}"
    started: list[fresh_site.ServerProcess] = []
    client = MongoClient(mongodb_uri)
    try:
        emulator, emulator_url = fresh_site.start_emulator(
            python, workdir=workdir, webhook_url=f"{base_url}{PREFIX}webhook/",
            webhook_secret=webhook_secret, api_key=API_KEY,
        )
        started.append(emulator)
        project.configure(payments={
            "STRIPE_SECRET_KEY": API_KEY,
            "STRIPE_PUBLISHABLE_KEY": "pk_test_fresh_site",
            "STRIPE_WEBHOOK_SECRET": webhook_secret,
            "STRIPE_API_BASE": emulator_url,
            "MONGODB_URI": with_database(mongodb_uri, database),
            "PREMIUM_PRICE": "9.99",
            "CURRENCY": "usd",
            "TIP_MIN": "1.00",
            "TIP_MAX": "1000.00",
            "ALLOWED_REDIRECT_HOSTS": ["localhost", "app.example.com"],
        })
        project.manage("migrate", "--no-input")
        checked = project.manage("check")
        assert "System check identified no issues" in checked.stdout, checked.stdout + checked.stderr
        project.manage("payments_ensure_indexes")
        report = project.manage("payments_config").stdout
        assert "STRIPE_API_BASE" in report and emulator_url in report, report
        assert webhook_secret not in report, report
        # The last line: the shell may first say what it imported.
        created = project.manage("shell", "-c", CREATE_USERS).stdout.strip().splitlines()[-1]
        ada_session, grace_session, recipient_profile_id = created.split()
        started.append(project.gunicorn(port, workers=3))
        yield {
            "url": base_url,
            "db": client[database],
            "emulator_url": emulator_url,
            "webhook_secret": webhook_secret,
            "recipient_profile_id": recipient_profile_id,
            "sessions": {"ada": ada_session, "grace": grace_session},
            "servers": started,
        }
    finally:
        for server in reversed(started):
            server.stop()
        client.drop_database(database)
        client.close()


@pytest.fixture(scope="module")
def ada(site):
    return SiteClient(site["url"], site["sessions"]["ada"])


@pytest.fixture(scope="module")
def grace(site):
    return SiteClient(site["url"], site["sessions"]["grace"])


def emulator_get(site, path):
    request = urllib.request.Request(
        site["emulator_url"] + path, headers={"Authorization": f"Bearer {API_KEY}"}
    )
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.load(response)


def pay(checkout):
    """Pay a checkout on the emulator's hosted page with the test card 4242."""
    status, location, body = post_form(checkout["url"], card("4242 4242 4242 4242"))
    assert status == 303, body
    assert parse_qs(urlsplit(location).query)["session_id"] == [checkout["session_id"]]


def wait_until(condition, what):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def session_events(site, session_id):
    """The events the emulator emitted for a paid session, as Stripe's API lists them."""
    events = emulator_get(site, "/v1/events?limit=100")["data"]
    intent = emulator_get(site, f"/v1/checkout/sessions/{session_id}")["payment_intent"]
    mine = [
        event for event in events
        if event["data"]["object"].get("id") in (session_id, intent)
        or event["data"]["object"].get("payment_intent") == intent
    ]
    assert {e["type"] for e in mine} >= {"checkout.session.completed", "payment_intent.succeeded"}
    return mine


@pytest.fixture(scope="module")
def premium_purchase(site, ada):
    started = ada.post_json(
        f"{PREFIX}premium/create-checkout/", {"success_url": SUCCESS_URL, "cancel_url": CANCEL_URL}
    )
    assert started.status == 200, started.body
    checkout = started.json()
    assert checkout["url"].startswith(site["emulator_url"])
    pay(checkout)
    wait_until(lambda: ada.get(f"{PREFIX}subscription/status/").json()["is_premium"], "premium")
    return checkout


def test_a_premium_purchase_completes_through_the_webhook(site, ada, premium_purchase):
    status = ada.get(f"{PREFIX}subscription/status/")

    assert status.status == 200
    assert status.content_type.startswith("application/json")
    body = status.json()
    assert (body["is_premium"], body["status"]) == (True, "active")
    assert body["receipt"]["amount"] == 9.99
    payment = site["db"]["payments"].find_one({"stripe_session_id": premium_purchase["session_id"]})
    assert payment["status"] == "completed"


def test_the_same_events_delivered_again_at_once_to_all_workers_change_nothing(
    site, ada, premium_purchase
):
    db = site["db"]
    events = session_events(site, premium_purchase["session_id"])
    ids = {e["id"] for e in events}
    # Premium shows as soon as one completion event is in; wait for the emulator's whole batch.
    finished = {"stripe_event_id": {"$in": list(ids)}, "status": {"$in": ["processed", "ignored"]}}
    wait_until(lambda: db["webhook_events"].count_documents(finished) == len(ids),
               "every event of the purchase to be handled")
    before = {r["stripe_event_id"]: r["attempts"] for r in db["webhook_events"].find()}
    # The emulator's own deliveries each succeeded the first time (it retries any other answer).
    assert {before[e["id"]] for e in events} == {1}
    payment_before = db["payments"].find_one({"stripe_session_id": premium_purchase["session_id"]})
    webhook = SiteClient(site["url"])

    def deliver(event):
        body = json.dumps(event).encode()
        return webhook.request(
            "POST", f"{PREFIX}webhook/", body, signed_headers(body, site["webhook_secret"])
        ).status

    deliveries = [event for event in events for _ in range(REDELIVERIES)]
    with ThreadPoolExecutor(max_workers=len(deliveries)) as pool:
        statuses = list(pool.map(deliver, deliveries))

    assert Counter(statuses) == Counter({200: len(deliveries)})
    assert db["payments"].count_documents({"transaction_type": "premium"}) == 1
    assert db["payments"].count_documents({"transaction_type": "premium", "status": "completed"}) == 1
    assert db["payments"].find_one({"_id": payment_before["_id"]}) == payment_before
    records = list(db["webhook_events"].find())
    per_event = Counter(r["stripe_event_id"] for r in records)
    assert set(per_event.values()) == {1}
    attempts = {r["stripe_event_id"]: r["attempts"] for r in records}
    assert {e["id"]: attempts[e["id"]] - before[e["id"]] for e in events} == {
        e["id"]: REDELIVERIES for e in events
    }
    assert {r["status"] for r in records} <= {"processed", "ignored"}
    assert ada.get(f"{PREFIX}subscription/status/").json()["is_premium"] is True


def test_a_tip_reaches_a_second_user(site, ada, grace):
    started = ada.post_json(f"{PREFIX}tip/create/", {
        "to_user_id": site["recipient_profile_id"], "amount": 5.00, "message": "Thanks!",
        "success_url": SUCCESS_URL, "cancel_url": CANCEL_URL,
    })
    assert started.status == 200, started.body
    checkout = started.json()
    pay(checkout)

    tips = site["db"]["payments"]
    wait_until(
        lambda: tips.find_one({"stripe_session_id": checkout["session_id"], "status": "completed"}),
        "the tip to complete",
    )
    history = grace.get(f"{PREFIX}tip/history/")
    assert history.status == 200, history.body
    body = history.json()
    assert body["total_received"] == 1
    (tip,) = body["tips_received"]
    assert (tip["amount"], tip["status"], tip["message"]) == (5.0, "completed", "Thanks!")
    sent = ada.get(f"{PREFIX}tip/history/").json()
    assert [t["status"] for t in sent["tips_sent"]] == ["completed"]


MALFORMED_BODIES = [b"{", b'{"success_url": ', b"[1, 2", b"\xff\xfe", b'{"a": 1}}', b"nul"]


@pytest.mark.parametrize("path", ["premium/create-checkout/", "tip/create/"])
def test_malformed_json_gets_a_json_400(site, ada, path):
    for body in MALFORMED_BODIES:
        answer = ada.post_raw(f"{PREFIX}{path}", body)
        assert answer.status == 400, (body, answer.status, answer.body)
        assert answer.content_type.startswith("application/json"), (body, answer.content_type)
        assert set(answer.json()) >= {"error", "message"}, (body, answer.body)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unknown_paths_under_the_prefix_get_a_json_404(site, ada, method):
    for path in ["no-such-endpoint/", "premium/", "subscription/status/extra/"]:
        answer = ada.request(method, f"{PREFIX}{path}", b"{}" if method == "POST" else None)
        assert answer.status == 404, (path, answer.status, answer.body)
        assert answer.content_type.startswith("application/json"), (path, answer.content_type)
        assert set(answer.json()) >= {"error", "message"}, (path, answer.body)


def test_everything_ran_in_separate_server_processes(site):
    gunicorn = site["servers"][-1]
    assert gunicorn.process.poll() is None
    assert gunicorn.output().count("Booting worker") >= 3
    assert "Traceback" not in gunicorn.output()
    assert "Internal Server Error" not in gunicorn.output()
