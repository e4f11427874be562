"""The patient index: each MRN's current demographics and merge state, for search and merges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ledger.patient import DEMOGRAPHIC_FIELDS, Patient
from ledger.store import Cursor, Database

_COLUMNS = ", ".join(f"{name} TEXT" for name in DEMOGRAPHIC_FIELDS)


@dataclass(frozen=True)
class IndexedPatient:
    """One row of the index."""

    mrn: str
    demographics: dict[str, Any]
    merged_into: str | None


class PatientIndex:
    """A view kept by the follower: one row per MRN (demographics are PHI: read via access)."""

    name = "patient-index"
    tables = ("patient_index",)

    def __init__(self, db: Database) -> None:
        self.db = db
        self.table = db.table("patient_index")

    def create_tables(self, cur: Cursor) -> None:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            f" mrn TEXT PRIMARY KEY, patient_id TEXT NOT NULL UNIQUE, {_COLUMNS},"
            " merged_into TEXT, registered_at TEXT NOT NULL)"
        )

    def apply(self, cur: Cursor, event: Any, notification_id: int) -> None:
        del notification_id
        if isinstance(event, Patient.Registered):
            values = [_text(event.demographics.get(name)) for name in DEMOGRAPHIC_FIELDS]
            cur.execute(
                f"INSERT INTO {self.table} "
                f"(mrn, patient_id, {', '.join(DEMOGRAPHIC_FIELDS)}, registered_at) "
                f"VALUES (?, ?, {', '.join('?' * len(DEMOGRAPHIC_FIELDS))}, ?)",
                (event.mrn, event.originator_id.hex, *values, event.timestamp.isoformat()),
            )
        elif isinstance(event, Patient.DemographicsCorrected):
            for name, value in event.changes.items():
                if name in DEMOGRAPHIC_FIELDS:
                    cur.execute(
                        f"UPDATE {self.table} SET {name}=? WHERE patient_id=?",
                        (_text(value), event.originator_id.hex),
                    )
        elif isinstance(event, Patient.MergedInto):
            cur.execute(
                f"UPDATE {self.table} SET merged_into=? WHERE patient_id=?",
                (event.survivor_mrn, event.originator_id.hex),
            )
        elif isinstance(event, Patient.MergeUndone):
            cur.execute(
                f"UPDATE {self.table} SET merged_into=NULL WHERE mrn=?", (event.retired_mrn,)
            )

    def all(self, *, include_merged: bool = False) -> list[IndexedPatient]:
        with self.db.transaction(commit=False) as cur:
            cur.execute(f"SELECT * FROM {self.table} ORDER BY mrn")
            rows = cur.fetchall()
        found = [_row(r) for r in rows]
        return found if include_merged else [p for p in found if p.merged_into is None]

    def get(self, mrn: str) -> IndexedPatient | None:
        with self.db.transaction(commit=False) as cur:
            cur.execute(f"SELECT * FROM {self.table} WHERE mrn=?", (mrn.strip().upper(),))
            row = cur.fetchone()
        return None if row is None else _row(row)


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


def _row(row: Any) -> IndexedPatient:
    demographics: dict[str, Any] = {}
    for name in DEMOGRAPHIC_FIELDS:
        value = row[name]
        if value is not None:
            demographics[name] = date.fromisoformat(value) if name == "birth_date" else value
    return IndexedPatient(str(row["mrn"]), demographics, row["merged_into"])
