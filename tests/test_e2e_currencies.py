"""The demo in a real browser, in currencies other than the dollar: premium bought in euros,
a tip sent in yen, each shown in its own currency in the histories and totals.

The demo accepts usd, eur and jpy (``example_site/settings.py``); the harness is
``tests/support/browser.py``.
"""

from __future__ import annotations

import re

import pytest

from tests.support.browser import login, logout, pay, wait_for_checkout_status

pytestmark = pytest.mark.e2e


def test_premium_in_euros_and_a_tip_in_yen(demo_url, page_for):
    page, steps = page_for()
    try:
        # 1. carol picks euros on the subscription page and pays the euro price at Stripe
        login(page, demo_url, "carol")
        page.goto(f"{demo_url}/dashboard/subscription/")
        page.wait_for_selector('[data-testid="premium-status"]:has-text("Free")')
        picker = page.locator('[data-testid="premium-currency-select"]')
        picker.wait_for()
        assert [o.strip() for o in picker.locator("option").all_inner_texts()] == [
            "USD — $9.99", "EUR — €8.99", "JPY — ¥1,500",
        ]
        picker.select_option("eur")
        page.wait_for_selector('[data-testid="premium-price"]:has-text("€8.99")')
        steps.shot("premium-currency-eur")
        page.get_by_role("button", name=re.compile("Upgrade to Premium — €8.99")).click()
        page.wait_for_url(re.compile(r"/stripe-emulator/c/pay/cs_test_"))
        assert "€8.99" in page.inner_text("#total-due")
        steps.shot("hosted-checkout-eur")
        pay(page, "4242 4242 4242 4242")
        wait_for_checkout_status(page, "completed")
        assert "€8.99" in page.inner_text(".success-card")

        # 2. the receipt and the payment history show euros
        page.goto(f"{demo_url}/dashboard/subscription/")
        page.wait_for_selector('[data-testid="receipt-amount"]')
        assert page.inner_text('[data-testid="receipt-amount"]').strip() == "€8.99"
        page.goto(f"{demo_url}/dashboard/payments/")
        row = page.locator('[data-testid="payment-row"][data-type="premium"]')
        row.first.wait_for()
        assert "€8.99" in row.first.inner_text() and "$" not in row.first.inner_text()
        steps.shot("history-premium-eur")

        # 3. bob tips carol in yen: whole yen only, the yen limits, the yen total
        logout(page, demo_url)
        login(page, demo_url, "bob")
        page.goto(f"{demo_url}/dashboard/tips/")
        page.wait_for_selector('select[name="recipient"] option:has-text("@carol")', state="attached")
        label = page.locator('select[name="recipient"] option:has-text("@carol")').first.inner_text().strip()
        page.locator('select[name="recipient"]').select_option(label=label)
        page.locator('[data-testid="tip-currency-select"]').select_option("jpy")
        page.wait_for_selector('#amount-hint:has-text("Between ¥100 and ¥150,000.")')
        page.locator('input[name="amount"]').fill("500.5")
        page.get_by_role("button", name=re.compile("Send tip")).click()
        page.wait_for_selector('.field-error:has-text("JPY amounts have no decimals.")')
        page.locator('input[name="amount"]').fill("500")
        steps.shot("tip-form-jpy")
        page.get_by_role("button", name=re.compile("Send tip")).click()
        page.wait_for_url(re.compile(r"/stripe-emulator/c/pay/cs_test_"))
        assert "¥500" in page.inner_text("#total-due")
        pay(page, "4242 4242 4242 4242")
        wait_for_checkout_status(page, "completed")
        assert "¥500" in page.inner_text(".success-card")

        page.goto(f"{demo_url}/dashboard/tips/")
        sent = page.locator('[data-testid="tips-sent"] [data-testid="tip-item"][data-status="completed"]')
        sent.first.wait_for()
        assert "¥500" in sent.first.inner_text()
        total = page.locator('[data-testid="tips-sent-total-jpy"]')
        total.wait_for()
        assert total.inner_text().strip() == "¥500"
        assert page.inner_text('[data-testid="tips-sent-total"]').startswith("1 paid")
        steps.shot("tips-sent-jpy")

        # 4. carol received yen; her euro premium is not added to it anywhere
        logout(page, demo_url)
        login(page, demo_url, "carol")
        page.goto(f"{demo_url}/dashboard/tips/")
        received = page.locator('[data-testid="tips-received"] [data-testid="tip-item"]')
        received.first.wait_for()
        assert "¥500" in received.first.inner_text()
        assert page.inner_text('[data-testid="tips-received-total-jpy"]').strip() == "¥500"
        steps.shot("tips-received-jpy")
    except Exception:
        steps.shot("failure")
        raise
