"""Payments written by the legacy system (float amounts, no minor units) are made exact."""

import io
from decimal import Decimal

import pytest
from bson import Decimal128, ObjectId
from django.core.management import CommandError, call_command

from django_skillswap_payments import repository, services
from django_skillswap_payments.documents import Payment


def insert_legacy_payment(mongo_database, **fields):
    document = {
        "transaction_type": "tip",
        "from_user_id": ObjectId(),
        "to_user_id": ObjectId(),
        "amount": 9.99,
        "currency": "usd",
        "stripe_session_id": f"cs_test_{ObjectId()}",
        "status": "pending",
        "metadata": {},
    }
    document.update(fields)
    return mongo_database.payments.insert_one(document).inserted_id


def test_float_amounts_become_exact_minor_units(mongo_database):
    tip = insert_legacy_payment(mongo_database, amount=0.1 + 0.2 - 0.2)  # 0.10000000000000003
    premium = insert_legacy_payment(mongo_database, amount=9.99, transaction_type="premium")
    whole = insert_legacy_payment(mongo_database, amount=25, currency="USD")

    report = repository.backfill_minor_units()

    assert sorted(report.updated) == sorted([premium, whole])
    assert [payment_id for payment_id, _ in report.skipped] == [tip]
    stored = mongo_database.payments.find_one({"_id": premium})
    assert stored["amount_minor"] == 999
    assert stored["amount"] == Decimal128("9.99")
    assert mongo_database.payments.find_one({"_id": whole})["currency"] == "usd"
    assert "amount_minor" not in mongo_database.payments.find_one({"_id": tip})


def test_backfilled_payment_completes_with_stripes_figures(mongo_database):
    payment_id = insert_legacy_payment(mongo_database, amount=12.5)
    repository.backfill_minor_units()
    result = services.complete_payment(
        payment_id, payment_intent_id="pi_legacy", amount_minor=1250, currency="usd", livemode=False
    )
    assert result.changed
    assert Payment.objects.get(id=payment_id).exact_amount == Decimal("12.50")


def test_a_second_run_changes_nothing_and_dry_run_writes_nothing(mongo_database):
    payment_id = insert_legacy_payment(mongo_database, amount=3.0)
    assert repository.backfill_minor_units(dry_run=True).updated == [payment_id]
    assert "amount_minor" not in mongo_database.payments.find_one({"_id": payment_id})
    assert repository.backfill_minor_units().updated == [payment_id]
    assert repository.backfill_minor_units().updated == []


def test_command_reports_and_fails_on_amounts_it_cannot_convert(mongo_database):
    insert_legacy_payment(mongo_database, amount=5.0)
    bad = insert_legacy_payment(mongo_database, amount="lots")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError):
        call_command("payments_backfill_amounts", stdout=out, stderr=err)
    assert "updated 1 payment(s)" in out.getvalue()
    assert str(bad) in err.getvalue()
