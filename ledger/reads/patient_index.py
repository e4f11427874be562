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
    """A view kept by the follower: one row per MRN (demographics are PHI: read via access),
    and the keys each patient is filed under (`policies.matching.index_keys`), one row per key
    and patient, so that a search scores only the patients sharing a key with the query.

    Version 2 adds the key table.
    """

    name = "patient-index"
    tables = ("patient_index", "patient_index_keys")
    version = 2

    def __init__(self, db: Database) -> None:
        self.db = db
        self.table = db.table("patient_index")
        self.keys = db.table("patient_index_keys")

    def create_tables(self, cur: Cursor) -> None:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            f" mrn TEXT PRIMARY KEY, patient_id TEXT NOT NULL UNIQUE, {_COLUMNS},"
            " merged_into TEXT, registered_at TEXT NOT NULL)"
        )
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self.keys} ("
            " key TEXT NOT NULL, patient_id TEXT NOT NULL, PRIMARY KEY (key, patient_id))"
        )
        cur.execute(
            f"CREATE INDEX IF NOT EXISTS patient_index_keys_by_patient ON {self.keys} (patient_id)"
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
            self._file(cur, event.originator_id.hex)
        elif isinstance(event, Patient.DemographicsCorrected):
            for name, value in event.changes.items():
                if name in DEMOGRAPHIC_FIELDS:
                    cur.execute(
                        f"UPDATE {self.table} SET {name}=? WHERE patient_id=?",
                        (_text(value), event.originator_id.hex),
                    )
            self._file(cur, event.originator_id.hex)
        elif isinstance(event, Patient.MergedInto):
            cur.execute(
                f"UPDATE {self.table} SET merged_into=? WHERE patient_id=?",
                (event.survivor_mrn, event.originator_id.hex),
            )
        elif isinstance(event, Patient.MergeUndone):
            cur.execute(
                f"UPDATE {self.table} SET merged_into=NULL WHERE mrn=?", (event.retired_mrn,)
            )

    def _file(self, cur: Cursor, patient_id: str) -> None:
        """(Re)file a patient under the keys of the demographics the index now holds."""
        from policies.matching import index_keys

        cur.execute(f"DELETE FROM {self.keys} WHERE patient_id=?", (patient_id,))
        cur.execute(f"SELECT * FROM {self.table} WHERE patient_id=?", (patient_id,))
        row = cur.fetchone()
        if row is None:
            return
        keys = index_keys(matching_demographics(_row(row).demographics))
        if keys:
            cur.executemany(
                f"INSERT INTO {self.keys} (key, patient_id) VALUES (?, ?)",
                [(key, patient_id) for key in keys],
            )

    def purge(self, cur: Cursor, patient_id: str) -> None:
        """Remove one patient (by aggregate id, hex) from the index and its keys, as when the
        records are destroyed at the end of their retention.

        The view is derived from the log: the purge lasts as long as the patient's events are
        gone too, or a rebuild (`chartledger upgrade`) files the patient again.
        """
        cur.execute(f"DELETE FROM {self.keys} WHERE patient_id=?", (patient_id,))
        cur.execute(f"DELETE FROM {self.table} WHERE patient_id=?", (patient_id,))

    def candidates(self, keys: list[str], *, max_block: int | None = None) -> list[IndexedPatient]:
        """The unmerged patients filed under any of `keys`, by MRN, in one indexed query; keys
        shared by more than `max_block` patients are left out, unless every key is (then the
        smallest key's block, at most `max_block` patients of it)."""
        if not keys:
            return []
        from policies.matching import MAX_SEARCH_BLOCK

        cap = MAX_SEARCH_BLOCK if max_block is None else max_block
        with self.db.transaction(commit=False) as cur:
            cur.execute(self.candidate_query(len(keys)), (*keys, cap))
            rows = cur.fetchall()
            if not rows:  # every key too common, or none filed at all
                cur.execute(self.smallest_block_query(len(keys)), (*keys, cap))
                rows = cur.fetchall()
        return [_row(r) for r in rows]

    def candidate_query(self, count: int) -> str:
        """The candidates' SQL for `count` keys then the largest block kept (parameters)."""
        marks = ", ".join("?" * count)
        return (
            f"SELECT p.* FROM {self.table} p WHERE p.merged_into IS NULL AND p.patient_id IN"
            f" (SELECT k.patient_id FROM {self.keys} k WHERE k.key IN"
            f" (SELECT b.key FROM {self.keys} b WHERE b.key IN ({marks})"
            " GROUP BY b.key HAVING COUNT(*) <= ?)) ORDER BY p.mrn"
        )

    def smallest_block_query(self, count: int) -> str:
        """The SQL of the smallest block among `count` keys, at most a number of patients."""
        marks = ", ".join("?" * count)
        return (
            f"SELECT p.* FROM {self.table} p JOIN {self.keys} k"
            " ON k.patient_id = p.patient_id WHERE p.merged_into IS NULL AND k.key ="
            f" (SELECT b.key FROM {self.keys} b WHERE b.key IN ({marks})"
            " GROUP BY b.key ORDER BY COUNT(*), b.key LIMIT 1) ORDER BY p.mrn LIMIT ?"
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
    """The index's best `limit` matches of `query`, best first, among the patients that share a
    key with it (`policies.matching.search_keys`): none when the query has no key."""
    from policies.matching import rank_candidates, search_keys

    wanted = matching_demographics(query).normalise()
    patients = index.candidates(search_keys(wanted))
    records = [matching_demographics(p.demographics).normalise() for p in patients]
    found = rank_candidates(wanted, records, limit=limit)
    return [(patients[i], score) for i, score in found]
