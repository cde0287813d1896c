"""Fixtures shared by the test modules (loaded once by ``tests/conftest.py``);
builders and checks live beside this module in ``tests.support``.

Stripe is the testing toolkit's in-process emulator (its ``stripe_emulator``
and ``payments_settings`` fixtures).
"""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import override_settings

from django_skillswap_payments import signals
from tests.support.api import client_for
from tests.support.database import profile_of

_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def _isolated_throttle_counts():
    # Throttle counters live in the cache and user pks repeat across tests.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def emulated_stripe(stripe_emulator, payments_settings):
    """The toolkit's Stripe emulator, wired into the app, with client retries off.

    Retries are off so an injected network failure reaches the view at once
    instead of being retried away (with back-off sleeps) by stripe-python.
    """
    with override_settings(SKILLSWAP_PAYMENTS={**payments_settings, "STRIPE_MAX_NETWORK_RETRIES": 0}):
        yield stripe_emulator


@pytest.fixture
def make_user(db):
    def make(username: str | None = None):
        name = username or f"user{next(_ids)}"
        return get_user_model().objects.create_user(name, password="pw")

    return make


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def recipient(bob):
    """Bob's payment profile: who the API tests tip."""
    return profile_of(bob)


@pytest.fixture
def staff(make_user):
    """A Django user the default ``STAFF_PERMISSION`` (``IsAdminUser``) admits."""
    user = make_user("operator")
    user.is_staff = True
    user.save()
    return user


@pytest.fixture
def staff_client(staff):
    return client_for(staff)


@pytest.fixture
def alice_client(alice):
    return client_for(alice)


@pytest.fixture
def anon_client():
    return client_for()


@pytest.fixture
def signal_log():
    """Every payment signal sent during the test, as ``(signal name, payment id)``."""
    sent: list[tuple[str, str]] = []
    receivers = []
    for signal, name in signals.SIGNAL_NAMES.items():
        def receiver(sender, payment, _name=name, **kwargs):
            sent.append((_name, str(payment.id)))

        signal.connect(receiver, weak=False)
        receivers.append((signal, receiver))
    yield sent
    for signal, receiver in receivers:
        signal.disconnect(receiver)
