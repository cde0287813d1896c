"""HTML for the hosted checkout pages.

Plain HTML forms with inline CSS: no JavaScript is needed, so the pages work
with form POSTs from tests as well as in a browser.  Element ids and input
names are stable because browser tests select on them:

* form ``#payment-form`` with inputs ``email``, ``cardNumber``, ``cardExpiry``,
  ``cardCvc``, ``billingName``; button ``#submit``; error box ``#card-errors``;
  cancel link ``#cancel``; with nothing to pay (a 100%-off code) no card inputs;
* when the session allows promotion codes: form ``#promotion-form`` with input
  ``promotionCode``, button ``#apply-code`` and error box ``#promotion-errors``;
  an applied code shows as ``#discount`` (and ``#subtotal``);
* authentication form ``#authentication-form`` with buttons ``#approve`` and ``#fail``;
* status pages ``#session-expired`` and ``#payment-complete``.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from .cards import TEST_CARDS
from .objects import format_amount

_STYLE = """
*{box-sizing:border-box}
body{margin:0;font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
color:#1a1f36;background:#f6f9fc;-webkit-font-smoothing:antialiased}
.banner{background:#ffde92;color:#5d4200;text-align:center;font-size:12px;font-weight:600;padding:6px;
letter-spacing:.02em}
.wrap{display:flex;flex-wrap:wrap;max-width:960px;margin:0 auto;min-height:calc(100vh - 30px)}
.summary{flex:1 1 380px;padding:48px 40px;background:#fff}
.pay{flex:1 1 380px;padding:48px 40px}
.back{color:#697386;text-decoration:none;font-size:14px}
.back:hover{color:#1a1f36}
.total{font-size:36px;font-weight:600;margin:16px 0 32px}
.label{color:#697386;font-size:14px}
.item{display:flex;justify-content:space-between;padding:12px 0;border-bottom:1px solid #e3e8ee;font-size:14px}
.item .qty{color:#697386;font-size:12px}
h1{font-size:20px;font-weight:600;margin:0 0 24px}
label{display:block;font-size:13px;font-weight:500;color:#3c4257;margin:16px 0 6px}
input{width:100%;padding:10px 12px;font-size:16px;border:1px solid #cfd7df;border-radius:6px;background:#fff;
box-shadow:0 1px 1px rgba(0,0,0,.03)}
input:focus{outline:none;border-color:#635bff;box-shadow:0 0 0 3px rgba(99,91,255,.25)}
.row{display:flex;gap:12px}.row>div{flex:1}
.card-group input{border-radius:0}
.card-group .row{gap:0}
.card-group input:first-child{border-radius:6px 6px 0 0}
button{width:100%;margin-top:24px;padding:12px;font-size:16px;font-weight:600;color:#fff;background:#635bff;
border:0;border-radius:6px;cursor:pointer}
button:hover{background:#5248e8}
button.secondary{background:#fff;color:#cd3d64;border:1px solid #cd3d64}
.error{margin-top:16px;padding:10px 12px;border-radius:6px;background:#fdecef;color:#a41c4e;font-size:14px}
.hint{margin-top:28px;font-size:12px;color:#697386;line-height:1.6}
.hint code{background:#e3e8ee;padding:1px 4px;border-radius:3px}
.center{max-width:460px;margin:80px auto;background:#fff;padding:40px;border-radius:8px;
box-shadow:0 2px 12px rgba(50,50,93,.1);text-align:center}
.center a{color:#635bff}
"""


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f'<body><div class="banner">TEST MODE &middot; Stripe emulator</div>{body}</body></html>'
    )


def _summary(session: Mapping[str, Any], line_items: list[Mapping[str, Any]]) -> str:
    currency = session["currency"]
    rows = "".join(
        '<div class="item"><div><div class="name">{name}</div><div class="qty">Qty {qty}</div></div>'
        '<div class="amount">{amount}</div></div>'.format(
            name=escape(item["description"]),
            qty=item["quantity"],
            amount=escape(format_amount(item["amount_total"], currency)),
        )
        for item in line_items
    )
    back = ""
    if session.get("cancel_url"):
        back = f'<a id="cancel" class="back" href="{escape(session["cancel_url"])}">&larr; Back</a>'
    first = escape(line_items[0]["description"]) if line_items else "Payment"
    return (
        f'<section class="summary">{back}'
        f'<div class="label" style="margin-top:24px">Pay {first}</div>'
        f'<div class="total" id="amount">{escape(format_amount(session["amount_total"], currency))}</div>'
        f'<div id="line-items">{rows}</div>{_discount_rows(session)}'
        '<div class="item" style="border:0;font-weight:600"><div>Total due</div>'
        f'<div id="total-due">{escape(format_amount(session["amount_total"], currency))}</div></div>'
        "</section>"
    )


def _discount_rows(session: Mapping[str, Any]) -> str:
    discount = (session.get("total_details") or {}).get("amount_discount") or 0
    if not discount:
        return ""
    currency = session["currency"]
    return (
        '<div class="item"><div>Subtotal</div>'
        f'<div id="subtotal">{escape(format_amount(session["amount_subtotal"], currency))}</div></div>'
        '<div class="item"><div>Discount</div>'
        f'<div id="discount">-{escape(format_amount(discount, currency))}</div></div>'
    )


def _promotion_form(session: Mapping[str, Any], action: str, error: str | None) -> str:
    if not session.get("allow_promotion_codes"):
        return ""
    error_html = f'<div class="error" id="promotion-errors" role="alert">{escape(error)}</div>' if error else ""
    return f"""
  <form id="promotion-form" method="post" action="{escape(action)}/promotion-code" novalidate>
    <label for="promotionCode">Promotion code</label>
    <div class="row"><div><input id="promotionCode" name="promotionCode" autocomplete="off"></div>
    <div style="flex:0 0 96px"><button id="apply-code" type="submit" style="margin-top:0">Apply</button></div></div>
    {error_html}
  </form>"""


_CARD_FIELDS = """
    <label for="cardNumber">Card information</label>
    <div class="card-group">
      <input id="cardNumber" name="cardNumber" inputmode="numeric" autocomplete="cc-number"
             placeholder="1234 1234 1234 1234" required>
      <div class="row">
        <div><input id="cardExpiry" name="cardExpiry" autocomplete="cc-exp" placeholder="MM / YY"
               required style="border-radius:0 0 0 6px"></div>
        <div><input id="cardCvc" name="cardCvc" inputmode="numeric" autocomplete="cc-csc" placeholder="CVC"
               required style="border-radius:0 0 6px 0"></div>
      </div>
    </div>"""


def checkout_page(
    session: Mapping[str, Any],
    line_items: list[Mapping[str, Any]],
    *,
    action: str,
    error: str | None = None,
    values: dict[str, str] | None = None,
    promotion_error: str | None = None,
) -> str:
    """The payment form. ``values`` refills non-card fields after a failed attempt;
    ``promotion_error`` is the message of a refused promotion code."""
    values = values or {}
    free = session["amount_total"] == 0
    amount = escape(format_amount(session["amount_total"], session["currency"]))
    email = values.get("email") or session.get("customer_email") or ""
    error_html = (
        f'<div class="error" id="card-errors" role="alert">{escape(error)}</div>' if error else ""
    )
    cards = ", ".join(
        f"<code>{' '.join(number[i : i + 4] for i in range(0, len(number), 4))}</code> {label}"
        for number, label in (
            ("4242424242424242", "succeeds"),
            ("4000000000000002", "is declined"),
            ("4000002500003155", "needs authentication"),
        )
        if number in TEST_CARDS
    )
    form = f"""
<section class="pay">
  <h1>Pay with card</h1>
  <form id="payment-form" method="post" action="{escape(action)}" novalidate>
    <label for="email">Email</label>
    <input id="email" name="email" type="email" autocomplete="email" value="{escape(email)}">
    {"" if free else _CARD_FIELDS}
    <label for="billingName">{"Name" if free else "Cardholder name"}</label>
    <input id="billingName" name="billingName" autocomplete="cc-name" value="{escape(values.get("billingName", ""))}">
    {error_html}
    <button id="submit" type="submit">{"Complete order" if free else f"Pay {amount}"}</button>
  </form>{_promotion_form(session, action, promotion_error)}
  {"" if free else f'<p class="hint">Test cards: {cards}. Use any future expiry date and any CVC.</p>'}
</section>"""
    return _page(
        f"Checkout - {amount}", f'<main class="wrap">{_summary(session, line_items)}{form}</main>'
    )


def authentication_page(session: Mapping[str, Any], *, action: str) -> str:
    """The stand-in for a bank's 3D Secure challenge."""
    amount = escape(format_amount(session["amount_total"], session["currency"]))
    body = f"""
<main class="center" id="authentication">
  <h1>Authenticate your payment</h1>
  <p class="label">Your bank asks you to confirm a payment of <strong>{amount}</strong>.</p>
  <form id="authentication-form" method="post" action="{escape(action)}">
    <button id="approve" name="outcome" value="approve" type="submit">Complete authentication</button>
    <button id="fail" name="outcome" value="fail" type="submit" class="secondary">Fail authentication</button>
  </form>
</main>"""
    return _page("Authenticate payment", body)


def expired_page(session: Mapping[str, Any]) -> str:
    back = ""
    if session.get("cancel_url"):
        back = (
            f'<p><a id="cancel" href="{escape(session["cancel_url"])}">Return to the site</a></p>'
        )
    body = (
        '<main class="center" id="session-expired"><h1>This checkout session has expired</h1>'
        f'<p class="label">Nothing was charged. Start again from the site.</p>{back}</main>'
    )
    return _page("Checkout session expired", body)


def complete_page(session: Mapping[str, Any]) -> str:
    amount = escape(format_amount(session["amount_total"], session["currency"]))
    body = (
        f'<main class="center" id="payment-complete"><h1>Payment successful</h1>'
        f'<p class="label">{amount} was paid. You can close this page.</p></main>'
    )
    return _page("Payment successful", body)


def not_found_page() -> str:
    body = '<main class="center" id="not-found"><h1>Checkout session not found</h1></main>'
    return _page("Not found", body)
