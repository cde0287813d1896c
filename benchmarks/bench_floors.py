"""The app's hot operations next to their floors, measured interleaved in one process.

A floor is the least a Django site can do for the same request on the same
MongoDB server and Stripe: a bare DRF view doing one indexed ``find_one``
(for the status read and the history pages), a bare Django view doing
``stripe.Webhook.construct_event`` plus one ``find_one_and_update`` (for a
webhook delivery), and a bare DRF view doing two commands around one Stripe
call (for a checkout start). Each round runs a batch of the operation and a
batch of its floor back to back, alternating which goes first, so both see
the same server in the same state; the ratio of their medians is taken per
round and reported as the median and the range over rounds. MongoDB commands
per request are counted with a pymongo ``CommandListener`` on one extra
request of each, outside the timing.

:func:`compare` and :func:`print_comparisons` also serve the history growth
rows (:mod:`bench_growth`), which compare an operation with itself at two sizes.
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import stripe
from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.decorators import api_view
from rest_framework.response import Response

WEBHOOK_SECRET = "whsec_bench_only"
FLOOR_COLLECTION = "bench_floor"

SIZES = {
    # rounds, requests per batch
    "full": {"rounds": 9, "batch": 15},
    "quick": {"rounds": 3, "batch": 6},
}


# -- the floors ----------------------------------------------------------------


def _database():
    from django_skillswap_payments.documents import PaymentProfile

    return PaymentProfile._get_db()


@api_view(["GET"])
def floor_find_one(request):
    profile = _database()["payment_profiles"].find_one({"django_user_id": str(request.user.pk)})
    return Response({"found": profile is not None})


@csrf_exempt
def floor_webhook(request):
    event = stripe.Webhook.construct_event(
        request.body, request.headers.get("Stripe-Signature", ""), WEBHOOK_SECRET
    )
    _database()[FLOOR_COLLECTION].find_one_and_update(
        {"_id": event["id"]}, {"$set": {"status": "processed"}}, upsert=True, projection={"_id": 1}
    )
    return HttpResponse("ok")


@api_view(["POST"])
def floor_checkout(request):
    from django_skillswap_payments import gateway

    collection = _database()[FLOOR_COLLECTION]
    payment_id = collection.insert_one({"user": str(request.user.pk), "status": "pending"}).inserted_id
    session = gateway.get_client().v1.checkout.sessions.create(
        {
            "mode": "payment",
            "line_items": [{
                "price_data": {"currency": "usd", "unit_amount": 999, "product_data": {"name": "Floor"}},
                "quantity": 1,
            }],
            "success_url": request.data["success_url"],
            "cancel_url": request.data["cancel_url"],
        },
        {"idempotency_key": f"floor-{payment_id}"},
    )
    collection.update_one({"_id": payment_id}, {"$set": {"session": session.id}})
    return Response({"session_id": session.id, "url": session.url})


urlpatterns = [
    path("api/payments/", include("django_skillswap_payments.urls")),
    path("floor/find-one/", floor_find_one),
    path("floor/webhook/", floor_webhook),
    path("floor/checkout/", floor_checkout),
]


# -- measuring -----------------------------------------------------------------


@dataclass
class Comparison:
    name: str
    floor: str
    op_seconds: list[float]
    floor_seconds: list[float]
    ratios: list[float]
    op_commands: int
    floor_commands: int
    note: str = ""


Request = Callable[[], Any]


def _timed(request: Request) -> float:
    begin = time.perf_counter()
    response = request()
    elapsed = time.perf_counter() - begin
    if getattr(response, "status_code", 200) != 200:
        raise SystemExit(f"a benchmark request answered {response.status_code}: {response.content[:300]!r}")
    return elapsed


def _commands(request: Request) -> int:
    from tests.support.commands import command_log

    with command_log.recording() as seen:
        _timed(request)
    return len(seen)


def compare(name: str, floor_name: str, op: Iterator[Request], floor: Iterator[Request], *,
            rounds: int, batch: int, note: str = "") -> Comparison:
    """Interleave batches of ``op`` and ``floor`` (each an endless supply of requests) over ``rounds``."""
    print(f"  measuring {name} ...", file=sys.stderr, flush=True)
    op_commands, floor_commands = _commands(next(op)), _commands(next(floor))
    op_all, floor_all, ratios = [], [], []
    for round_number in range(rounds):
        order = ((op, op_all), (floor, floor_all))
        results = {}
        for supply, sink in order if round_number % 2 == 0 else reversed(order):
            times = [_timed(next(supply)) for _ in range(batch)]
            sink.extend(times)
            results[id(supply)] = statistics.median(times)
        ratios.append(results[id(op)] / results[id(floor)])
    return Comparison(name, floor_name, op_all, floor_all, ratios, op_commands, floor_commands, note)


def print_comparisons(rows: list[Comparison], *, growth: bool = False) -> None:
    what = "growth" if growth else "vs floor"
    header = (f"{'operation':<42} {'ms':>7} {'commands':>8}   {'compared with':<28} {'ms':>7} "
              f"{'commands':>8}   {what + ' (median, min-max)':<28}")
    print(header)
    print("-" * len(header))
    for row in rows:
        ratio = (f"{statistics.median(row.ratios):.2f}x "
                 f"({min(row.ratios):.2f}-{max(row.ratios):.2f})")
        print(f"{row.name:<42} {statistics.median(row.op_seconds) * 1000:>7.2f} {row.op_commands:>8}   "
              f"{row.floor:<28} {statistics.median(row.floor_seconds) * 1000:>7.2f} "
              f"{row.floor_commands:>8}   {ratio:<28} {row.note}")


# -- the operations --------------------------------------------------------------


CHECKOUT_BODY = {
    "success_url": "http://testserver/done?session_id={CHECKOUT_SESSION_ID}",
    "cancel_url": "http://testserver/cancel",
}


def users(tag: str, count: int) -> list[Any]:
    """``count`` new Django users named after ``tag``."""
    from django.contrib.auth import get_user_model

    model = get_user_model()
    return [model.objects.create_user(f"bench-{tag}-{n}", password="pw") for n in range(count)]


def client_for(user):
    """An API client authenticated as ``user``."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def repeat(request: Request) -> Iterator[Request]:
    """The same request, forever (for :func:`compare`)."""
    while True:
        yield request


def _checkouts(buyers: list[Any]) -> Iterator[Request]:
    for user in buyers:
        client = client_for(user)
        yield lambda client=client: client.post("/api/payments/premium/create-checkout/", CHECKOUT_BODY,
                                                 format="json")


def _posts(target: Any, bodies: list[bytes]) -> Iterator[Request]:
    from django_skillswap_payments.testing.webhooks import signed_headers

    for body in bodies:
        headers = signed_headers(body, WEBHOOK_SECRET)
        yield lambda body=body, headers=headers: target.post(body, headers)


def _completion_events(emulator, session_ids: list[str]) -> list[bytes]:
    from django_skillswap_payments.testing.webhooks import encode_event

    for session_id in session_ids:
        if not emulator.submit_payment(session_id).succeeded:
            raise SystemExit(f"the emulator refused the payment of {session_id}")
    wanted = set(session_ids)
    return [
        encode_event(event)
        for event in emulator.events("checkout.session.completed")
        if event["data"]["object"]["id"] in wanted
    ]


def _started_sessions(buyers: list[Any]) -> list[str]:
    return [request().json()["session_id"] for request in _checkouts(buyers)]


def _users_with_customers(emulator, tag: str, count: int) -> list[Any]:
    from django_skillswap_payments.documents import PaymentProfile

    created = users(tag, count)
    for user in created:
        customer = emulator.create_customer({})
        PaymentProfile(django_user_id=str(user.pk), stripe_customer_id=customer["id"]).save()
    return created


def bench_against_floors(emulator, *, rounds: int, batch: int) -> list[Comparison]:
    from django.test import Client

    from django_skillswap_payments.testing.webhooks import DjangoClientTarget

    need = rounds * batch + 1
    tag = uuid.uuid4().hex[:6]
    rows = []

    reader = users(f"{tag}-reader", 1)[0]
    client_for(reader).post("/api/payments/premium/create-checkout/", CHECKOUT_BODY, format="json")
    status = client_for(reader)
    floor_read = client_for(reader)
    rows.append(compare(
        "GET subscription/status/ (not premium)", "DRF view, 1 find_one",
        repeat(lambda: status.get("/api/payments/subscription/status/")),
        repeat(lambda: floor_read.get("/floor/find-one/")),
        rounds=rounds, batch=batch,
    ))

    floor_checkout_client = client_for(reader)
    rows.append(compare(
        "premium checkout, new user", "DRF view, 2 cmds + 1 call",
        _checkouts(users(f"{tag}-new", need)),
        repeat(lambda: floor_checkout_client.post("/floor/checkout/", CHECKOUT_BODY, format="json")),
        rounds=rounds, batch=batch, note="Stripe calls: 1 (the session)",
    ))
    returning = _users_with_customers(emulator, f"{tag}-known", need)
    _started_sessions(returning)  # remembered, with an open checkout each: expire them
    for session in emulator.all("checkout.session"):
        if session["status"] == "open":
            emulator.expire_checkout_session(session["id"])
    from django_skillswap_payments.documents import Payment

    Payment.objects(status="pending").update(unset__open_checkout_slot=True, set__status="expired")
    rows.append(compare(
        "premium checkout, returning user", "DRF view, 2 cmds + 1 call",
        _checkouts(returning),
        repeat(lambda: floor_checkout_client.post("/floor/checkout/", CHECKOUT_BODY, format="json")),
        rounds=rounds, batch=batch, note="Stripe calls: 1 (the session, customer passed)",
    ))

    app = DjangoClientTarget(Client(), "/api/payments/webhook/")
    floor = DjangoClientTarget(Client(), "/floor/webhook/")
    known = _completion_events(emulator, _started_sessions(_users_with_customers(emulator, f"{tag}-paid", need)))
    created = _completion_events(emulator, _started_sessions(users(f"{tag}-first", need)))
    for label, bodies, note in (
        ("webhook, first delivery (completion)", known, "customer known"),
        ("webhook, first delivery, new customer", created, "the payment keeps the new customer"),
    ):
        rows.append(compare(label, "Django view, verify + 1 fAM", _posts(app, bodies), _posts(floor, bodies),
                            rounds=rounds, batch=batch, note=note))
    rows.append(compare(
        "webhook, duplicate delivery", "Django view, verify + 1 fAM",
        _posts(app, known), _posts(floor, known), rounds=rounds, batch=batch,
    ))
    return rows
