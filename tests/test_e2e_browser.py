"""The demo, clicked through in a real browser.

Runs ``manage.py rundemo`` of the example project as a separate process (the
built Next.js export served by Django, the real API, the Stripe emulator's
hosted checkout page and its signed webhooks) against this session's MongoDB
server, and drives Debian's Chromium through it with Playwright.  Screenshots
of every step land in ``test-artifacts/e2e/``. The harness (the demo process,
the browser, login and card steps) is in ``tests/support/browser.py``.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request

import pytest

from tests.support.browser import (
    login,
    logout,
    pay,
    wait_for_checkout_status,
)

pytestmark = pytest.mark.e2e


LOCAL_TODAY_JS = """() => {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}"""
TIP_MESSAGE = "Thanks for the Django session!\nSee you next week."
# Far ahead of and far behind UTC: at any hour of the day, "today" in at least
# one of them is not today in UTC.
FAR_TIME_ZONES = ["Pacific/Kiritimati", "Pacific/Pago_Pago"]


def _premium_checkout_starts(page) -> list[str]:
    """Record every request that starts a premium checkout."""
    starts: list[str] = []
    page.on(
        "request",
        lambda request: starts.append(request.url)
        if request.method == "POST" and "/premium/create-checkout/" in request.url
        else None,
    )
    return starts


def _filter_history_by_day(page, demo_url: str, day: str) -> None:
    page.goto(f"{demo_url}/dashboard/payments/")
    page.wait_for_selector('form[aria-label="Filter payments"]')
    page.fill('input[name="created_from"]', day)
    page.fill('input[name="created_to"]', day)
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_selector(
        '[data-testid="payment-row"], .empty-title:has-text("No payments match these filters")'
    )


def test_premium_and_tip_click_through(demo_url, page_for):
    page, steps = page_for()
    try:
        # 1. log in (a failed attempt first: its error shows once and does not follow the user)
        page.goto(f"{demo_url}/login/")
        page.locator('input[name="username"]').fill("alice")
        page.locator('input[name="password"]').fill("not-the-password")
        page.get_by_role("button", name=re.compile("log in", re.I)).click()
        page.wait_for_selector('[data-testid="error"]')
        page.wait_for_timeout(300)
        assert page.locator('[data-testid="error"]').count() == 1
        assert page.locator('[data-testid="toast"]').count() == 0
        steps.shot("login-failed")
        login(page, demo_url, "alice")
        page.goto(f"{demo_url}/dashboard/subscription/")
        page.wait_for_selector('[data-testid="premium-status"]')
        assert page.locator('[data-testid="toast"]').count() == 0
        assert page.inner_text('[data-testid="premium-status"]').strip() == "Free"
        steps.shot("subscription-free")

        # 2. Back from the hosted checkout returns to the subscription page, starting nothing
        starts = _premium_checkout_starts(page)
        page.get_by_role("button", name=re.compile("Upgrade to Premium")).click()
        page.wait_for_url(re.compile(r"/stripe-emulator/c/pay/cs_test_"))
        assert len(starts) == 1
        page.go_back()
        page.wait_for_url(re.compile(r"/dashboard/subscription/$"))
        page.wait_for_selector('[data-testid="premium-status"]')
        page.wait_for_timeout(1500)
        assert re.search(r"/dashboard/subscription/$", page.url), page.url
        assert len(starts) == 1, starts
        steps.shot("back-from-checkout")

        # 3. upgrade with 4242, land on the success page, see premium
        page.get_by_role("button", name=re.compile("Upgrade to Premium")).click()
        page.wait_for_url(re.compile(r"/stripe-emulator/c/pay/cs_test_"))
        assert "$9.99" in page.content()
        steps.shot("hosted-checkout-premium")
        pay(page, "4242 4242 4242 4242")
        wait_for_checkout_status(page, "completed")
        session_id = page.inner_text('[data-testid="session-id"]').strip()
        assert session_id.startswith("cs_test_")
        steps.shot("payment-success")
        page.get_by_role("link", name=re.compile("Go to Subscription Settings")).click()
        page.wait_for_url(re.compile(r"/dashboard/subscription/?$"))
        page.wait_for_selector('[data-testid="premium-status"]:has-text("Premium")')
        page.wait_for_selector('[data-testid="manage-card"]')
        assert "$9.99" in page.inner_text('[data-testid="receipt-amount"]')
        steps.shot("subscription-premium")

        # 4. a second upgrade is refused
        page.goto(f"{demo_url}/dashboard/subscription/create/")
        page.wait_for_selector('[data-testid="error"]:has-text("User already has premium access")')
        steps.shot("second-upgrade-refused")

        # 5. From = To = today lists today's payment; yesterday lists nothing
        today = page.evaluate(LOCAL_TODAY_JS)
        _filter_history_by_day(page, demo_url, today)
        assert page.locator('[data-testid="payment-row"][data-type="premium"]').count() == 1
        steps.shot("history-today")
        yesterday = page.evaluate(LOCAL_TODAY_JS.replace("new Date()", "new Date(Date.now() - 86400000)"))
        _filter_history_by_day(page, demo_url, yesterday)
        assert page.locator('[data-testid="payment-row"]').count() == 0

        # 6. another user tips: declined card first, then 4242; the message keeps its lines
        logout(page, demo_url)
        login(page, demo_url, "bob")
        page.goto(f"{demo_url}/dashboard/tips/")
        recipient = page.locator('select[name="recipient"]')
        recipient.wait_for()
        page.wait_for_selector('select[name="recipient"] option:has-text("@carol")', state="attached")
        recipient.select_option(label=_option_label(page, "@carol"))
        page.locator('input[name="amount"]').fill("5.00")
        page.locator('[name="message"]').fill(TIP_MESSAGE)
        steps.shot("tip-form")
        page.get_by_role("button", name=re.compile("Send tip")).click()
        page.wait_for_url(re.compile(r"/stripe-emulator/c/pay/cs_test_"))
        pay(page, "4000 0000 0000 0002")
        page.wait_for_selector("#card-errors")
        assert "declined" in page.inner_text("#card-errors").lower()
        steps.shot("tip-card-declined")
        pay(page, "4242 4242 4242 4242")
        wait_for_checkout_status(page, "completed")
        # The success page says who was tipped.
        page.wait_for_selector('[data-testid="tip-recipient"]:has-text("Carol Chen")')
        assert "to Carol Chen" in page.inner_text(".success-card")
        steps.shot("tip-success")

        page.goto(f"{demo_url}/dashboard/tips/")
        sent = page.locator('[data-testid="tips-sent"] [data-testid="tip-item"][data-status="completed"]')
        sent.first.wait_for()
        assert "5.00" in sent.first.inner_text()
        assert TIP_MESSAGE in sent.first.inner_text()
        steps.shot("tips-sender-history")

        # 7. the site's notifications write names and grouped money, like the pages
        page.goto(f"{demo_url}/dashboard/")
        page.wait_for_selector('[data-testid="notifications"]')
        assert "You tipped Carol Chen $5.00." in page.inner_text('[data-testid="notifications"]')

        # 8. the recipient sees the tip, from the dashboard's "tips received" link
        logout(page, demo_url)
        login(page, demo_url, "carol")
        page.goto(f"{demo_url}/dashboard/")
        page.wait_for_selector('[data-testid="tips-received-count"]:has-text("1")')
        page.get_by_role("link", name=re.compile("tips received", re.I)).click()
        page.wait_for_url(re.compile(r"/dashboard/tips/#received$"))
        received = page.locator('[data-testid="tips-received"] [data-testid="tip-item"]')
        received.first.wait_for()
        assert "5.00" in received.first.inner_text()
        assert TIP_MESSAGE in received.first.inner_text()
        steps.shot("tips-recipient-history")
    except Exception:
        steps.shot("failure")
        raise


@pytest.mark.parametrize("time_zone", FAR_TIME_ZONES)
def test_history_of_today_in_the_users_time_zone(demo_url, page_for, time_zone):
    """From = To = today is the user's today, whatever the day is in UTC.

    Lists alice's premium payment, made in the click-through above (tests run in file order).
    """
    page, steps = page_for(timezone_id=time_zone)
    try:
        login(page, demo_url, "alice")
        today = page.evaluate(LOCAL_TODAY_JS)
        _filter_history_by_day(page, demo_url, today)
        assert page.locator('[data-testid="payment-row"][data-type="premium"]').count() == 1
    except Exception:
        steps.shot(f"failure-history-{time_zone.replace('/', '-')}")
        raise


def test_a_cancelled_checkout_is_shown_as_expired(demo_url, page_for):
    """Cancel on the hosted page: the cancel page expires the checkout; nothing stays "Pending".

    Needs ``POST /api/payments/checkout/<session_id>/cancel/``.
    """
    page, steps = page_for()
    try:
        login(page, demo_url, "carol")
        page.goto(f"{demo_url}/dashboard/tips/")
        page.locator('select[name="recipient"] option:has-text("@bob")').wait_for(state="attached")
        page.locator('select[name="recipient"]').select_option(label=_option_label(page, "@bob"))
        page.locator('input[name="amount"]').fill("2.50")
        page.get_by_role("button", name=re.compile("Send tip")).click()
        page.wait_for_url(re.compile(r"/stripe-emulator/c/pay/cs_test_"))
        page.click("#cancel")
        page.wait_for_url(re.compile(r"/dashboard/payments/cancel/"))
        page.wait_for_selector('[data-testid="cancel-card"] [data-testid="checkout-status"][data-status="expired"]')
        assert "$2.50" in page.inner_text('[data-testid="cancel-card"]')
        steps.shot("checkout-cancelled")

        page.goto(f"{demo_url}/dashboard/tips/")
        first_sent = page.locator('[data-testid="tips-sent"] [data-testid="tip-item"]').first
        first_sent.wait_for()
        assert first_sent.get_attribute("data-status") == "expired"
        assert "Expired" in first_sent.inner_text()
        paid = page.locator('[data-testid="tips-sent"] [data-testid="tip-item"][data-status="completed"]').count()
        assert page.inner_text('[data-testid="tips-sent-total"]').startswith(f"{paid} paid")
        steps.shot("tips-cancelled-expired")

        page.goto(f"{demo_url}/dashboard/payments/")
        first_row = page.locator('[data-testid="payment-row"]').first
        first_row.wait_for()
        assert first_row.get_attribute("data-status") == "expired"
        assert "Pending" not in page.inner_text('[data-testid="payments-table"]')
        steps.shot("history-cancelled-expired")
    except Exception:
        steps.shot("failure-cancel")
        raise


def test_unknown_pages_and_confirmations(demo, page_for):
    page, steps = page_for()
    try:
        response = page.goto(f"{demo.url}/no-such-page/")
        assert response.status == 404
        page.wait_for_selector("h1:has-text('Page not found')")
        assert "URLconf" not in page.content()
        steps.shot("not-found")

        # A session that is not the user's: one clear answer, no endless "Confirming…"
        login(page, demo.url, "bob")
        page.goto(f"{demo.url}/dashboard/payments/success/?session_id=cs_test_{'x' * 58}")
        page.wait_for_selector('[data-testid="checkout-status"][data-status="unknown"]')
        page.wait_for_timeout(300)
        assert "Confirming" not in page.inner_text("main")
        assert page.locator('[data-testid="error"]').count() == 1
        assert page.locator('[data-testid="toast"]').count() == 0
        steps.shot("success-unknown-session")
    except Exception:
        steps.shot("failure-unknown")
        raise

    # The mounted emulator answers the demo's own key only.
    def list_sessions(key: str) -> int:
        request = urllib.request.Request(
            f"{demo.url}/stripe-emulator/v1/checkout/sessions",
            headers={"Authorization": f"Bearer {key}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status
        except urllib.error.HTTPError as exc:
            return exc.code

    assert list_sessions(demo.stripe_key) == 200
    for key in ("sk_test_emulator", "sk_test_" + "a" * 32, "rk_test_x"):
        assert list_sessions(key) == 401


def test_an_open_checkout_survives_a_demo_restart(demo, page_for):
    """The emulator keeps its account in the var directory, as Stripe keeps it."""
    page, steps = page_for()
    try:
        login(page, demo.url, "alice")
        page.goto(f"{demo.url}/dashboard/tips/")
        page.locator('select[name="recipient"] option:has-text("@bob")').wait_for(state="attached")
        page.locator('select[name="recipient"]').select_option(label=_option_label(page, "@bob"))
        page.locator('input[name="amount"]').fill("3.00")
        page.get_by_role("button", name=re.compile("Send tip")).click()
        page.wait_for_url(re.compile(r"/stripe-emulator/c/pay/cs_test_"))
        hosted_page = page.url

        demo.restart()

        page.goto(hosted_page)
        pay(page, "4242 4242 4242 4242")
        wait_for_checkout_status(page, "completed")
        steps.shot("paid-after-restart")
    except Exception:
        steps.shot("failure-restart")
        raise


def _option_label(page, username_marker: str) -> str:
    """The full text of the recipient option whose label contains ``username_marker``."""
    return page.locator(f'select[name="recipient"] option:has-text("{username_marker}")').first.inner_text().strip()
