"""Helpers shared by the test modules, one module per concern.

- :mod:`.api` — the app's endpoint URLs, redirect targets and API clients;
- :mod:`.config` — ``SKILLSWAP_PAYMENTS`` overrides;
- :mod:`.database` — stored pending payments and profiles, and "nothing was written" checks;
- :mod:`.stripe_objects` — Checkout Session, PaymentIntent and Charge objects for a payment;
- :mod:`.webhooks` — signed webhook deliveries to the app's view;
- :mod:`.fixtures` — pytest fixtures (users, API clients, the wired-in Stripe emulator,
  a signal log), loaded by ``tests/conftest.py``;
- :mod:`.threads` — threads of this process released together at a barrier;
- :mod:`.race` and :mod:`.webhook_worker` — several OS processes racing to deliver the
  same events (the worker runs outside the pytest process).
"""
