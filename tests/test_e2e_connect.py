"""Stripe Connect in the demo, clicked through in a real browser: a recipient onboards on the
emulator's hosted page (first leaving it unfinished), is tipped, and both sides see the payout.

The harness (the demo process, the browser, login and card steps) is in ``tests/support/browser.py``.
"""

from __future__ import annotations

import re

import pytest

from tests.support.browser import login, logout, pay, wait_for_checkout_status

pytestmark = pytest.mark.e2e


def _payout_state(page, text: str) -> None:
    page.wait_for_selector(f'[data-testid="payout-state"]:has-text("{text}")')


def test_recipient_onboards_is_tipped_and_paid_out(demo_url, page_for):
    page, steps = page_for()

    # 1. the recipient starts onboarding and leaves it unfinished
    login(page, demo_url, "carol")
    page.goto(f"{demo_url}/dashboard/get-paid/")
    _payout_state(page, "Not set up")
    steps.shot("get-paid-not-set-up")
    page.click("#connect-onboard")
    page.wait_for_url(re.compile(r"/stripe-emulator/connect/onboard/"))
    steps.shot("onboarding-page")
    page.click("#leave-incomplete")
    page.wait_for_url(re.compile(r"/dashboard/get-paid/\?onboarding=returned"))
    _payout_state(page, "Onboarding not finished")
    assert "external_account" in page.inner_text('[data-testid="payout-account"]')
    account_id = page.inner_text('[data-testid="account-id"]').strip()
    assert account_id.startswith("acct_")

    # 2. ... then finishes it with a fresh link, on the same account
    page.click("#connect-onboard")
    page.wait_for_url(re.compile(r"/stripe-emulator/connect/onboard/"))
    page.click("#submit-onboarding")
    page.wait_for_url(re.compile(r"/dashboard/get-paid/\?onboarding=returned"))
    _payout_state(page, "Ready to receive tips")
    assert page.inner_text('[data-testid="account-id"]').strip() == account_id
    steps.shot("get-paid-ready")

    # 3. a member tips them; the sender sees the tip paid out to the recipient
    logout(page, demo_url)
    login(page, demo_url, "alice")
    page.goto(f"{demo_url}/dashboard/tips/")
    page.wait_for_selector('select[name="recipient"] option:has-text("@carol")', state="attached")
    label = page.locator('select[name="recipient"] option:has-text("@carol")').inner_text().strip()
    page.locator('select[name="recipient"]').select_option(label=label)
    page.locator('input[name="amount"]').fill("5.00")
    page.get_by_role("button", name=re.compile("Send tip")).click()
    page.wait_for_url(re.compile(r"/stripe-emulator/c/pay/cs_test_"))
    pay(page, "4242 4242 4242 4242")
    wait_for_checkout_status(page, "completed")
    page.goto(f"{demo_url}/dashboard/tips/")
    sent = page.locator('[data-testid="tips-sent"] [data-testid="tip-item"][data-status="completed"]')
    sent.first.wait_for()
    assert sent.first.locator('[data-testid="tip-payout"]').inner_text().strip() == "Paid out to the recipient"
    steps.shot("sender-sees-payout")

    # 4. the recipient sees what they were paid: the tip less the platform's 10 %
    logout(page, demo_url)
    login(page, demo_url, "carol")
    page.goto(f"{demo_url}/dashboard/get-paid/")
    item = page.locator('[data-testid="payout-item"][data-payout="paid_out"]')
    item.first.wait_for()
    assert item.count() == 1
    assert item.locator('[data-testid="payout-amount"]').inner_text().strip() == "$4.50"
    assert item.locator('[data-testid="payout-fee"]').inner_text().strip() == "Platform fee $0.50"
    assert "Paid out" in item.inner_text()
    steps.shot("recipient-sees-payout")
