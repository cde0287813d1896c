"""pytest fixtures for testing a site that uses django-skillswap-payments.

Installed with the ``[testing]`` extra, the plugin registers itself through the
``pytest11`` entry point; otherwise add
``pytest_plugins = ["django_skillswap_payments.testing.pytest_plugin"]`` to
your root ``conftest.py``.

Fixtures
--------
``stripe_emulator``
    A fresh :class:`~django_skillswap_payments.testing.emulator.StripeEmulator`
    per test, delivering webhooks synchronously (deterministic).
``stripe_emulator_server``
    The same emulator served over HTTP on 127.0.0.1 (random port); use its
    ``base_url``.  Webhooks are then delivered from a background thread.
``stripe_client``
    A ``stripe.StripeClient`` talking to ``stripe_emulator`` in-process.
``stripe_webhook_secret``
    The signing secret shared by the emulator and the app (override to change it).
``stripe_webhook_path``
    Path of the app's webhook view (default: ``reverse("payments:webhook")``;
    override if you include the URLs under another namespace).
``payments_settings``
    Overrides ``SKILLSWAP_PAYMENTS`` so the app talks to the emulator: in-process
    by default, over HTTP when the test also uses ``stripe_emulator_server``.
``emulator_webhooks``
    Registers the app's webhook view as an emulator endpoint: through Django's
    test client, or over HTTP to ``live_server`` when the test uses it.
``signed_webhook``
    ``signed_webhook(type, data_object, **kwargs)`` POSTs a correctly signed
    event to the app's webhook view and returns the response.

Example -- a host project's own receiver test::

    import pytest
    from django.urls import reverse
    from rest_framework.test import APIClient
    from django_skillswap_payments.signals import premium_payment_completed

    @pytest.mark.django_db
    def test_premium_purchase_unlocks_badge(django_user_model, stripe_emulator,
                                            payments_settings, emulator_webhooks):
        received = []
        def on_premium(sender, payment, **kwargs):
            received.append(payment)
        premium_payment_completed.connect(on_premium, weak=False)
        try:
            api = APIClient()
            api.force_authenticate(django_user_model.objects.create_user("ada", password="pw"))
            response = api.post(
                reverse("payments:premium-create-checkout"),
                {"success_url": "http://testserver/done?session_id={CHECKOUT_SESSION_ID}",
                 "cancel_url": "http://testserver/cancel"},
                format="json",
            )
            session_id = response.json()["session_id"]

            outcome = stripe_emulator.submit_payment(session_id, "4242 4242 4242 4242")

            assert outcome.succeeded
            assert len(received) == 1          # the signal fired exactly once
            assert received[0].status == "completed"
        finally:
            premium_payment_completed.disconnect(on_premium)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .emulator import EmulatorServer, StripeEmulator, activate
from .webhooks import DjangoClientTarget, build_signed_event

#: Secret key the app uses against the emulator.
EMULATOR_SECRET_KEY = "sk_test_emulator"
#: Webhook signing secret shared by the emulator and the app in tests.
EMULATOR_WEBHOOK_SECRET = "whsec_test_emulator"
#: Dotted path of the factory the app's ``STRIPE_HTTP_CLIENT`` setting names.
IN_PROCESS_HTTP_CLIENT = "django_skillswap_payments.testing.emulator.active_http_client"


@pytest.fixture
def stripe_emulator() -> Iterator[StripeEmulator]:
    """A fresh in-memory Stripe for this test; webhooks are delivered synchronously."""
    emulator = StripeEmulator(webhook_delivery="sync")
    yield emulator
    emulator.webhooks.stop()


@pytest.fixture
def stripe_emulator_server(stripe_emulator: StripeEmulator) -> Iterator[EmulatorServer]:
    """``stripe_emulator`` served over HTTP on 127.0.0.1 (random free port)."""
    # The fixture's emulator was made synchronous for in-process tests; over
    # HTTP deliveries run in the background like Stripe's.
    stripe_emulator.webhooks.mode = "background"
    server = EmulatorServer(stripe_emulator).start()
    yield server
    server.stop()


@pytest.fixture
def stripe_client(stripe_emulator: StripeEmulator):
    """A ``stripe.StripeClient`` answering from ``stripe_emulator`` (no sockets)."""
    return stripe_emulator.stripe_client(EMULATOR_SECRET_KEY)


@pytest.fixture
def stripe_webhook_secret() -> str:
    return EMULATOR_WEBHOOK_SECRET


@pytest.fixture
def stripe_webhook_path() -> str:
    from django.urls import reverse

    return reverse("payments:webhook")


@pytest.fixture
def payments_settings(
    request: pytest.FixtureRequest, stripe_emulator: StripeEmulator, stripe_webhook_secret: str
) -> Iterator[dict[str, Any]]:
    """Point the app at ``stripe_emulator``; yields the effective ``SKILLSWAP_PAYMENTS`` dict."""
    from django.conf import settings
    from django.test import override_settings

    overrides: dict[str, Any] = {
        "STRIPE_SECRET_KEY": EMULATOR_SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": stripe_webhook_secret,
    }
    if "stripe_emulator_server" in request.fixturenames:
        server: EmulatorServer = request.getfixturevalue("stripe_emulator_server")
        overrides.update(STRIPE_API_BASE=server.base_url, STRIPE_HTTP_CLIENT=None)
    else:
        overrides.update(STRIPE_API_BASE=None, STRIPE_HTTP_CLIENT=IN_PROCESS_HTTP_CLIENT)
    merged = {**getattr(settings, "SKILLSWAP_PAYMENTS", {}), **overrides}
    activate(stripe_emulator)
    try:
        with override_settings(SKILLSWAP_PAYMENTS=merged):
            yield merged
    finally:
        activate(None)


@pytest.fixture
def emulator_webhooks(
    request: pytest.FixtureRequest,
    stripe_emulator: StripeEmulator,
    payments_settings: dict[str, Any],
    stripe_webhook_secret: str,
    stripe_webhook_path: str,
):
    """Deliver the emulator's events to the app's webhook view; returns the endpoint."""
    if "live_server" in request.fixturenames:
        live_server = request.getfixturevalue("live_server")
        target: Any = live_server.url + stripe_webhook_path
    else:
        from django.test import Client

        target = DjangoClientTarget(Client(), stripe_webhook_path)
    endpoint = stripe_emulator.add_webhook_endpoint(target, stripe_webhook_secret)
    yield endpoint
    stripe_emulator.webhooks.wait_until_idle()


@pytest.fixture
def signed_webhook(stripe_webhook_secret: str, stripe_webhook_path: str) -> Callable[..., Any]:
    """Return ``send(type, data_object, *, secret=None, path=None, client=None, **event_fields)``.

    Signs with the app's configured webhook secret (or ``secret``) and POSTs
    through a Django test client; ``event_fields`` go to
    :func:`~django_skillswap_payments.testing.webhooks.build_signed_event`
    (``event_id``, ``created``, ``livemode``, ``api_version``, ``timestamp``).
    """

    def send(
        type: str,
        data_object: dict[str, Any],
        *,
        secret: str | None = None,
        path: str | None = None,
        client: Any = None,
        **event_fields: Any,
    ) -> Any:
        if client is None:
            from django.test import Client

            client = Client()
        payload, headers = build_signed_event(
            type,
            data_object,
            secret or _configured_webhook_secret() or stripe_webhook_secret,
            **event_fields,
        )
        return DjangoClientTarget(client, path or stripe_webhook_path).post(payload, headers)

    return send


def _configured_webhook_secret() -> str | None:
    """The first secret the app verifies with, so signed events are accepted."""
    try:
        from ..conf import payments_settings
    except ImportError:
        return None
    secrets = payments_settings.webhook_secrets
    return secrets[0] if secrets else None
