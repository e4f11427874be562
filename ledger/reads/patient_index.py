"""The patient index: each MRN's current demographics and merge state, for search and merges.

A view kept by a `Follower`, like the chart index, and in `ledger/` for the same reason: the
write side reads it (a registration searches it for likely duplicates first,
`ledger.commands.patients.register_after_search`), and `projections/` never holds anything the
write side must read. The search ranks with `policies.matching`, imported only when one runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from ledger.aggregates.patient import Patient
from ledger.follower import Follower
from ledger.stores.database import Cursor, Database
from policies.patients import DEMOGRAPHIC_FIELDS

if TYPE_CHECKING:
    from ledger.application import Ledger
    from policies.matching import Demographics, MatchScore

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


@dataclass(frozen=True)
class Candidate:
    """A patient the index proposes, with the score and the reason (fields, never values)."""

    patient: IndexedPatient
    score: MatchScore

    def as_dict(self) -> dict[str, Any]:
        return {
            "mrn": self.patient.mrn,
            "demographics": {
                k: (v.isoformat() if hasattr(v, "isoformat") else v)
                for k, v in self.patient.demographics.items()
            },
            "score": round(self.score.total, 1),
            "classification": self.score.classification,
            "agreed": list(self.score.agreed),
            "disagreed": list(self.score.disagreed),
            "reason": self.score.reason,
        }


def current_index(ledger: Ledger) -> PatientIndex:
    """The patient index, caught up with the log first."""
    index = PatientIndex(ledger.db)
    Follower(ledger, [index]).catch_up()
    return index


def matching_demographics(fields: dict[str, Any]) -> Demographics:
    """Index fields as the matcher's `Demographics`."""

    def text(name: str) -> str | None:
        value = fields.get(name)
        return None if value in (None, "") else str(value)

    born = fields.get("birth_date")
    from policies.matching import Demographics

    return Demographics(
        given_name=str(fields.get("given_name") or ""),
        family_name=str(fields.get("family_name") or ""),
        birth_date=born if isinstance(born, date) else None,
        sex=text("sex"),
        street=text("street"),
        locality=text("locality"),
        postcode=text("postcode"),
        state=text("state"),
        phone=text("phone"),
        identifier=text("identifier"),
    )


def ranked(
    index: PatientIndex, query: dict[str, Any], limit: int
) -> list[tuple[IndexedPatient, MatchScore]]:
    """The index's best `limit` matches of `query`, best first."""
    patients = index.all()
    records = [matching_demographics(p.demographics).normalise() for p in patients]
    from policies.matching import rank_candidates

    found = rank_candidates(matching_demographics(query).normalise(), records, limit=limit)
    return [(patients[i], score) for i, score in found]
