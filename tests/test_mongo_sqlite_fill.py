"""Documents written into a SQLite-engine file in-process are served as they were given.

``fill_sqlite`` hands the documents as BSON to a child process with the mongoeco
interpreter; a wire server then opens the file. What comes back over the wire
must be the same documents: every BSON type the app stores, every collection,
and more documents than one insert batch.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bson import Decimal128, ObjectId
from pymongo import MongoClient

from django_skillswap_payments.testing.mongo import FILL_BATCH, LocalMongoServer, fill_sqlite


def _payment(n: int, owner: ObjectId) -> dict:
    moment = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=n)
    return {
        "_id": ObjectId(), "from_user_id": owner, "to_user_id": None, "amount": Decimal128(Decimal("5.00")),
        "amount_minor": 500 + n, "currency": "usd", "message": f"thanks {n} \u00e9\u2603", "created_at": moment,
        "metadata": {"order": str(n)}, "refunds": [], "signal_failures": [{"receiver": "r", "at": moment}],
        "livemode": False,
    }


def test_filled_documents_are_served_unchanged(tmp_path):
    owner = ObjectId()
    payments = [_payment(n, owner) for n in range(FILL_BATCH * 2 + 3)]
    profiles = [{"_id": owner, "django_user_id": "7", "connect_requirements_due": []}]
    path = tmp_path / "filled.sqlite3"

    fill_sqlite(path, "site", {"payments": payments, "payment_profiles": profiles})

    with LocalMongoServer(sqlite_path=path) as server:
        client = MongoClient(server.uri, tz_aware=True)
        try:
            database = client["site"]
            served = {document["_id"]: document for document in database["payments"].find()}
            assert served == {document["_id"]: document for document in payments}
            assert list(database["payment_profiles"].find()) == profiles
        finally:
            client.close()


def test_filling_adds_to_what_the_file_holds(tmp_path):
    path = tmp_path / "twice.sqlite3"
    first, second = [{"_id": ObjectId(), "n": 1}], [{"_id": ObjectId(), "n": 2}]

    fill_sqlite(path, "site", {"things": first})
    fill_sqlite(path, "site", {"things": second})

    with LocalMongoServer(sqlite_path=path) as server:
        client = MongoClient(server.uri)
        try:
            assert list(client["site"]["things"].find().sort("n")) == first + second
        finally:
            client.close()
