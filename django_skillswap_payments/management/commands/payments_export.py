"""Export paid payments, with their refunds and disputes, for accounting."""

from __future__ import annotations

import contextlib
import csv
import json
from collections.abc import Iterator
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError

from django_skillswap_payments.services import analytics, export


class _CommandOutput:
    """The command's stdout as a plain text stream (OutputWrapper would add a newline per write)."""

    def __init__(self, command: BaseCommand) -> None:
        self.command = command

    def write(self, text: str) -> int:
        self.command.stdout.write(text, ending="")
        return len(text)


class Command(BaseCommand):
    help = (
        "Write the paid (completed or refunded) payments created between two days, both "
        "included (UTC unless --tz), as CSV or JSON Lines, row by row."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, help="First day, YYYY-MM-DD (included).")
        parser.add_argument("--to", dest="end", required=True, help="Last day, YYYY-MM-DD (included).")
        parser.add_argument("--format", dest="output_format", choices=("csv", "jsonl"), default="csv",
                            help="Default: csv.")
        parser.add_argument("--output", help="File to write (default: standard output).")
        parser.add_argument("--tz", default="UTC", help="IANA time zone of the days (default UTC).")

    def handle(self, *args, start, end, output_format, output, tz, **options):
        try:
            first, last = analytics.parse_day(start, "--from"), analytics.parse_day(end, "--to")
            if first > last:
                raise analytics.InvalidReportRange(message="--from must not be after --to")
            bounds = analytics.utc_bounds(first, last, analytics.parse_timezone(tz))
        except analytics.InvalidReportRange as exc:
            raise CommandError(exc.message or exc.error) from None
        rows = export.export_rows(*bounds)
        with self._destination(output) as stream:
            count = (_write_csv if output_format == "csv" else _write_jsonl)(stream, rows)
        if output:
            self.stderr.write(f"{count} payments written to {output}")

    @contextlib.contextmanager
    def _destination(self, output: str | None) -> Iterator[TextIO | _CommandOutput]:
        if not output:
            yield _CommandOutput(self)
            return
        try:
            stream = open(output, "w", encoding="utf-8", newline="")  # noqa: SIM115 (closed below)
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror}") from None
        with stream:
            yield stream


def _write_csv(stream: Any, rows: Iterator[dict[str, Any]]) -> int:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(export.COLUMNS)
    count = 0
    for row in rows:
        writer.writerow([_csv_cell(row[column]) for column in export.COLUMNS])
        count += 1
    return count


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return value


def _write_jsonl(stream: Any, rows: Iterator[dict[str, Any]]) -> int:
    count = 0
    for row in rows:
        stream.write(json.dumps(row, separators=(",", ":")) + "\n")
        count += 1
    return count
