"""What a chart held at a moment: the one rule every "as of" answer follows.

**The rule.** The record as of T is the replay of the events *recorded* at or before T (the
time the ledger wrote them down, never the clinical effective time), aggregate by aggregate:
the patient's index entry, the records merged into it at T, their encounters, and the documents
that were in the chart at T. Each aggregate is folded from the prefix of its own history
recorded by T, so each is a state it really had. `recorded_by` is that rule in code; every
as-of answer (`chart show --as-of`, the legal package, `audit patient --as-of`) uses it.

**What is withheld.** Some later events say that something in the chart at T never belonged in
it. Those are honoured in every as-of answer, and named (by identifier) so the reader knows:

- an entry retracted as entered in error (by the time of asking): its text is never shown;
- a document refiled to another patient's chart since T: it is another person's;
- a record merged into this one at T whose merge has since been undone: another person's chart.

Reads here are pure; the caller records the access first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import takewhile
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import project_aggregate

from ledger.aggregates.documents import Document
from ledger.aggregates.encounter import Encounter
from ledger.aggregates.patient import Patient, patient_id
from ledger.errors import PatientNotFound, UsageError

if TYPE_CHECKING:
    from ledger.application import Ledger

_E = TypeVar("_E")

WITHHELD_WHY = (
    "found since not to belong in this record: entries retracted as entered in error, documents "
    "refiled to another patient's chart, records whose merge was undone; never disclosed"
)


def recorded_by(events: Iterable[_E], moment: datetime) -> list[_E]:
    """The events of one aggregate recorded at or before `moment` (a prefix of its history)."""
    return list(takewhile(lambda e: cast(Any, e).timestamp <= moment, events))


def check_as_of(value: Any, *, now: datetime | None = None) -> datetime:
    """An 'as of' moment: aware, and not in the future."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise UsageError("The 'as of' moment must be a date and time with a time zone.")
    if value > (now or datetime.now(UTC)):
        raise UsageError("The 'as of' moment is in the future; the chart is not known yet.")
    return value


@dataclass(frozen=True)
class ChartAsOf:
    """A chart exactly as the ledger held it at `as_of`, with what has been withheld since."""

    as_of: datetime
    patient: Patient
    """The index entry as it stood (demographics as corrected by then)."""
    encounters: tuple[Encounter, ...]
    """In the order they were opened; their withheld entries are still inside (see below)."""
    documents: tuple[Document, ...]
    """Filed by `as_of`, in this chart then, and still in it (each as it stood then)."""
    withheld_entries: frozenset[tuple[UUID, UUID]]
    """(encounter, entry) of every entry of the chart (as it is now) retracted as entered in
    error by the time of asking, recorded before the moment or after it (a legal package redacts
    the events of all of them)."""
    withheld_documents: tuple[UUID, ...]
    withheld_records: tuple[str, ...]

    def shown_entries(self, encounter: Encounter) -> list[Any]:
        """An encounter's entries without the withheld ones."""
        return [
            entry
            for entry in encounter.entries.values()
            if (encounter.id, entry.id) not in self.withheld_entries
        ]

    def withheld_as_dict(self) -> dict[str, Any]:
        return {
            "entries": sorted(f"{e}:{entry}" for e, entry in self.withheld_entries),
            "documents": [str(d) for d in self.withheld_documents],
            "records": list(self.withheld_records),
            "why": WITHHELD_WHY,
        }


def chart_as_of(ledger: Ledger, mrn: str, as_of: datetime) -> ChartAsOf:
    """The chart of `mrn` as of `as_of` (the rule above), from each aggregate's events, read once
    (`Ledger.one_read` remembers them for the rest of the command)."""
    moment = check_as_of(as_of)
    current = ledger.patient(mrn)
    then_events = recorded_by(aggregate_events(ledger, current.id), moment)
    if not then_events:
        raise PatientNotFound(f"There was no patient with MRN {current.mrn} at {moment}.")
    patient = cast(Patient, project_aggregate(None, then_events))
    if patient.merged_into is not None:
        raise UsageError(
            f"{patient.mrn} had been merged into {patient.merged_into} by then; use that MRN."
        )
    ids_then = _chart_ids(ledger, patient, moment)
    ids_now = set(_chart_ids(ledger, current, None))
    kept_ids = [p for p in ids_then if p in ids_now]
    withheld_records = tuple(_mrn_of(ledger, p) for p in ids_then if p not in ids_now)

    index = ledger.chart_index()
    encounters = []
    withheld_entries: set[tuple[UUID, UUID]] = set()
    kept = set(kept_ids)
    for oid in index.encounter_ids(sorted(ids_now)):  # the chart now: what it withholds
        events = aggregate_events(ledger, oid)
        now_state = cast(Encounter, project_aggregate(None, events))
        withheld_entries |= {(oid, e.id) for e in now_state.entries.values() if e.retracted}
        prefix = recorded_by(events, moment) if now_state.patient_id in kept else []
        if prefix:
            encounters.append(cast(Encounter, project_aggregate(None, prefix)))

    documents, withheld_documents = _documents(ledger, set(ids_then), ids_now, moment)
    return ChartAsOf(
        as_of=moment,
        patient=patient,
        encounters=tuple(encounters),
        documents=tuple(documents),
        withheld_entries=frozenset(withheld_entries),
        withheld_documents=tuple(withheld_documents),
        withheld_records=withheld_records,
    )


def _documents(
    ledger: Ledger, ids_then: set[UUID], ids_now: set[UUID], moment: datetime
) -> tuple[list[Document], list[UUID]]:
    """Documents in the chart at `moment` that still are (as they stood then), and those since
    refiled to another chart or left with a record whose merge was undone (withheld)."""
    candidates = _candidate_documents(ledger, ids_then | ids_now)
    shown: list[Document] = []
    withheld: list[UUID] = []
    for oid in candidates:
        events = aggregate_events(ledger, oid)
        prefix = recorded_by(events, moment)
        if not prefix:
            continue  # filed after the moment
        then = cast(Document, project_aggregate(None, prefix))
        if then.patient_id not in ids_then:
            continue  # in another chart at the moment
        now = cast(Document, project_aggregate(None, events))
        if now.patient_id in ids_now:
            shown.append(then)
        else:
            withheld.append(oid)
    shown.sort(key=lambda d: (d.created_on, str(d.id)))
    return shown, withheld


def _candidate_documents(ledger: Ledger, chart_ids: set[UUID]) -> list[UUID]:
    """Documents indexed under these records now, then every document ever refiled (a document
    refiled away is no longer indexed under the chart it left; refiles are rare)."""
    candidates = list(ledger.chart_index().document_ids(sorted(chart_ids)))
    seen = set(candidates)
    for note in ledger.recorder.select_notifications(
        start=None, limit=10_000_000, topics=[Document.Refiled.TOPIC]
    ):
        oid = cast(UUID, note.originator_id)
        if oid not in seen:
            seen.add(oid)
            candidates.append(oid)
    return candidates


def documents_ever_in(ledger: Ledger, chart_ids: set[UUID]) -> list[UUID]:
    """Every document that was at some time in one of these records (filed there, refiled in
    or away), in the order they entered the log."""
    found = []
    for oid in _candidate_documents(ledger, chart_ids):
        holders = {getattr(e, "patient_id", None) for e in aggregate_events(ledger, oid)}
        if holders & chart_ids:
            found.append(oid)
    return found


def _chart_ids(ledger: Ledger, patient: Patient, moment: datetime | None) -> list[UUID]:
    """The patient and every record merged into it (merges of merges too), now or at a moment."""
    found: list[UUID] = [patient.id]
    pending = list(patient.absorbed)
    while pending:
        mrn = pending.pop(0)
        if patient_id(mrn) in found:
            continue
        found.append(patient_id(mrn))
        events = aggregate_events(ledger, patient_id(mrn))
        if moment is not None:
            events = recorded_by(events, moment)
        absorbed = cast(Patient, project_aggregate(None, events))
        pending.extend(absorbed.absorbed)
    return found


def _mrn_of(ledger: Ledger, pid: UUID) -> str:
    return cast(Patient, project_aggregate(None, aggregate_events(ledger, pid))).mrn


def aggregate_events(ledger: Ledger, originator_id: UUID) -> Sequence[Any]:
    """An aggregate's events, read once in a read command (`Ledger.one_read` remembers them)."""
    remembered = getattr(ledger.repository, "events_of", None)
    if remembered is not None:
        return cast(Sequence[Any], remembered(originator_id))
    return list(ledger.events.get(originator_id))
