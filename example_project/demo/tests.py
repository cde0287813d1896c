"""The example site's own tests: what a host site checks about its wiring of the app.

Run with ``python manage.py test demo`` (MongoDB from ``MONGODB_URI``); the
package's suite runs them in tests/test_example_site.py.
"""

import json
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import TestCase, override_settings

from django_skillswap_payments import signals
from django_skillswap_payments.documents import Payment, PaymentProfile
from django_skillswap_payments.testing.emulator import StripeEmulator
from django_skillswap_payments.testing.factories import PaymentFactory
from django_skillswap_payments.users import get_or_create_profile

from .models import Notification
from .receivers import _money


def make_user(username, first="", last=""):
    # No password: hashing one takes most of a second, and these users never log in.
    return get_user_model().objects.create_user(username, first_name=first, last_name=last)


class NotificationTextTests(TestCase):
    """Notifications write money and people the way the front end does."""

    def setUp(self):
        # MongoDB is not rolled back with the SQL test transaction.
        Payment.objects.delete()
        PaymentProfile.objects.delete()

    def test_money_is_grouped_with_the_currency_decimals(self):
        cases = [
            (100, "usd", "$1.00"),
            (999, "usd", "$9.99"),
            (100000, "usd", "$1,000.00"),
            (99999999, "usd", "$999,999.99"),
            (100000, "USD", "$1,000.00"),
            (250000, "eur", "€2,500.00"),
            (123456, "gbp", "£1,234.56"),
            (500000, "jpy", "¥500,000"),
            (1500, "krw", "KRW 1,500"),
            (1234567, "kwd", "KWD 1,234.567"),
            (100, "sek", "SEK 1.00"),
        ]
        for amount_minor, currency, expected in cases:
            with self.subTest(amount_minor=amount_minor, currency=currency):
                self.assertEqual(_money(amount_minor, currency), expected)

    def test_tip_notifications_name_people_and_format_the_amount(self):
        bob = make_user("bob", "Bob", "Brown")
        carol = make_user("carol", "Carol", "Chen")
        tip = PaymentFactory(
            tip=True,
            completed=True,
            sender=get_or_create_profile(bob),
            recipient=get_or_create_profile(carol),
            amount_minor=100000,
            message="Thanks!\nSee you Tuesday.",
        )

        signals.dispatch(tip)

        self.assertEqual(
            Notification.objects.get(user=bob, kind="tip_sent").text,
            "You tipped Carol Chen $1,000.00.",
        )
        self.assertEqual(
            Notification.objects.get(user=carol, kind="tip_received").text,
            "Bob Brown tipped you $1,000.00: “Thanks!\nSee you Tuesday.”",
        )

    def test_a_user_without_a_full_name_is_named_by_username(self):
        dave = make_user("dave")
        erin = make_user("erin")
        tip = PaymentFactory(
            tip=True,
            completed=True,
            sender=get_or_create_profile(dave),
            recipient=get_or_create_profile(erin),
            amount_minor=500,
            message="",
        )
        signals.dispatch(tip)
        self.assertEqual(Notification.objects.get(user=dave).text, "You tipped erin $5.00.")
        self.assertEqual(Notification.objects.get(user=erin).text, "dave tipped you $5.00.")

    def test_premium_failure_and_refund_notifications_format_the_amount(self):
        alice = make_user("alice", "Alice", "Anders")
        profile = get_or_create_profile(alice)
        signals.dispatch(PaymentFactory(sender=profile, completed=True, amount_minor=123456))
        signals.dispatch(PaymentFactory(sender=profile, failed=True, amount_minor=123456))
        signals.dispatch(PaymentFactory(sender=profile, refunded=True, amount_minor=123456))
        texts = {n.kind: n.text for n in Notification.objects.filter(user=alice)}
        self.assertEqual(texts["premium"], "Welcome to Premium! We received $1,234.56.")
        self.assertIn("Your Premium payment of $1,234.56 failed", texts["failed"])
        self.assertEqual(texts["refunded"], "Your Premium payment of $1,234.56 was refunded.")

    def test_a_declined_card_invites_another_try_and_an_ended_checkout_says_why(self):
        bob = make_user("bob")
        profile = get_or_create_profile(bob)
        declined = PaymentFactory(sender=profile, failed=True, failure_final=False)
        signals.dispatch(declined)
        declined.status, declined.failure_reason, declined.failure_final = "expired", "checkout_canceled", None
        signals.dispatch(declined)
        signals.dispatch(PaymentFactory(sender=profile, completed=True, duplicate_of=declined.id))
        signals.dispatch(PaymentFactory(sender=profile, refunded=True, duplicate_of=declined.id))
        texts = {n.kind: n.text for n in Notification.objects.filter(user=bob)}
        self.assertEqual(
            texts["declined"],
            "Your card was declined. Your Premium payment of $9.99 can still go through: "
            "try again on the same checkout page.",
        )
        self.assertEqual(texts["failed"], "Your Premium payment of $9.99 was not completed: the checkout was canceled.")
        # A second premium payment grants nothing, and its refund takes nothing away.
        self.assertNotIn("premium", texts)
        self.assertEqual(texts["refunded"], "You paid for Premium twice; we refunded the second payment of $9.99.")


UNKNOWN_PAGES = ["/no-such-page/", "/no-such-page", "/dashboard/nope/", "/a/b/c.txt", "/.env", "/admin/"]
UNKNOWN_API = ["/api/nope/", "/api/payments/nope/", "/api/payments/", "/api/auth/nope"]


class NotFoundTests(TestCase):
    """Unknown addresses get the site's own 404, never Django's debug page listing every URL."""

    def setUp(self):
        self.export = Path(tempfile.mkdtemp())
        (self.export / "404.html").write_text("<h1>Page not found</h1><!-- front-end export -->")

    def assert_front_end_404(self, path):
        response = self.client.get(path)
        self.assertEqual(response.status_code, 404, path)
        body = response.content.decode()
        self.assertIn("front-end export", body, path)
        self.assertNotIn("URLconf", body, path)

    def assert_json_404(self, path):
        response = self.client.get(path)
        self.assertEqual(response.status_code, 404, path)
        self.assertEqual(response["Content-Type"], "application/json", path)
        self.assertEqual(response.json()["error"], "Not found", path)
        self.assertIn("message", response.json())

    def test_unknown_pages_show_the_front_ends_404(self):
        for debug in (False, True):
            with override_settings(DEBUG=debug, FRONTEND_EXPORT_DIR=self.export):
                for path in UNKNOWN_PAGES:
                    with self.subTest(path=path, debug=debug):
                        self.assert_front_end_404(path)

    def test_unknown_api_paths_answer_json(self):
        for debug in (False, True):
            with override_settings(DEBUG=debug, FRONTEND_EXPORT_DIR=self.export):
                for path in UNKNOWN_API:
                    with self.subTest(path=path, debug=debug):
                        self.assert_json_404(path)

    def test_without_a_built_front_end_the_404_is_still_plain(self):
        with override_settings(DEBUG=True, FRONTEND_EXPORT_DIR=self.export / "missing"):
            response = self.client.get("/no-such-page/")
        self.assertEqual(response.status_code, 404)
        self.assertIn(b"Page not found", response.content)
        self.assertNotIn(b"URLconf", response.content)


def session_form():
    return urlencode(
        {
            "mode": "payment",
            "line_items[0][quantity]": "1",
            "line_items[0][price_data][currency]": "usd",
            "line_items[0][price_data][unit_amount]": "999",
            "line_items[0][price_data][product_data][name]": "SkillSwap Premium",
            "success_url": "http://127.0.0.1/dashboard/payments/success/",
            "cancel_url": "http://127.0.0.1/dashboard/payments/cancel/",
        }
    )


class MountedEmulatorTests(TestCase):
    """The emulator mounted in the demo acts as the site's own Stripe account."""

    sessions_url = f"/{settings.STRIPE_EMULATOR_PREFIX}/v1/checkout/sessions"

    def call(self, method, key, body=""):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
        if method == "GET":
            return self.client.get(self.sessions_url, **headers)
        return self.client.post(
            self.sessions_url, body, content_type="application/x-www-form-urlencoded", **headers
        )

    @property
    def site_key(self):
        return settings.SKILLSWAP_PAYMENTS["STRIPE_SECRET_KEY"]

    def test_the_site_key_is_generated_per_machine_not_shipped(self):
        self.assertTrue(self.site_key.startswith("sk_test_"))
        self.assertNotEqual(self.site_key, "sk_test_emulator")
        self.assertGreaterEqual(len(self.site_key), 40)

    def test_only_the_sites_key_is_answered(self):
        created = self.call("POST", self.site_key, session_form())
        self.assertEqual(created.status_code, 200, created.content)
        foreign_keys = [
            "sk_test_emulator",
            "sk_test_" + "x" * 40,
            "rk_test_anything",
            self.site_key + "x",
            self.site_key[:-1],
            "sk_live_" + self.site_key[len("sk_test_") :],
            "",
        ]
        for key in foreign_keys:
            for method in ("GET", "POST"):
                with self.subTest(key=key, method=method):
                    response = self.call(method, key, session_form())
                    self.assertEqual(response.status_code, 401, response.content)
                    error = json.loads(response.content)["error"]
                    self.assertEqual(error["type"], "invalid_request_error")
                    self.assertNotIn(created.json()["id"], response.content.decode())

        listed = self.call("GET", self.site_key)
        self.assertEqual([s["id"] for s in listed.json()["data"]][:1], [created.json()["id"]])

    def test_the_account_is_kept_in_the_var_directory(self):
        from .stripe_emulator import emulator

        self.assertEqual(emulator.state_file, Path(settings.VAR_DIR) / "stripe-emulator.json")
        created = self.call("POST", self.site_key, session_form()).json()
        # A restarted demo builds its emulator from the same file.
        restarted = StripeEmulator(api_keys=[self.site_key], state_file=emulator.state_file)
        self.assertEqual(restarted.get(created["id"])["status"], "open")
