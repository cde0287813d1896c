"""How the server reads the app's queries: ``explain`` of each command one request sends.

The growth rows time whole requests; these lines say why they grow. Each
``find`` and ``aggregate`` a request sends is captured (the command listener of
the tests) and explained with verbosity ``executionStats``:

- MongoDB reports how many index keys and documents it examined
  (``totalKeysExamined``, ``totalDocsExamined``). A page read in index order
  examines about ``limit`` keys whatever the history's size; totals read from
  the index keys alone examine no document.
- A mongoeco server reports its SQLite plan instead, whose
  ``USE TEMP B-TREE FOR ORDER BY`` says it sorted every matching document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

EXPLAINED_COMMANDS = ("find", "aggregate")
# Fields of a captured command that belong to the session or the connection, not the query.
_NOT_PART_OF_THE_QUERY = frozenset({"lsid", "txnNumber", "readConcern", "writeConcern", "batchSize",
                                    "singleBatch", "startTransaction", "autocommit"})


@dataclass(frozen=True)
class CommandPlan:
    name: str
    collection: str
    keys_examined: int | None
    docs_examined: int | None
    server_notes: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.keys_examined is not None:
            return f"{self.name} {self.collection}: {self.keys_examined} keys, {self.docs_examined} docs examined"
        notes = "; ".join(self.server_notes) or "no examined counts in the server's explain"
        return f"{self.name} {self.collection}: {notes}"


def explainable(command: dict[str, Any]) -> dict[str, Any]:
    """The captured ``command`` without what the driver added for its session and connection."""
    return {key: value for key, value in command.items()
            if not key.startswith("$") and key not in _NOT_PART_OF_THE_QUERY}


def _walk(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def examined(explain: dict[str, Any]) -> tuple[int | None, int | None]:
    """Index keys and documents examined, summed over every part of the plan (a ``$unionWith``'s too).

    ``(None, None)`` when the server's explain carries no such counts.
    """
    keys = [int(item) for key, item in _walk(explain) if key == "totalKeysExamined"]
    docs = [int(item) for key, item in _walk(explain) if key == "totalDocsExamined"]
    if not keys and not docs:
        return None, None
    return sum(keys), sum(docs)


def server_notes(explain: dict[str, Any]) -> tuple[str, ...]:
    """What a mongoeco plan says it did: the SQLite engine's plan lines (``SEARCH ... USING INDEX``,
    ``USE TEMP B-TREE FOR ORDER BY``), else its engine and strategy (the in-memory one scans)."""
    notes: list[str] = []
    for key, item in _walk(explain):
        if key == "engine_details" and isinstance(item, list):
            notes.extend(str(line) for line in item if str(line) not in notes)
    if notes:
        return tuple(notes)
    for _key, item in _walk({"explain": explain}):
        if isinstance(item, dict) and isinstance(item.get("engine"), str) and item.get("strategy"):
            return (f"{item['engine']} engine, {item['strategy']} strategy",)
    return ()


def plans_of(commands: list[tuple[str, Any, dict[str, Any]]],
             run_command: Callable[[dict[str, Any]], dict[str, Any]]) -> list[CommandPlan]:
    """Explain each ``find``/``aggregate`` among ``commands`` (as the command listener records them)."""
    plans = []
    for name, collection, command in commands:
        if name not in EXPLAINED_COMMANDS:
            continue
        explain = run_command({"explain": explainable(command), "verbosity": "executionStats"})
        keys, docs = examined(explain)
        plans.append(CommandPlan(name, str(collection), keys, docs, () if keys is not None else server_notes(explain)))
    return plans
