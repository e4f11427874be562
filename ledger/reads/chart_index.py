"""Which encounters and documents belong to which patient: an index the write side reads.

A patient's encounters and documents are separate aggregates whose events are sealed with the
patient's key, so without an index finding them meant opening every `Encounter.Opened` and
`Document.Filed` event in the ledger. This view, kept by the `Follower` (events the Merkle log
admitted, each once, tracked in the same transaction), maps each to its patient in log order. It
lives in `ledger/` because access decisions (the treatment relationship) and chart reads need it;
it holds identifiers only. A document moved by `Document.Refiled` moves here too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from ledger import catalogue
from ledger.aggregates.documents import Document
from ledger.aggregates.encounter import Encounter
from ledger.errors import IntegrityViolation
from ledger.stores.database import Cursor, Database


class ChartIndex:
    """Encounters and documents by patient, in the order they entered the log."""

    name = "chart-index"
    tables = ("chart_index",)
    topics = catalogue.CHART_INDEX_TOPICS

    def __init__(self, db: Database) -> None:
        self.db = db
        self.table = db.table("chart_index")

    def create_tables(self, cur: Cursor) -> None:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} (aggregate_id TEXT PRIMARY KEY,"
            " kind TEXT NOT NULL, patient_id TEXT NOT NULL, encounter_id TEXT,"
            " document_kind TEXT, position BIGINT NOT NULL)"
        )
        cur.execute(
            "CREATE INDEX IF NOT EXISTS chart_index_by_patient "
            f"ON {self.table} (patient_id, kind, position)"
        )

    def apply(self, cur: Cursor, event: Any, notification_id: int) -> None:
        if isinstance(event, Encounter.Opened):
            cur.execute(
                f"INSERT INTO {self.table} (aggregate_id, kind, patient_id, position) "
                "VALUES (?, 'encounter', ?, ?)",
                (event.originator_id.hex, event.patient_id.hex, notification_id),
            )
        elif isinstance(event, Document.Filed):
            cur.execute(
                f"INSERT INTO {self.table} (aggregate_id, kind, patient_id, encounter_id, "
                "document_kind, position) VALUES (?, 'document', ?, ?, ?, ?)",
                (
                    event.originator_id.hex,
                    event.patient_id.hex,
                    _hex(event.encounter_id),
                    event.kind,
                    notification_id,
                ),
            )
        elif isinstance(event, Document.Refiled):
            cur.execute(
                f"UPDATE {self.table} SET patient_id=?, encounter_id=? WHERE aggregate_id=?",
                (event.patient_id.hex, _hex(event.encounter_id), event.originator_id.hex),
            )

    # -- reading ----------------------------------------------------------------------------------
    def _ids(self, kind: str, patient_ids: Iterable[UUID]) -> list[UUID]:
        wanted = [p.hex for p in patient_ids]
        if not wanted:
            return []
        marks = ", ".join("?" * len(wanted))
        with self.db.transaction(commit=False) as cur:
            cur.execute(
                f"SELECT aggregate_id FROM {self.table} WHERE kind=? AND patient_id IN ({marks}) "
                "ORDER BY position",
                (kind, *wanted),
            )
            return [UUID(str(r["aggregate_id"])) for r in cur.fetchall()]

    def encounter_ids(self, patient_ids: Iterable[UUID]) -> list[UUID]:
        """The patients' encounters, in the order they were opened."""
        return self._ids("encounter", patient_ids)

    def document_ids(self, patient_ids: Iterable[UUID]) -> list[UUID]:
        """The documents filed (or moved) to the patients' charts, in the order filed."""
        return self._ids("document", patient_ids)

    def all_encounter_ids(self) -> list[UUID]:
        with self.db.transaction(commit=False) as cur:
            cur.execute(
                f"SELECT aggregate_id FROM {self.table} WHERE kind='encounter' ORDER BY position"
            )
            return [UUID(str(r["aggregate_id"])) for r in cur.fetchall()]

    def document_kinds_by_encounter(self) -> dict[UUID, list[str]]:
        """The kinds of the documents filed to each encounter."""
        found: dict[UUID, list[str]] = defaultdict(list)
        with self.db.transaction(commit=False) as cur:
            cur.execute(
                f"SELECT encounter_id, document_kind FROM {self.table} "
                "WHERE kind='document' AND encounter_id IS NOT NULL ORDER BY position"
            )
            for row in cur.fetchall():
                found[UUID(str(row["encounter_id"]))].append(str(row["document_kind"]))
        return found

    def rows(self) -> dict[str, Row]:
        """Every indexed aggregate: (kind, patient, encounter, document kind)."""
        with self.db.transaction(commit=False) as cur:
            cur.execute(
                f"SELECT aggregate_id, kind, patient_id, encounter_id, document_kind "
                f"FROM {self.table}"
            )
            return {
                str(r["aggregate_id"]): (
                    str(r["kind"]),
                    str(r["patient_id"]),
                    r["encounter_id"],
                    r["document_kind"],
                )
                for r in cur.fetchall()
            }


Row = tuple[str, str, str | None, str | None]
"""(kind, patient, encounter, document kind), ids as hex."""


def expected_index(events: Iterable[Any]) -> dict[str, Row]:
    """The rows the index must hold after these events (in log order)."""
    rows: dict[str, Row] = {}
    for event in events:
        key = event.originator_id.hex
        if isinstance(event, Encounter.Opened):
            rows[key] = ("encounter", event.patient_id.hex, None, None)
        elif isinstance(event, Document.Filed):
            rows[key] = ("document", event.patient_id.hex, _hex(event.encounter_id), event.kind)
        elif isinstance(event, Document.Refiled) and key in rows:
            kind = rows[key][3]
            rows[key] = ("document", event.patient_id.hex, _hex(event.encounter_id), kind)
    return rows


def check_chart_index(index: ChartIndex, expected: dict[str, Row]) -> int:
    """The index holds exactly what the events say (a row removed, added or moved would hide a
    record from its chart, or show it in another); returns how many rows were checked."""
    stored = index.rows()
    for aggregate_id, row in expected.items():
        found = stored.get(aggregate_id)
        if found is None:
            raise IntegrityViolation(
                "chart-index", f"{row[0]} {UUID(aggregate_id)} is missing from the chart index"
            )
        if found != row:
            raise IntegrityViolation(
                "chart-index", f"{row[0]} {UUID(aggregate_id)} is indexed under the wrong chart"
            )
    extra = sorted(set(stored) - set(expected))
    if extra:
        raise IntegrityViolation(
            "chart-index", f"the chart index names {UUID(extra[0])}, which no event opened"
        )
    return len(stored)


def _hex(value: UUID | None) -> str | None:
    return None if value is None else value.hex
