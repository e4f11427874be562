"""The reads of a chart: a patient's encounters, the chart's history, the chart an MRN is in.

The commands that change a chart are in `ledger.commands.encounters` and
`ledger.commands.entries`; the chart as of a moment is `ledger.reads.as_of`; one encounter is the
loader `Ledger.encounter`.

The reads are pure: the caller records the access first (`record_access`), for the MRN it asked
about. A retired (merged-away) MRN is therefore not followed silently: reading it names its
survivor in the error, so what is shown is always the record the access event names. The
survivor's chart includes the encounters of every record merged into it. A patient's encounters
are found through the chart index (`Ledger.chart_index`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, cast
from uuid import UUID

from eventsourcing.domain import CanMutateAggregate

from ledger.aggregates.coding_ids import abstract_id
from ledger.aggregates.encounter import Encounter
from ledger.aggregates.patient import Patient, patient_id
from ledger.errors import UsageError
from ledger.reads.as_of import aggregate_events, documents_ever_in
from policies.charting import is_late

if TYPE_CHECKING:
    from ledger.application import Ledger

_Event = CanMutateAggregate[UUID]


class LoadsPatients(Protocol):
    """What finds a patient record: the ledger, or a command batch (its pending ones first)."""

    def patient(self, mrn: str) -> Patient: ...


@dataclass(frozen=True)
class HistoryLine:
    """One event of a chart, with both its times and its audit facts."""

    event_id: str
    recorded_at: datetime
    effective_at: datetime | None
    actor: str | None
    what: str
    reason: str | None
    late: bool
    entry_id: UUID | None = None
    requested_by: str | None = None
    author: str | None = None
    """For a recorded entry: who it names as its author (another than the actor: transcribed)."""

    @property
    def entered_for(self) -> str | None:
        """The author an entry was entered for, when that is not the actor (a transcription)."""
        return self.author if self.author is not None and self.author != self.actor else None

    def as_dict(self) -> dict[str, Any]:
        """One change as data (`chart history --json`, the legal package's `history.json`)."""
        return {
            "event": self.event_id,
            "recorded_at": self.recorded_at.isoformat(),
            "effective_at": None if self.effective_at is None else self.effective_at.isoformat(),
            "actor": self.actor,
            "what": self.what,
            "reason": self.reason,
            "late": self.late,
            "entry": None if self.entry_id is None else str(self.entry_id),
            "requested_by": self.requested_by,
            "author": self.author,
            "entered_for": self.entered_for,
        }


def encounters(ledger: Ledger, mrn: str) -> list[Encounter]:
    """A patient's encounters, and those of records merged into it, in order of opening."""
    patient = current_patient(ledger, mrn)
    ids = encounter_ids(ledger, chart_patient_ids(ledger, patient))
    return [ledger.encounter(oid) for oid in ids]


def chart_history(ledger: Ledger, mrn: str) -> list[HistoryLine]:
    """Every change to the chart, in recorded order: the events of the patient record(s),
    their encounters and each encounter's coding abstract, and every document that was ever in
    the chart (filed, refiled in or away)."""
    patient = current_patient(ledger, mrn)
    patient_ids = chart_patient_ids(ledger, patient)
    lines: list[HistoryLine] = []
    for pid in patient_ids:
        for event in _events(ledger, pid):
            effective = getattr(event, "effective_at", None)
            late = effective is not None and is_late(effective, event.timestamp)
            lines.append(_line(event, late=late))
    for oid in encounter_ids(ledger, patient_ids):
        lines.extend(_encounter_history(_events(ledger, oid)))
        lines.extend(_line(event, late=False) for event in _events(ledger, abstract_id(oid)))
    for oid in documents_ever_in(ledger, set(patient_ids)):
        lines.extend(_line(event, late=False) for event in _events(ledger, oid))
    lines.sort(key=lambda line: line.recorded_at)  # stable: each aggregate stays in order
    return lines


def current_patient(ledger: LoadsPatients, mrn: str) -> Patient:
    """The patient of `mrn`, refused (naming the survivor) if it was merged away."""
    patient = ledger.patient(mrn)
    if patient.merged_into is not None:
        raise UsageError(f"{patient.mrn} was merged into {patient.merged_into}; use that MRN.")
    return patient


def chart_patient_ids(ledger: LoadsPatients, patient: Patient) -> list[UUID]:
    """The patient and every record merged into it (merges of merges too)."""
    found: list[UUID] = [patient.id]
    pending = list(patient.absorbed)
    while pending:
        mrn = pending.pop(0)
        if patient_id(mrn) in found:
            continue
        found.append(patient_id(mrn))
        absorbed = ledger.patient(mrn)
        pending.extend(absorbed.absorbed)
    return found


def encounter_ids(ledger: Ledger, patient_ids: list[UUID]) -> list[UUID]:
    """Encounters opened for these patients, in the order they were opened (from the index)."""
    return ledger.chart_index().encounter_ids(patient_ids)


def chart_mrn(ledger: LoadsPatients, mrn: str) -> str:
    """The MRN of the chart an encounter of `mrn` is now part of (following merges)."""
    survivor = ledger.patient(mrn)
    while survivor.merged_into is not None and survivor.merged_into != mrn:
        mrn = survivor.merged_into
        survivor = ledger.patient(mrn)
    return mrn


def _events(ledger: Ledger, originator_id: UUID) -> list[_Event]:
    return cast(list[_Event], list(aggregate_events(ledger, originator_id)))


def _line(event: _Event, *, late: bool) -> HistoryLine:
    facts = vars(event)
    entry_id = facts.get("entry_id")
    return HistoryLine(
        event_id=f"{event.originator_id}/{event.originator_version}",
        recorded_at=event.timestamp,
        effective_at=facts.get("effective_at"),
        actor=facts.get("actor"),
        what=type(event).__qualname__,
        reason=facts.get("reason"),
        late=late,
        entry_id=entry_id if isinstance(entry_id, UUID) else None,
        requested_by=facts.get("requested_by"),
        author=facts.get("author") if isinstance(facts.get("author"), str) else None,
    )


def _encounter_history(events: list[_Event]) -> list[HistoryLine]:
    """Replay an encounter, so each entry's late flag is the one the aggregate computed."""
    lines = []
    encounter: Any = None
    for event in events:
        encounter = event.mutate(encounter)
        if isinstance(event, Encounter.EntryRecorded):
            late = encounter.entries[event.entry_id].late
        else:
            effective = getattr(event, "effective_at", None)
            late = effective is not None and is_late(effective, event.timestamp)
        lines.append(_line(event, late=late))
    return lines
