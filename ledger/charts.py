"""The ledger's commands for encounters and chart entries, and the reads of a chart.

Commands check the charting policy and the encounter's invariants before anything is recorded,
so a refusal writes nothing. Adding an entry retries when another entry landed first (entries
are independent); every other command reports the conflict, since it was judged on a state that
has since changed.

The reads (`encounter`, `encounters`, `chart_as_of`, `chart_history`) are pure: the caller
records the access first (`record_access`), for the MRN it asked about. A retired (merged-away)
MRN is therefore not followed silently: reading it names its survivor in the error, so what is
shown is always the record the access event names. The survivor's chart includes the encounters
of every record merged into it.

A patient's encounters are found by scanning the `Opened` events (reading only each encounter's
first event); an index projection should replace this scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import takewhile
from typing import TYPE_CHECKING, Any, Protocol, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, project_aggregate
from eventsourcing.domain import CanMutateAggregate

from ledger.encounter import Encounter, check_effective_at
from ledger.errors import ConflictError, NotFound, PatientNotFound, UsageError, require
from ledger.keys import Identity
from ledger.patient import Patient, patient_id
from ledger.text_checks import check_entry_text, checked_disposition
from policies import charting
from policies.charting import is_late

if TYPE_CHECKING:
    from eventsourcing.application import Repository
    from eventsourcing.domain import MutableOrImmutableAggregate
    from eventsourcing.persistence import ApplicationRecorder, EventStore, Recording

    from ledger.chart_index import ChartIndex
    from ledger.user import User

_RETRIES = 5

_Event = CanMutateAggregate[UUID]


class _LedgerLike(Protocol):
    """What these commands use of the `Ledger` they are mixed into."""

    @property
    def repository(self) -> Repository[UUID]: ...

    @property
    def recorder(self) -> ApplicationRecorder: ...

    @property
    def events(self) -> EventStore[UUID]: ...

    def authenticate(self, identity: Identity) -> User: ...

    def user(self, name: str) -> User: ...

    def save(
        self, *objs: MutableOrImmutableAggregate[UUID] | None, signer: Identity, **kwargs: Any
    ) -> list[Recording[UUID]]: ...

    def patient(self, mrn: str) -> Patient: ...

    def chart_index(self) -> ChartIndex: ...


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


def _now() -> datetime:
    return datetime.now(UTC)


def _events(ledger: _LedgerLike, originator_id: UUID, **kwargs: Any) -> list[_Event]:
    return [cast(_Event, e) for e in ledger.events.get(originator_id, **kwargs)]


def _fold(events: list[_Event]) -> Any:
    return project_aggregate(None, events)


def _encounter(ledger: _LedgerLike, encounter_id: UUID) -> Encounter:
    try:
        found: object = ledger.repository.get(encounter_id)
    except AggregateNotFoundError:
        found = None
    if not isinstance(found, Encounter):
        raise NotFound(f"There is no encounter {encounter_id}.")
    return found


def _current_patient(ledger: _LedgerLike, mrn: str) -> Patient:
    patient = ledger.patient(mrn)
    if patient.merged_into is not None:
        raise UsageError(f"{patient.mrn} was merged into {patient.merged_into}; use that MRN.")
    return patient


def _patient_as_of(ledger: _LedgerLike, mrn: str, as_of: datetime) -> Patient:
    current = ledger.patient(mrn)
    events = list(takewhile(lambda e: e.timestamp <= as_of, _events(ledger, current.id)))
    if not events:
        raise PatientNotFound(f"There was no patient with MRN {current.mrn} at {as_of}.")
    then = cast(Patient, _fold(events))
    if then.merged_into is not None:
        raise UsageError(
            f"{then.mrn} had been merged into {then.merged_into} by then; use that MRN."
        )
    return then


def _chart_patient_ids(
    ledger: _LedgerLike, patient: Patient, as_of: datetime | None = None
) -> list[UUID]:
    """The patient and every record merged into it (merges of merges too), as of a moment."""
    found: list[UUID] = [patient.id]
    pending = list(patient.absorbed)
    while pending:
        mrn = pending.pop(0)
        if patient_id(mrn) in found:
            continue
        found.append(patient_id(mrn))
        absorbed = ledger.patient(mrn) if as_of is None else _absorbed_as_of(ledger, mrn, as_of)
        pending.extend(absorbed.absorbed)
    return found


def _absorbed_as_of(ledger: _LedgerLike, mrn: str, as_of: datetime) -> Patient:
    events = takewhile(lambda e: e.timestamp <= as_of, _events(ledger, patient_id(mrn)))
    return cast(Patient, _fold(list(events)))


def _encounter_ids(ledger: _LedgerLike, patient_ids: list[UUID]) -> list[UUID]:
    """Encounters opened for these patients, in the order they were opened (from the index)."""
    return ledger.chart_index().encounter_ids(patient_ids)


def check_as_of(value: Any) -> datetime:
    """An 'as of' moment: aware, and not in the future."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise UsageError("The 'as of' moment must be a date and time with a time zone.")
    if value > _now():
        raise UsageError("The 'as of' moment is in the future; the chart is not known yet.")
    return value


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


class ChartCommands:
    """Mixed into `Ledger`: every command names its actor and signs what it records."""

    # -- encounters ---------------------------------------------------------------------------
    def open_encounter(
        self: _LedgerLike,
        mrn: str,
        *,
        encounter_class: str,
        attending: str,
        service: str,
        bed: str | None = None,
        effective_at: datetime,
        actor: Identity,
    ) -> UUID:
        """Admit or register a patient for a visit; returns the encounter's id."""
        acting = self.authenticate(actor)
        require(charting.may_manage_encounter(acting.roles))
        check_effective_at(effective_at, now=_now(), what="admission time")
        check_attending(self, attending)
        patient = _current_patient(self, mrn)
        encounter = Encounter.open(
            patient.id,
            patient.mrn,
            encounter_class=encounter_class,
            attending=attending,
            service=service,
            bed=bed,
            effective_at=effective_at,
            actor=actor.name,
        )
        self.save(encounter, signer=actor)
        return encounter.id

    def transfer(
        self: _LedgerLike,
        encounter_id: UUID,
        *,
        bed: str | None = None,
        service: str | None = None,
        attending: str | None = None,
        effective_at: datetime,
        actor: Identity,
    ) -> None:
        """Move the patient to another bed or service, or hand over to another attending."""
        acting = self.authenticate(actor)
        require(charting.may_manage_encounter(acting.roles))
        check_effective_at(effective_at, now=_now(), what="transfer time")
        if attending is not None:
            check_attending(self, attending)
        encounter = _encounter(self, encounter_id)
        encounter.transfer(
            bed=bed,
            service=service,
            attending=attending,
            effective_at=effective_at,
            actor=actor.name,
        )
        self.save(encounter, signer=actor)

    def discharge(
        self: _LedgerLike,
        encounter_id: UUID,
        *,
        disposition: str,
        effective_at: datetime,
        actor: Identity,
    ) -> None:
        acting = self.authenticate(actor)
        require(charting.may_manage_encounter(acting.roles))
        check_effective_at(effective_at, now=_now(), what="discharge time")
        encounter = _encounter(self, encounter_id)
        disposition = checked_disposition(disposition)  # a closed list: the NUBC status codes
        encounter.discharge(disposition=disposition, effective_at=effective_at, actor=actor.name)
        self.save(encounter, signer=actor)

    # -- entries ------------------------------------------------------------------------------
    def add_entry(
        self: _LedgerLike,
        encounter_id: UUID,
        *,
        kind: str,
        text: str,
        fields: dict[str, Any] | None = None,
        author: str | None = None,
        effective_at: datetime,
        actor: Identity,
    ) -> UUID:
        """Record a clinical entry; `author` (default: the actor) is who wrote it."""
        acting = self.authenticate(actor)
        require(charting.may_record_entry(acting.roles))
        check_effective_at(effective_at, now=_now())
        check_entry_text(self, text)
        written_by = (author or actor.name).strip()
        if written_by != actor.name:
            _check_author(self, written_by)
        for _ in range(_RETRIES):
            encounter = _encounter(self, encounter_id)
            entry_id = encounter.record_entry(
                kind=kind,
                text=text,
                fields=fields if fields is not None else {},
                author=written_by,
                effective_at=effective_at,
                actor=actor.name,
            )
            try:
                self.save(encounter, signer=actor)
            except ConflictError:
                continue  # another entry landed first; entries are independent, so add it after
            return entry_id
        raise ConflictError(
            f"Encounter {encounter_id} is very busy; the entry was not recorded. Try again."
        )

    def amend_entry(
        self: _LedgerLike,
        encounter_id: UUID,
        entry_id: UUID,
        *,
        text: str,
        fields: dict[str, Any] | None = None,
        reason: str,
        requested_by: str,
        actor: Identity,
    ) -> None:
        """Add a new version of an entry; the earlier ones stay (`fields=None` keeps them)."""
        acting = self.authenticate(actor)
        check_entry_text(self, text)
        encounter = _encounter(self, encounter_id)
        entry = encounter.entry(entry_id)
        require(charting.may_amend(acting.roles, actor=actor.name, author=entry.author))
        encounter.amend_entry(
            entry_id,
            text=text,
            fields=fields,
            reason=reason,
            requested_by=requested_by,
            actor=actor.name,
        )
        self.save(encounter, signer=actor)

    def retract_entry(
        self: _LedgerLike, encounter_id: UUID, entry_id: UUID, *, reason: str, actor: Identity
    ) -> None:
        """Mark an entry "entered in error"; it stays in the chart, marked."""
        acting = self.authenticate(actor)
        encounter = _encounter(self, encounter_id)
        entry = encounter.entry(entry_id)
        require(charting.may_retract(acting.roles, actor=actor.name, author=entry.author))
        encounter.retract_entry(entry_id, reason=reason, actor=actor.name)
        self.save(encounter, signer=actor)

    def sign_entry(
        self: _LedgerLike, encounter_id: UUID, entry_id: UUID, *, actor: Identity
    ) -> None:
        """A physician attests the entry's current version."""
        acting = self.authenticate(actor)
        encounter = _encounter(self, encounter_id)
        entry = encounter.entry(entry_id)
        require(
            charting.may_sign(
                acting.roles, actor=actor.name, author=entry.author, attending=encounter.attending
            )
        )
        encounter.sign_entry(entry_id, actor=actor.name)
        self.save(encounter, signer=actor)

    def deny_amendment(
        self: _LedgerLike,
        encounter_id: UUID,
        entry_id: UUID,
        *,
        reason: str,
        statement_of_disagreement: str | None,
        requested_by: str = "patient",
        requested_change: str | None = None,
        actor: Identity,
    ) -> None:
        """Record a refused amendment request with the patient's statement of disagreement."""
        acting = self.authenticate(actor)
        require(charting.may_deny_amendment(acting.roles))
        encounter = _encounter(self, encounter_id)
        encounter.deny_amendment(
            entry_id,
            reason=reason,
            statement_of_disagreement=statement_of_disagreement,
            requested_by=requested_by,
            requested_change=requested_change,
            actor=actor.name,
        )
        self.save(encounter, signer=actor)

    # -- reads (the caller records the access first) -----------------------------------------
    def encounter(self: _LedgerLike, encounter_id: UUID) -> Encounter:
        return _encounter(self, encounter_id)

    def encounters(self: _LedgerLike, mrn: str) -> list[Encounter]:
        """A patient's encounters, and those of records merged into it, in order of opening."""
        patient = _current_patient(self, mrn)
        ids = _encounter_ids(self, _chart_patient_ids(self, patient))
        return [_encounter(self, oid) for oid in ids]

    def chart_as_of(self: _LedgerLike, mrn: str, as_of: datetime) -> list[Encounter]:
        """The encounters as the ledger held them at `as_of` (by recorded time, not effective).

        Each encounter is rebuilt from its events recorded at or before `as_of` (a prefix of its
        history, so always a state it really had); merges are taken as they stood then too.
        """
        moment = check_as_of(as_of)
        patient = _patient_as_of(self, mrn, moment)
        ids = _encounter_ids(self, _chart_patient_ids(self, patient, moment))
        chart = []
        for oid in ids:
            events = list(takewhile(lambda e: e.timestamp <= moment, _events(self, oid)))
            if events:
                chart.append(cast(Encounter, _fold(events)))
        return chart

    def chart_history(self: _LedgerLike, mrn: str) -> list[HistoryLine]:
        """Every event of the patient record(s) and their encounters, in recorded order."""
        patient = _current_patient(self, mrn)
        patient_ids = _chart_patient_ids(self, patient)
        lines: list[HistoryLine] = []
        for pid in patient_ids:
            for event in _events(self, pid):
                effective = getattr(event, "effective_at", None)
                late = effective is not None and is_late(effective, event.timestamp)
                lines.append(_line(event, late=late))
        for oid in _encounter_ids(self, patient_ids):
            lines.extend(_encounter_history(_events(self, oid)))
        lines.sort(key=lambda line: line.recorded_at)  # stable: each aggregate stays in order
        return lines


def check_attending(ledger: _LedgerLike, name: str) -> None:
    """The attending must be an enrolled physician whose key is not revoked."""
    name = (name or "").strip()
    if not name:
        raise UsageError("Give the attending physician.")
    try:
        user = ledger.user(name)
    except NotFound:
        raise UsageError(f"There is no user named '{name}' to be the attending.") from None
    decision = charting.may_be_attending(user.roles)
    if not decision.allowed:
        raise UsageError(f"{user.name} cannot be the attending: {decision.reason}.")
    if user.revoked:
        raise UsageError(f"{user.name} cannot be the attending: their key has been revoked.")


def _check_author(ledger: _LedgerLike, name: str) -> None:
    try:
        user = ledger.user(name)
    except NotFound:
        raise UsageError(f"There is no user named '{name}' to be the entry's author.") from None
    decision = charting.may_record_entry(user.roles)
    if not decision.allowed:
        raise UsageError(f"{user.name} cannot be an entry's author: {decision.reason}.")
