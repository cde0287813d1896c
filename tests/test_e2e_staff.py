"""The demo's staff page: a partial and a full refund, seen by the operator and by the buyer."""

from __future__ import annotations

import re

import pytest

from tests.support.browser import login, logout, pay, wait_for_checkout_status

pytestmark = pytest.mark.e2e


def refund(page, amount: str | None) -> None:
    row = page.locator('[data-testid="staff-payment-row"]').first
    row.get_by_role("button", name="Refund").click()
    dialog = page.get_by_role("dialog", name="Refund payment")
    if amount is not None:
        dialog.locator('input[name="refund-amount"]').fill(amount)
    dialog.get_by_role("button", name="Continue").click()
    page.wait_for_selector('[data-testid="refund-confirmation"]')
    dialog.get_by_role("button", name="Confirm refund").click()
    page.wait_for_selector('[data-testid="toast"]:has-text("Refunded")')
    dialog.wait_for(state="detached")


def test_staff_refund_partly_then_fully_and_the_buyer_sees_it(demo_url, page_for):
    page, steps = page_for()
    login(page, demo_url, "alice")
    page.goto(f"{demo_url}/dashboard/subscription/")
    page.get_by_role("button", name=re.compile("Upgrade to Premium")).click()
    page.wait_for_url(re.compile(r"/stripe-emulator/c/pay/cs_test_"))
    pay(page, "4242 4242 4242 4242")
    wait_for_checkout_status(page, "completed")
    assert page.locator('nav[aria-label="Main"] >> text=Staff').count() == 0
    logout(page, demo_url)

    login(page, demo_url, "admin")
    page.goto(f"{demo_url}/dashboard/staff/")
    page.wait_for_selector('[data-testid="staff-payment-row"]')
    page.wait_for_selector('[data-testid="revenue-chart"] svg')
    steps.shot("staff-before-refund")

    refund(page, "4.00")
    row = page.locator('[data-testid="staff-payment-row"]').first
    page.wait_for_selector('[data-testid="amount-refunded"]:has-text("$4.00")')
    assert "Completed" in row.inner_text()
    steps.shot("staff-partial-refund")

    refund(page, None)  # the rest: the dialog offers what is left
    page.wait_for_selector('[data-testid="staff-payment-row"]:has-text("Refunded")')
    assert "$9.99" in page.locator('[data-testid="amount-refunded"]').first.inner_text()
    assert page.locator('[data-testid="staff-payment-row"] button:has-text("Refund")').count() == 0
    steps.shot("staff-full-refund")

    logout(page, demo_url)
    login(page, demo_url, "alice")
    page.goto(f"{demo_url}/dashboard/payments/")
    page.wait_for_selector('[data-testid="payment-row"][data-status="refunded"]')
    assert "$9.99 refunded" in page.inner_text('[data-testid="payment-row"]')
    page.goto(f"{demo_url}/dashboard/subscription/")
    page.wait_for_selector('[data-testid="premium-status"]')
    assert page.inner_text('[data-testid="premium-status"]').strip() == "Free"
    steps.shot("buyer-sees-refund")


def test_non_staff_users_get_no_staff_page(demo_url, page_for):
    page, _ = page_for()
    login(page, demo_url, "bob")
    page.goto(f"{demo_url}/dashboard/staff/")
    page.wait_for_selector("text=Staff only")
