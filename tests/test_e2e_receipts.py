"""The demo's receipts page: the emails the payments app sent, read back in the browser."""

from __future__ import annotations

import re

import pytest

from tests.support.browser import login, logout, pay, wait_for_checkout_status

pytestmark = pytest.mark.e2e


def test_premium_and_tip_receipts_reach_payer_and_recipient(demo_url, page_for):
    page, steps = page_for()
    login(page, demo_url, "alice")
    page.goto(f"{demo_url}/dashboard/receipts/")
    page.wait_for_selector('.empty-title:has-text("No receipts yet")')

    page.goto(f"{demo_url}/dashboard/subscription/")
    page.get_by_role("button", name=re.compile("Upgrade to Premium")).click()
    page.wait_for_url(re.compile(r"/stripe-emulator/c/pay/cs_test_"))
    pay(page, "4242 4242 4242 4242")
    wait_for_checkout_status(page, "completed")

    page.goto(f"{demo_url}/dashboard/tips/")
    page.wait_for_selector('select[name="recipient"] option:has-text("@carol")', state="attached")
    label = page.locator('select[name="recipient"] option:has-text("@carol")').first.inner_text()
    page.locator('select[name="recipient"]').select_option(label=label)
    page.locator('input[name="amount"]').fill("7.50")
    page.locator('[name="message"]').fill("Great lesson")
    page.get_by_role("button", name=re.compile("Send tip")).click()
    page.wait_for_url(re.compile(r"/stripe-emulator/c/pay/cs_test_"))
    pay(page, "4242 4242 4242 4242")
    wait_for_checkout_status(page, "completed")

    page.goto(f"{demo_url}/dashboard/receipts/")
    page.wait_for_selector('[data-testid="receipt"]')
    page.wait_for_function("document.querySelectorAll('[data-testid=receipt]').length === 2")
    subjects = page.locator('[data-testid="receipt-subject"]').all_inner_texts()
    assert sorted(subjects) == ["Your receipt for SkillSwap Premium", "Your tip receipt"]
    bodies = "\n".join(page.locator('[data-testid="receipt-body"]').all_inner_texts())
    assert "9.99 USD" in bodies and "7.50 USD" in bodies
    steps.shot("receipts-payer")

    logout(page, demo_url)
    login(page, demo_url, "carol")
    page.goto(f"{demo_url}/dashboard/receipts/")
    page.wait_for_selector('[data-testid="receipt"]')
    assert page.locator('[data-testid="receipt-subject"]').all_inner_texts() == ["You received a tip"]
    body = page.inner_text('[data-testid="receipt-body"]')
    assert "7.50 USD" in body and "Great lesson" in body
    steps.shot("receipts-recipient")
