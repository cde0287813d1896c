"""Creating the declared indexes, and finding the ones a deployment still has but no longer needs.

The documents declare their indexes (``documents.py``). Building them is a
deployment step (``manage.py payments_ensure_indexes``); MongoDB ignores an
index that already exists. An index an older release declared and this one
no longer does is only reported: while servers of the older release still
run (a rolling deploy), their queries may need it. Dropping it is a separate,
explicit step (``--drop-obsolete``), and never touches an index the app declares.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..documents import ALL_DOCUMENTS

IndexKey = tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class IndexReport:
    """Index names per collection after building: all present, the obsolete ones, those dropped."""

    present: dict[str, list[str]] = field(default_factory=dict)
    obsolete: dict[str, list[str]] = field(default_factory=dict)
    dropped: dict[str, list[str]] = field(default_factory=dict)


def _normalized(key: Iterable[tuple[str, Any]]) -> IndexKey:
    # Indexes built by other tools may spell a direction 1.0; text/hashed indexes keep their kind.
    return tuple(
        (name, int(direction) if isinstance(direction, float) else direction)
        for name, direction in key
    )


def declared_keys(document: Any) -> set[IndexKey]:
    """Key patterns of every index ``document`` declares, ``_id`` included."""
    keys: set[IndexKey] = {(("_id", 1),)}
    keys.update(_normalized(spec["fields"]) for spec in document._meta.get("index_specs", []))
    return keys


def declared_indexes(document: Any) -> list[dict[str, Any]]:
    """The index specs ``document`` declares: ``{"fields": [(name, direction), ...], options...}``."""
    return [dict(spec) for spec in document._meta.get("index_specs", [])]


def obsolete_indexes(document: Any) -> list[str]:
    """Names of the indexes on ``document``'s collection whose keys it no longer declares."""
    declared = declared_keys(document)
    existing = document._get_collection().index_information()
    return sorted(
        name for name, info in existing.items() if _normalized(info["key"]) not in declared
    )


def build_indexes(*, drop_obsolete: bool = False) -> IndexReport:
    """Create every declared index; report (and with ``drop_obsolete``, drop) undeclared ones.

    Obsolete indexes are dropped only after every declared one exists, so no
    query is ever left without its index.
    """
    report = IndexReport()
    for document in ALL_DOCUMENTS:
        document.ensure_indexes()
    for document in ALL_DOCUMENTS:
        collection = document._get_collection()
        obsolete = obsolete_indexes(document)
        if obsolete and drop_obsolete:
            for name in obsolete:
                collection.drop_index(name)
            report.dropped[collection.name] = obsolete
        elif obsolete:
            report.obsolete[collection.name] = obsolete
        report.present[collection.name] = sorted(collection.index_information())
    return report
