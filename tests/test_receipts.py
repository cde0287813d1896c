"""Email receipts (RECEIPTS): sent once per payment and person, never failing the payment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.test import override_settings

from django_skillswap_payments import receipts, repository, services, signals
from django_skillswap_payments.documents import Payment, utcnow
from django_skillswap_payments.repository import receipts as receipt_store
from tests.support.config import payments_config
from tests.support.database import profile_of
from tests.support.threads import run_together


@pytest.fixture
def mail_server_down(monkeypatch):
    """A mail server that refuses every message, until the test calls the returned function."""

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(receipts, "send_mail", refuse)
    return lambda: monkeypatch.setattr(receipts, "send_mail", mail.send_mail)



@pytest.fixture
def receipts_on():
    with override_settings(SKILLSWAP_PAYMENTS=payments_config(RECEIPTS=True)):
        yield


@pytest.fixture
def people(make_user):
    ada = make_user("ada")
    ada.email = "ada@example.com"
    ada.save()
    ben = make_user("ben")
    ben.email = "ben@example.com"
    ben.save()
    return profile_of(ada), profile_of(ben)


def pending(kind, payer, recipient=None, amount="9.99", message=None):
    payment = repository.create_payment_transaction(
        kind, payer.id, Decimal(amount), to_user_id=recipient.id if recipient else None
    )
    if message is not None:
        Payment.objects(id=payment.id).update_one(set__message=message)
        payment.message = message
    return payment


def complete(payment):
    return services.complete_payment(
        payment,
        payment_intent_id=f"pi_{payment.id}",
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        livemode=False,
    )


def sent_to(address):
    return [message for message in mail.outbox if message.to == [address]]


def test_premium_receipt_goes_to_the_payer_once(receipts_on, people):
    ada, _ = people
    payment = pending("premium", ada)
    complete(payment)
    [message] = mail.outbox
    assert message.to == ["ada@example.com"]
    assert message.subject == "Your receipt for SkillSwap Premium"
    assert "9.99 USD" in message.body and str(payment.id) in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html" and "9.99 USD" in html
    stored = repository.get_payment(payment.id)
    assert stored.receipts_sent["payer"]["to"] == "ada@example.com"
    assert stored.receipts_sent["payer"]["sent_at"] is not None
    assert stored.signal_retry_needed is False


def test_a_tip_mails_the_payer_and_the_recipient(receipts_on, people):
    ada, ben = people
    payment = pending("tip", ada, ben, amount="25.00", message="Thanks <b>a lot</b>!")
    complete(payment)
    [to_payer] = sent_to("ada@example.com")
    [to_recipient] = sent_to("ben@example.com")
    assert to_payer.subject == "Your tip receipt"
    assert to_recipient.subject == "You received a tip"
    assert "25.00 USD" in to_payer.body and "25.00 USD" in to_recipient.body
    assert "Thanks <b>a lot</b>!" in to_recipient.body
    html = to_recipient.alternatives[0][0]
    assert "&lt;b&gt;a lot&lt;/b&gt;" in html and "<b>a lot</b>" not in html


def test_the_recipient_receipt_can_leave_out_the_amount(people):
    ada, ben = people
    config = payments_config(RECEIPTS=True, RECEIPT_SHOWS_TIP_AMOUNT_TO_RECIPIENT=False)
    with override_settings(SKILLSWAP_PAYMENTS=config):
        complete(pending("tip", ada, ben, amount="25.00"))
    [to_recipient] = sent_to("ben@example.com")
    [to_payer] = sent_to("ada@example.com")
    assert "25.00" not in to_recipient.body and "25.00" not in to_recipient.alternatives[0][0]
    assert "You received a tip." in to_recipient.body
    assert "25.00 USD" in to_payer.body


@pytest.mark.parametrize("kind", ["premium", "tip"])
def test_redispatch_and_a_second_completion_send_nothing_more(receipts_on, people, kind):
    ada, ben = people
    payment = pending(kind, ada, ben if kind == "tip" else None)
    complete(payment)
    sent = len(mail.outbox)
    assert sent == (2 if kind == "tip" else 1)
    assert not complete(repository.get_payment(payment.id)).changed
    signals.redispatch(payment.id)
    signals.redispatch(payment.id)
    assert len(mail.outbox) == sent


def test_a_failing_mail_server_never_fails_the_payment_and_redispatch_sends_once(
    people, mail_server_down
):
    ada, ben = people
    payment = pending("tip", ada, ben)
    config = payments_config(RECEIPTS=True)
    with override_settings(SKILLSWAP_PAYMENTS=config):
        result = complete(payment)
        assert result.changed
        stored = repository.get_payment(payment.id)
        assert stored.status == "completed"
        assert stored.signal_retry_needed is True
        assert not stored.receipts_sent
        assert {failure["role"] for failure in stored.receipt_failures} == {"payer", "recipient"}
        assert all("mail server down" in failure["error"] for failure in stored.receipt_failures)
        [failure] = stored.signal_failures
        assert failure["receiver"].endswith("receipts.send_receipts")
    mail_server_down()  # back up
    with override_settings(SKILLSWAP_PAYMENTS=config):
        signals.redispatch(payment.id)
        signals.redispatch(payment.id)
    assert len(sent_to("ada@example.com")) == 1
    assert len(sent_to("ben@example.com")) == 1
    assert repository.get_payment(payment.id).signal_retry_needed is False


def test_the_redispatch_command_retries_unsent_receipts(people, mail_server_down):
    from django.core.management import call_command

    ada, _ = people
    payment = pending("premium", ada)
    config = payments_config(RECEIPTS=True)
    with override_settings(SKILLSWAP_PAYMENTS=config):
        complete(payment)
    assert mail.outbox == []
    mail_server_down()
    with override_settings(SKILLSWAP_PAYMENTS=config):
        call_command("payments_redispatch_signals", "--failed", "--settled-seconds", "0", verbosity=0)
    assert len(sent_to("ada@example.com")) == 1


def test_concurrent_redispatches_send_each_receipt_once(people):
    ada, ben = people
    payment = pending("tip", ada, ben)
    # Addresses without the SQL user table, which the in-memory test database can't share
    # between threads.
    config = payments_config(RECEIPTS=True, EMAIL_RESOLVER=f"{__name__}.lookup_address")
    with override_settings(SKILLSWAP_PAYMENTS=config):
        # Completed with receipts off: nothing mailed yet, as after a crash before the dispatch.
        with override_settings(SKILLSWAP_PAYMENTS=payments_config(RECEIPTS=False)):
            complete(payment)
        assert mail.outbox == []
        race = run_together([lambda: signals.redispatch(payment.id)] * 6)
    assert race.errors == []
    assert len(sent_to(f"{ada.id}@members.example.org")) == 1
    assert len(sent_to(f"{ben.id}@members.example.org")) == 1


def test_a_fresh_claim_of_another_sender_is_left_alone_and_a_stale_one_taken_over(receipts_on, people):
    ada, _ = people
    payment = pending("premium", ada)
    with override_settings(SKILLSWAP_PAYMENTS=payments_config(RECEIPTS=False)):
        complete(payment)
    assert receipt_store.claim_receipt(payment.id, "payer", "ada@example.com")  # someone else, now
    signals.redispatch(payment.id)
    assert mail.outbox == []
    stored = repository.get_payment(payment.id)
    assert stored.signal_retry_needed is True  # so a later re-dispatch finishes the job
    assert "being sent by another process" in stored.signal_failures[-1]["error"]
    stale = utcnow() - receipt_store.CLAIM_LEASE - dt.timedelta(seconds=1)
    Payment.objects(id=payment.id).update_one(set__receipts_sent__payer__claimed_at=stale)
    signals.redispatch(payment.id)
    assert len(sent_to("ada@example.com")) == 1


def test_no_address_means_no_receipt_and_no_failure(receipts_on, make_user):
    nobody = profile_of(make_user("no_email"))
    payment = pending("premium", nobody)
    complete(payment)
    assert mail.outbox == []
    stored = repository.get_payment(payment.id)
    assert stored.signal_retry_needed is False and not stored.receipt_failures


def lookup_address(profile_id):
    return f"{profile_id}@members.example.org"


def test_a_site_chooses_where_receipts_go(people):
    ada, _ = people
    config = payments_config(RECEIPTS=True, EMAIL_RESOLVER=f"{__name__}.lookup_address")
    with override_settings(SKILLSWAP_PAYMENTS=config):
        complete(pending("premium", ada))
    assert [message.to for message in mail.outbox] == [[f"{ada.id}@members.example.org"]]


def test_receipts_off_connects_nothing(people):
    ada, _ = people
    assert not signals.premium_payment_completed.has_listeners(Payment)
    with override_settings(SKILLSWAP_PAYMENTS=payments_config(RECEIPTS=True)):
        assert signals.premium_payment_completed.has_listeners(Payment)
        assert signals.tip_payment_completed.has_listeners(Payment)
    assert not signals.has_receivers("completed")
    complete(pending("premium", ada))
    assert mail.outbox == []


def test_receipts_without_a_template_engine_are_a_configuration_error():
    with override_settings(SKILLSWAP_PAYMENTS=payments_config(RECEIPTS=True), TEMPLATES=[]):
        [error] = receipts.check_receipts()
    assert error.id == "skillswap_payments.E060"
    with override_settings(SKILLSWAP_PAYMENTS=payments_config(RECEIPTS=True)):
        assert receipts.check_receipts() == []
