"""HTML of the hosted Connect onboarding page (see :mod:`.accounts`).

Stable ids for browser tests: form ``#onboarding-form`` with buttons
``#submit-onboarding`` (details submitted: the account can be paid) and
``#leave-incomplete`` (back to the site with nothing submitted); the
unknown-link page is ``#link-not-found``.
"""

from __future__ import annotations

from html import escape

from .pages import _page


def onboarding_page(account_id: str, *, action: str) -> str:
    body = f"""
<main class="center" id="onboarding">
  <h1>Get paid with SkillSwap</h1>
  <p class="label">Test onboarding of the Express account <code id="account-id">{escape(account_id)}</code>.
  Submitting fills in test details: the account can then receive payments and payouts.</p>
  <form id="onboarding-form" method="post" action="{escape(action)}">
    <button id="submit-onboarding" name="outcome" value="submit" type="submit">Submit details</button>
    <button id="leave-incomplete" name="outcome" value="incomplete" type="submit" class="secondary">
      Leave without finishing</button>
  </form>
</main>"""
    return _page("Onboarding", body)


def link_not_found_page() -> str:
    body = '<main class="center" id="link-not-found"><h1>This onboarding link is not valid</h1></main>'
    return _page("Not found", body)
