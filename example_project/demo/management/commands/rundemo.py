"""Start the whole demo in one process: MongoDB, the API, the front end, Stripe (or its emulator).

With no ``MONGODB_URI`` a local MongoDB wire server is started as a child
process, keeping its data in ``example_project/var/mongo.sqlite3`` so purchases
survive restarts.  With no Stripe keys the Stripe emulator shipped in the
package is mounted on this server at ``/stripe-emulator/`` and delivers signed
webhooks back to ``/api/payments/webhook/``; its account is kept in
``example_project/var/stripe-emulator.json`` and holds the demo's promotion codes
(:data:`DEMO_PROMOTION_CODES`).  Ctrl-C stops everything started here.
"""

import io
import os
import signal

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from django_skillswap_payments.testing.mongo import LocalMongoServer, with_database

DEMO_DATABASE = "skillswap_demo"
# Promotion codes the emulator offers on the premium Checkout page: code → percent off.
DEMO_PROMOTION_CODES = {"WELCOME20": 20, "FREEPREMIUM": 100}


class Command(BaseCommand):
    help = "Run the example site with embedded defaults (local MongoDB, Stripe emulator)."
    # The MongoDB check can only pass once the local server below is running; runserver
    # runs every check again after that.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=settings.DEMO_PORT)

    def handle(self, *args, port, **options):
        _stop_on_interrupt_or_terminate()
        if port != settings.DEMO_PORT:
            # The emulator's API base and the webhook target are derived from DEMO_PORT.
            self.stderr.write("Use DEMO_PORT to change the port (settings derive URLs from it).")
            port = settings.DEMO_PORT
        mongo = None
        if os.environ.get("MONGODB_URI"):
            mongo_mode = "MongoDB at $MONGODB_URI"
        else:
            settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
            mongo = LocalMongoServer(sqlite_path=settings.VAR_DIR / "mongo.sqlite3")
            os.environ["MONGODB_URI"] = with_database(mongo.start(), DEMO_DATABASE)
            mongo_mode = f"local MongoDB wire server (data in {settings.VAR_DIR / 'mongo.sqlite3'})"
        try:
            call_command("migrate", interactive=False, verbosity=0)
            call_command("payments_ensure_indexes", stdout=io.StringIO())
            if settings.STRIPE_EMULATED:
                _seed_promotion_codes()
            self._banner(port, mongo_mode)
            call_command("seed_demo_users")
            self.stdout.write("")
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
        finally:
            if mongo is not None:
                mongo.stop()

    def _banner(self, port, mongo_mode):
        if settings.STRIPE_EMULATED:
            stripe_mode = (
                f"Stripe EMULATOR at {settings.DEMO_BASE_URL}/{settings.STRIPE_EMULATOR_PREFIX}/ "
                "(no Stripe account needed; test card 4242 4242 4242 4242; "
                f"account kept in {settings.STRIPE_EMULATOR_STATE_FILE})"
            )
        else:
            key = settings.SKILLSWAP_PAYMENTS.get("STRIPE_SECRET_KEY") or os.environ.get("STRIPE_SECRET_KEY", "")
            live = key.startswith(("sk_live_", "rk_live_"))
            stripe_mode = "Stripe LIVE mode: real money!" if live else "real Stripe TEST mode (your keys)"
        frontend = settings.FRONTEND_EXPORT_DIR
        lines = [
            "",
            "SkillSwap payments demo",
            f"  Open      http://127.0.0.1:{port}/",
            f"  Stripe    {stripe_mode}",
            f"  MongoDB   {mongo_mode}",
            "  Debug     ON (DJANGO_DEBUG=1): error pages show settings and code; keep it local"
            if settings.DEBUG
            else "  Debug     off (DJANGO_DEBUG=1 turns on Django's debug pages)",
        ]
        if settings.STRIPE_EMULATED:
            codes = ", ".join(f"{code} ({off}% off)" for code, off in DEMO_PROMOTION_CODES.items())
            lines.append(f"  Codes     {codes} on the premium Checkout page")
        if not frontend.is_dir():
            lines.append(f"  Front end NOT BUILT ({frontend} missing): run scripts/demo to build it")
        lines.append("  Logins (seeded just below):")
        self.stdout.write("\n".join(lines))


def _seed_promotion_codes() -> None:
    """Create the demo's codes in the emulator's account unless they are there already."""
    from demo.stripe_emulator import emulator

    for code, percent_off in DEMO_PROMOTION_CODES.items():
        emulator.seed_promotion_code(code, percent_off=percent_off)


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


def _stop_on_interrupt_or_terminate() -> None:
    """Make Ctrl-C and SIGTERM both unwind through ``finally``, so child processes are stopped.

    A shell may start the demo with SIGINT ignored, and Python's default for SIGTERM is to die
    on the spot; either would leave the local MongoDB server running.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
