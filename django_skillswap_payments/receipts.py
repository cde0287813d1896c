"""Email receipts: the receiver the app ships for ``RECEIPTS = True``.

On ``premium_payment_completed`` it mails the payer; on
``tip_payment_completed`` the payer and the recipient (without the amount when
``RECEIPT_SHOWS_TIP_AMOUNT_TO_RECIPIENT`` is off). Mail goes through Django's
``send_mail`` with the site's backend; the text and HTML bodies are templates
under ``django_skillswap_payments/email/`` that a site overrides the usual way.

Exactly once per payment and person, also when the signal is re-dispatched:
each receipt is claimed on the payment before it is sent (see
:mod:`.repository.receipts`). A failing mail server never fails the webhook:
the receiver raises :class:`ReceiptNotSent` after trying every receipt, the
signal machinery records that on the payment and flags it, and
``manage.py payments_redispatch_signals`` sends what is still unsent.

The receiver is connected only while ``RECEIPTS`` is on, so a site without
receipts pays nothing for them (see :func:`.signals.has_receivers`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils.translation import gettext

from . import signals
from .conf import payments_settings
from .documents import Payment
from .money import format_amount
from .repository import receipts as receipt_store
from .users import resolve_email

logger = logging.getLogger(__name__)

TEMPLATE_DIR = "django_skillswap_payments/email"
_DISPATCH_UIDS = {
    signals.premium_payment_completed: "django_skillswap_payments.receipts.premium",
    signals.tip_payment_completed: "django_skillswap_payments.receipts.tip",
}


class ReceiptNotSent(Exception):
    """One or more receipts of a payment could not be sent now; a re-dispatch will try again."""


@dataclass(frozen=True)
class Receipt:
    role: str  # "payer" or "recipient"
    profile_id: Any
    template: str

    def subject(self, payment: Payment) -> str:
        if self.template == "premium_receipt":
            return gettext("Your receipt for %(product)s") % {
                "product": payments_settings.PREMIUM_PRODUCT_NAME
            }
        if self.template == "tip_receipt":
            return gettext("Your tip receipt")
        return gettext("You received a tip")


def receipts_enabled() -> bool:
    return bool(payments_settings.RECEIPTS)


def receipts_for(payment: Payment) -> list[Receipt]:
    """The receipts a completed payment calls for, in sending order."""
    if payment.is_premium:
        return [Receipt("payer", payment.from_user_id, "premium_receipt")]
    return [
        Receipt("payer", payment.from_user_id, "tip_receipt"),
        Receipt("recipient", payment.to_user_id, "tip_received"),
    ]


def render_receipt(receipt: Receipt, payment: Payment) -> tuple[str, str, str]:
    """``(subject, text body, HTML body)`` of one receipt."""
    show_amount = receipt.role == "payer" or bool(
        payments_settings.RECEIPT_SHOWS_TIP_AMOUNT_TO_RECIPIENT
    )
    context = {
        "payment": payment,
        "payment_id": str(payment.id),
        "product_name": (
            payments_settings.PREMIUM_PRODUCT_NAME
            if payment.is_premium
            else payments_settings.TIP_PRODUCT_NAME
        ),
        "amount": format_amount(payment.exact_amount, payment.currency) if show_amount else None,
        "message": payment.message or "",
        "paid_at": payment.completed_at,
        "role": receipt.role,
    }
    text = render_to_string(f"{TEMPLATE_DIR}/{receipt.template}.txt", context)
    html = render_to_string(f"{TEMPLATE_DIR}/{receipt.template}.html", context)
    return receipt.subject(payment), text, html


def send_receipts(sender: Any, payment: Payment, **kwargs: Any) -> None:
    """Signal receiver: send each receipt of ``payment`` that is not sent yet."""
    if not receipts_enabled():
        return
    problems = []
    for receipt in receipts_for(payment):
        try:
            _send_once(receipt, payment)
        except ReceiptNotSent as exc:
            problems.append(str(exc))
    if problems:
        raise ReceiptNotSent("; ".join(problems))


def _send_once(receipt: Receipt, payment: Payment) -> None:
    already = (payment.receipts_sent or {}).get(receipt.role) or {}
    if already.get("sent_at"):
        return
    to = resolve_email(receipt.profile_id)
    if not to:
        logger.info("No email address for the %s of payment %s: no receipt", receipt.role, payment.id)
        return
    token = receipt_store.claim_receipt(payment.id, receipt.role, to)
    if token is None:
        state = receipt_store.receipt_state(payment.id, receipt.role) or {}
        if state.get("sent_at"):
            return
        raise ReceiptNotSent(f"{receipt.role} receipt is being sent by another process")
    try:
        subject, text, html = render_receipt(receipt, payment)
        send_mail(
            subject,
            text,
            payments_settings.RECEIPT_FROM_EMAIL or settings.DEFAULT_FROM_EMAIL,
            [to],
            html_message=html,
            fail_silently=False,
        )
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        logger.warning("Receipt to the %s of payment %s failed: %s", receipt.role, payment.id, error)
        receipt_store.release_receipt(payment.id, receipt.role, token, to=to, error=error)
        raise ReceiptNotSent(f"{receipt.role} receipt failed ({error})") from exc
    receipt_store.confirm_receipt(payment.id, receipt.role, token)


def check_receipts(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """System check ``skillswap_payments.E060``: receipts are on but their templates can't load."""
    from django.core import checks
    from django.template import TemplateDoesNotExist
    from django.template.loader import get_template

    if not receipts_enabled():
        return []
    missing = []
    for name in ("premium_receipt", "tip_receipt", "tip_received"):
        for kind in ("txt", "html"):
            try:
                get_template(f"{TEMPLATE_DIR}/{name}.{kind}")
            except TemplateDoesNotExist:
                missing.append(f"{TEMPLATE_DIR}/{name}.{kind}")
            except Exception as exc:  # no template engine configured at all, for instance
                missing.append(f"{TEMPLATE_DIR}/{name}.{kind} ({type(exc).__name__}: {exc})")
    if not missing:
        return []
    return [
        checks.Error(
            f"RECEIPTS is on but receipt templates cannot be loaded: {', '.join(missing)}",
            hint="Configure a DjangoTemplates backend with APP_DIRS = True (or templates of your own "
            "under those names).",
            id="skillswap_payments.E060",
        )
    ]


def connect_if_enabled() -> None:
    """Connect the receiver while ``RECEIPTS`` is on, disconnect it otherwise."""
    from django.core.exceptions import ImproperlyConfigured

    try:
        enabled = receipts_enabled()
    except ImproperlyConfigured:
        enabled = False  # unreadable settings are reported by the system checks (E007)
    for signal, uid in _DISPATCH_UIDS.items():
        if enabled:
            signal.connect(send_receipts, sender=Payment, dispatch_uid=uid)
        else:
            signal.disconnect(sender=Payment, dispatch_uid=uid)
