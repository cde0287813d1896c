"""Premium bought with a promotion code, clicked through the demo in a real browser.

The demo turns ``ALLOW_PROMOTION_CODES`` on and ``rundemo`` seeds ``WELCOME20``
(20% off) in its Stripe emulator; the hosted checkout page refuses an unknown
code, applies ``WELCOME20`` and charges $7.99, which the subscription page's
receipt and the payment history then show.
"""

from __future__ import annotations

import re

import pytest

from tests.support.browser import login, pay, wait_for_checkout_status

pytestmark = pytest.mark.e2e


def _apply_code(page, code: str) -> None:
    page.fill("#promotionCode", code)
    page.click("#apply-code")
    page.wait_for_load_state()


def test_premium_with_a_promotion_code(demo_url, page_for):
    page, steps = page_for()
    login(page, demo_url, "alice")
    page.goto(f"{demo_url}/dashboard/subscription/")
    page.wait_for_selector('[data-testid="premium-status"]')
    page.get_by_role("button", name=re.compile("Upgrade to Premium")).click()
    page.wait_for_url(re.compile(r"/stripe-emulator/c/pay/cs_test_"))
    page.wait_for_selector("#promotion-form")
    assert "Pay $9.99" in page.inner_text("#submit")

    _apply_code(page, "NOT-A-CODE")
    page.wait_for_selector("#promotion-errors")
    assert page.inner_text("#promotion-errors").strip() == "This code is invalid."
    assert "Pay $9.99" in page.inner_text("#submit")
    steps.shot("promo-code-refused")

    _apply_code(page, "welcome20")
    page.wait_for_selector("#discount")
    assert page.inner_text("#discount").strip() == "-$2.00"
    assert "Pay $7.99" in page.inner_text("#submit")
    steps.shot("promo-code-applied")

    pay(page, "4242 4242 4242 4242")
    wait_for_checkout_status(page, "completed")
    steps.shot("promo-payment-success")

    page.goto(f"{demo_url}/dashboard/subscription/")
    page.wait_for_selector('[data-testid="premium-status"]:has-text("Premium")')
    page.wait_for_selector('[data-testid="receipt-amount"]')
    assert "$7.99" in page.inner_text('[data-testid="receipt-amount"]')

    page.goto(f"{demo_url}/dashboard/payments/")
    row = page.locator('[data-testid="payment-row"][data-type="premium"]')
    row.wait_for()
    assert row.count() == 1 and "7.99" in row.inner_text()
    steps.shot("promo-history")


def test_premium_in_a_second_currency_with_a_promotion_code(demo_url, page_for):
    page, steps = page_for()
    login(page, demo_url, "bob")
    page.goto(f"{demo_url}/dashboard/subscription/")
    page.wait_for_selector('[data-testid="premium-status"]:has-text("Free")')
    page.locator('[data-testid="premium-currency-select"]').select_option("eur")
    page.wait_for_selector('[data-testid="premium-price"]:has-text("€8.99")')
    page.get_by_role("button", name=re.compile("Upgrade to Premium")).click()
    page.wait_for_url(re.compile(r"/stripe-emulator/c/pay/cs_test_"))
    page.wait_for_selector("#promotion-form")
    assert "€8.99" in page.inner_text("#submit")

    _apply_code(page, "WELCOME20")
    page.wait_for_selector("#discount")
    # 20% of €8.99 is 179.8 cents: Stripe rounds the discount to 180.
    assert page.inner_text("#discount").strip() == "-€1.80"
    assert "€7.19" in page.inner_text("#submit")
    steps.shot("promo-code-eur")
    pay(page, "4242 4242 4242 4242")
    wait_for_checkout_status(page, "completed")

    page.goto(f"{demo_url}/dashboard/subscription/")
    page.wait_for_selector('[data-testid="premium-status"]:has-text("Premium")')
    assert page.inner_text('[data-testid="receipt-amount"]').strip() == "€7.19"
    page.goto(f"{demo_url}/dashboard/payments/")
    row = page.locator('[data-testid="payment-row"][data-type="premium"]')
    row.first.wait_for()
    assert "€7.19" in row.first.inner_text()
    steps.shot("promo-history-eur")
