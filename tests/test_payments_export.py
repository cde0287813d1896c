"""payments_export: paid payments, with refunds and disputes, streamed as CSV or JSON Lines."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from django_skillswap_payments.repository import analytics as store
from django_skillswap_payments.services import export
from tests.support.commands import assert_mongo_commands, command_log
from tests.support.revenue import store_revenue_documents

pytestmark = pytest.mark.django_db

RANGE = ("--from", "2024-01-29", "--to", "2024-02-11")


@pytest.fixture
def dataset():
    return {str(document["_id"]): document for document in store_revenue_documents()}


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("payments_export", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_csv_has_a_fixed_header_and_one_row_per_paid_payment(dataset):
    rows = list(csv.reader(io.StringIO(run(*RANGE))))

    assert tuple(rows[0]) == export.COLUMNS
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    # 1, 2, 3, 4, 7, 10 (the legacy subscription), 11, 12, 14: paid; oldest first.
    assert [r["created_at"][:19] for r in records] == [
        "2024-01-31T23:59:59", "2024-02-01T00:00:00", "2024-02-01T10:00:00", "2024-02-01T12:00:00",
        "2024-02-02T00:00:00", "2024-02-04T23:59:59", "2024-02-05T09:00:00", "2024-02-06T10:00:00",
        "2024-02-06T12:00:00",
    ]
    by_time = {r["created_at"][:19]: r for r in records}
    partial = by_time["2024-02-01T00:00:00"]
    assert (partial["amount"], partial["amount_refunded"], partial["net"], partial["net_minor"]) == (
        "5.00", "2.00", "3.00", "300")
    assert json.loads(partial["refunds"])[0]["refund_id"] == "re_2" and partial["disputes"] == "[]"
    legacy_full_refund = by_time["2024-02-01T12:00:00"]
    assert (legacy_full_refund["status"], legacy_full_refund["amount_refunded"], legacy_full_refund["net"]) == (
        "refunded", "3.00", "0.00")
    yen = by_time["2024-02-06T10:00:00"]
    assert (yen["currency"], yen["amount"], yen["amount_refunded"], yen["net"]) == ("jpy", "333", "100", "233")
    disputed = by_time["2024-02-05T09:00:00"]
    assert disputed["dispute_status"] == "needs_response"
    assert json.loads(disputed["disputes"])[0]["dispute_id"] == "dp_4"
    assert by_time["2024-01-31T23:59:59"]["to_user_id"] == "" and by_time["2024-01-31T23:59:59"]["refunds"] == "[]"


def test_jsonl_rows_hold_the_same_columns_with_nested_refunds_and_disputes(dataset):
    lines = run(*RANGE, "--format", "jsonl").splitlines()

    records = [json.loads(line) for line in lines]
    assert len(records) == 9 and all(tuple(r) == export.COLUMNS for r in records)
    lost = next(r for r in records if r["dispute_status"] == "lost")
    assert lost["amount"] == "501" and lost["amount_minor"] == 501 and lost["currency"] == "jpy"
    assert lost["disputes"][0]["status"] == "lost"
    assert lost["disputes"][0]["created_at"] == "2024-02-08T00:00:00+00:00"
    refunded_twice = next(r for r in records if r["refunds"] and len(r["refunds"]) == 2)
    # The failed refund is listed, but not counted: amount_refunded_minor is what the refunds feature recorded.
    assert [refund["status"] for refund in refunded_twice["refunds"]] == ["succeeded", "failed"]
    assert refunded_twice["amount_refunded_minor"] == 100


def test_the_export_and_the_report_agree_on_what_was_refunded(dataset):
    for document in dataset.values():
        row = export.export_row(document)
        assert row["amount_refunded_minor"] + row["net_minor"] == row["amount_minor"]
    assert sum(export.export_row(d)["amount_refunded_minor"] for d in dataset.values()
               if d["currency"] == "usd" and "2024-02-01" <= d["created_at"].isoformat() < "2024-02-12"
               and d["transaction_type"] != "subscription") == 500


def test_output_to_a_file(dataset, tmp_path):
    target = tmp_path / "payments.csv"
    err = io.StringIO()

    call_command("payments_export", *RANGE, "--output", str(target), stdout=io.StringIO(), stderr=err)

    assert len(target.read_text(encoding="utf-8").splitlines()) == 10
    assert "9 payments written" in err.getvalue()


def test_rows_are_written_as_batches_arrive(dataset, monkeypatch):
    """A batch of 2 documents: 9 rows take a find and 4 getMores, and the first row is
    written before the second batch is fetched (nothing gathers the cursor into a list)."""
    monkeypatch.setattr(store, "EXPORT_BATCH_SIZE", 2)
    commands_when_written: list[int] = []

    class Recorder(io.StringIO):
        def write(self, text):
            commands_when_written.append(len(command_log.commands))
            return super().write(text)

    with assert_mongo_commands(5) as commands:
        call_command("payments_export", *RANGE, "--format", "jsonl", stdout=Recorder(), stderr=io.StringIO())

    assert [name for name, _, _ in commands] == ["find", "getMore", "getMore", "getMore", "getMore"]
    assert all(command["batchSize"] == 2 for name, _, command in commands)
    assert commands_when_written[0] == 1 and commands_when_written[-1] == 5


@pytest.mark.parametrize(("args", "fragment"), [
    (("--from", "2024-02-12", "--to", "2024-02-11"), "must not be after"),
    (("--from", "2024-02-30", "--to", "2024-03-01"), "not a calendar date"),
    (("--from", "yesterday", "--to", "2024-03-01"), "YYYY-MM-DD"),
    (("--from", "2024-01-01", "--to", "2024-03-01", "--tz", "Nowhere/Special"), "tz must be"),
])
def test_bad_ranges_are_command_errors(args, fragment):
    with pytest.raises(CommandError, match=fragment):
        run(*args)


def test_an_unwritable_output_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot write"):
        run(*RANGE, "--output", str(tmp_path / "missing" / "out.csv"))
