"""Command line: run the emulator as an HTTP server.

::

    python -m django_skillswap_payments.testing.emulator --port 12111 \\
        --webhook http://127.0.0.1:8000/api/payments/webhook/ --webhook-secret whsec_demo

Then point the app at it: ``STRIPE_API_BASE=http://127.0.0.1:12111`` and
``STRIPE_SECRET_KEY=sk_test_<anything>``, and use the same webhook secret.
``--promotion-code WELCOME20=20%`` (or ``FIVEOFF=500usd``, an amount in minor
units) makes a promotion code with its coupon at start, unless one is active.
"""

from __future__ import annotations

import argparse
import re
import secrets
import signal
import sys
from decimal import Decimal
from typing import Any

from .errors import StripeError
from .server import EmulatorServer
from .state import StripeEmulator


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m django_skillswap_payments.testing.emulator",
        description="Run a local Stripe emulator (API, hosted checkout pages, signed webhooks).",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=12111,
        help="port to listen on; 0 picks a free one (default: 12111)",
    )
    parser.add_argument(
        "--public-url",
        help="base URL browsers use to reach the emulator, if not the one API requests arrive on",
    )
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        help="accept only this secret key (repeatable; default: any sk_test_ key)",
    )
    parser.add_argument(
        "--webhook",
        action="append",
        default=[],
        metavar="URL",
        help="deliver events to URL (repeatable)",
    )
    parser.add_argument(
        "--webhook-secret",
        action="append",
        default=[],
        metavar="WHSEC",
        help="signing secret; give one for all webhooks or one per --webhook (default: generated and printed)",
    )
    parser.add_argument(
        "--events", default="*", help="comma-separated event types to deliver (default: all)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="deliver every event N times")
    parser.add_argument(
        "--shuffle", action="store_true", help="shuffle the deliveries of each batch of events"
    )
    parser.add_argument(
        "--delay", type=float, default=0.0, help="wait SECONDS before delivering each batch"
    )
    parser.add_argument(
        "--drop",
        action="append",
        default=[],
        metavar="TYPE_OR_ID",
        help="never deliver this event type or id (repeatable)",
    )
    parser.add_argument(
        "--max-attempts",
        type=int,
        default=3,
        help="tries per delivery before giving up (default: 3)",
    )
    parser.add_argument(
        "--backoff",
        type=float,
        default=0.5,
        help="seconds before the first retry, doubled after (default: 0.5)",
    )
    parser.add_argument(
        "--state-file",
        metavar="PATH",
        help="keep the account (sessions, payments, events, idempotency keys) in this JSON file "
        "across restarts (default: in memory only)",
    )
    parser.add_argument(
        "--promotion-code",
        action="append",
        default=[],
        type=_promotion_code,
        metavar="CODE=OFF",
        help="create this promotion code at start: CODE=20%% (percent off) or CODE=500usd "
        "(amount off, in minor units); kept if already active (repeatable)",
    )
    parser.add_argument("--seed", type=int, help="seed for generated ids and shuffling")
    parser.add_argument("--verbose", action="store_true", help="log every HTTP request")
    return parser


_PROMOTION_CODE = re.compile(r"([A-Za-z0-9-]+)=(?:(\d{1,3}(?:\.\d{1,2})?)%|(\d+)([A-Za-z]{3}))")


def _promotion_code(text: str) -> dict[str, Any]:
    match = _PROMOTION_CODE.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"expected CODE=20% or CODE=500usd, got {text!r}")
    code, percent, amount, currency = match.groups()
    if percent is not None:
        return {"code": code, "percent_off": Decimal(percent)}
    return {"code": code, "amount_off": int(amount), "currency": currency.lower()}


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    secrets_given = args.webhook_secret
    if len(secrets_given) > 1 and len(secrets_given) != len(args.webhook):
        parser.error("give one --webhook-secret for all webhooks, or exactly one per --webhook")

    emulator = StripeEmulator(
        api_keys=args.api_key or None,
        public_url=args.public_url,
        seed=args.seed,
        state_file=args.state_file,
    )
    emulator.webhooks.configure(
        repeat=args.repeat,
        shuffle=args.shuffle,
        delay=args.delay,
        drop=frozenset(args.drop),
        max_attempts=args.max_attempts,
        backoff=args.backoff,
    )
    enabled = [name.strip() for name in args.events.split(",") if name.strip()] or ["*"]
    generated_secret = None
    for index, url in enumerate(args.webhook):
        if secrets_given:
            secret = secrets_given[index] if len(secrets_given) > 1 else secrets_given[0]
        else:
            generated_secret = generated_secret or "whsec_" + secrets.token_hex(24)
            secret = generated_secret
        emulator.add_webhook_endpoint(url, secret, enabled_events=enabled)
    for promotion in args.promotion_code:
        try:
            created = emulator.seed_promotion_code(**promotion)
        except StripeError as exc:
            parser.error(f"--promotion-code {promotion['code']}: {exc.body()['error']['message']}")
        print(f"Promotion code {created['code']} ({created['id']})", flush=True)

    server = EmulatorServer(emulator, host=args.host, port=args.port, verbose=args.verbose)
    server.start()
    print(f"Stripe emulator listening on {server.base_url}", flush=True)
    for endpoint in emulator.webhooks.endpoints:
        print(f"Delivering webhooks to {endpoint.url}", flush=True)
    if generated_secret:
        print(f"Webhook signing secret: {generated_secret}", flush=True)

    # SIGTERM (from a process manager or a test fixture) stops as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
