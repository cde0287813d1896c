"""Testing toolkit: a Stripe emulator, signed-webhook helpers, factories and a pytest plugin.

* :mod:`.emulator` -- :class:`~.emulator.StripeEmulator`, an in-memory Stripe
  for the slice of the API the app uses, reachable in-process
  (``emulator.http_client()``), over HTTP (:class:`~.emulator.EmulatorServer`,
  ``python -m django_skillswap_payments.testing.emulator``) or mounted in Django
  (:func:`~.emulator.django_urls`);
* :mod:`.webhooks` -- ``sign_payload``, ``build_signed_event``, ``send_webhook``;
* :mod:`.factories` -- factory-boy factories for the documents (``[testing]`` extra);
* :mod:`.pytest_plugin` -- fixtures ``stripe_emulator``, ``stripe_emulator_server``,
  ``payments_settings``, ``emulator_webhooks``, ``signed_webhook`` and friends;
* :mod:`.mongo` -- a local MongoDB wire server for tests and demos.

Submodules are imported on demand so that using one part never requires the
optional dependencies of another.
"""
