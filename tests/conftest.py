"""Test-session wiring: a real MongoDB wire-protocol server for every test.

``MONGODB_URI`` selects an existing server (for example a real replica set).
Without it a local mongoeco server is started for the session and stopped at
the end.  Each test starts from empty collections; indexes are kept, so the
unique constraints the code relies on are always in force.
"""

from __future__ import annotations

import os
import uuid

import mongoengine
import pytest
from pymongo import MongoClient

from django_skillswap_payments.testing.mongo import LocalMongoServer, with_database
from tests.support.commands import command_log  # noqa: F401  (registered before any client connects)

# Shared fixtures (users, API clients, the wired-in Stripe emulator, a signal log).
pytest_plugins = ("tests.support.fixtures", "tests.support.browser")

MONGO_ALIAS = "default"


@pytest.fixture(scope="session")
def mongodb_uri():
    """URI of the MongoDB server used by this test session (database not included)."""
    configured = os.environ.get("MONGODB_URI")
    if configured:
        yield configured
        return
    with LocalMongoServer() as server:
        yield server.uri


@pytest.fixture(scope="session")
def mongo_database(mongodb_uri):
    """A database of its own for this session, connected as the app's MongoEngine alias."""
    name = f"skillswap_payments_test_{uuid.uuid4().hex[:8]}"
    mongoengine.connect(alias=MONGO_ALIAS, host=with_database(mongodb_uri, name), tz_aware=True, uuidRepresentation="standard")
    try:
        from django_skillswap_payments import repository
    except ImportError:
        repository = None
    if repository is not None and hasattr(repository, "ensure_indexes"):
        repository.ensure_indexes()
    client = MongoClient(mongodb_uri)
    yield client[name]
    client.drop_database(name)
    client.close()
    mongoengine.disconnect(alias=MONGO_ALIAS)


@pytest.fixture(autouse=True)
def clean_collections(mongo_database):
    """Empty every collection before each test (indexes stay in place)."""
    for collection_name in mongo_database.list_collection_names():
        mongo_database[collection_name].delete_many({})
    yield
