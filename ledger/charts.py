"""The ledger's commands for encounters and chart entries, and the reads of a chart.

Commands check the charting policy and the encounter's invariants before anything is recorded,
so a refusal writes nothing. Adding an entry retries when another entry landed first (entries
are independent); every other command reports the conflict, since it was judged on a state that
has since changed.

The reads (`encounter`, `encounters`, `chart_history`; the chart as of a moment is
`ledger.as_of`) are pure: the caller records the access first
(`ledger.commands.access.record_access`), for the MRN it asked about. A retired (merged-away)
MRN is therefore not followed silently: reading it names its survivor in the error, so what is
shown is always the record the access event names. The survivor's chart includes the encounters
of every record merged into it.

A patient's encounters are found by scanning the `Opened` events (reading only each encounter's
first event); an index projection should replace this scan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import CanMutateAggregate

from ledger.access import Access
from ledger.as_of import documents_ever_in
from ledger.commands import access
from ledger.encounter import Encounter, check_effective_at
from ledger.errors import (
    AccessDenied,
    ConflictError,
    NotAuthorised,
    NotFound,
    UsageError,
    require,
)
from ledger.keys import Identity
from ledger.patient import Patient, patient_id
from ledger.text_checks import check_entry_text, checked_disposition
from policies import access as access_policy
from policies import charting
from policies.charting import is_late

if TYPE_CHECKING:
    from eventsourcing.application import Repository
    from eventsourcing.domain import MutableOrImmutableAggregate
    from eventsourcing.persistence import ApplicationRecorder, EventStore, Recording

    from ledger.application import Ledger
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
    author: str | None = None
    """For a recorded entry: who it names as its author (another than the actor: transcribed)."""


def _now() -> datetime:
    return datetime.now(UTC)


def _events(ledger: _LedgerLike, originator_id: UUID) -> list[_Event]:
    """An aggregate's events (read once in a read command: `Ledger.one_read`)."""
    remembered = getattr(ledger.repository, "events_of", None)
    if remembered is not None:
        return cast(list[_Event], remembered(originator_id))
    return [cast(_Event, e) for e in ledger.events.get(originator_id)]


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


def _chart_patient_ids(ledger: _LedgerLike, patient: Patient) -> list[UUID]:
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


def _encounter_ids(ledger: _LedgerLike, patient_ids: list[UUID]) -> list[UUID]:
    """Encounters opened for these patients, in the order they were opened (from the index)."""
    return ledger.chart_index().encounter_ids(patient_ids)


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
        break_glass_reason: str | None = None,
    ) -> UUID:
        """Admit or register a patient for a visit; returns the encounter's id.

        The access policy decides who may admit, and what an admission naming its own actor as
        attending means (`policies.access.decide_admission`): without a relationship it is
        breaking the glass, recorded as a flagged access in the same transaction as the
        encounter (refused without a reason, the refusal recorded).
        """
        acting = self.authenticate(actor)
        check_effective_at(effective_at, now=_now(), what="admission time")
        check_attending(self, attending)
        patient = _current_patient(self, mrn)
        access = _judge_move(
            self, acting.roles, patient.mrn, attending, actor, break_glass_reason, action="admit"
        )
        check_no_open_stay(self, patient, encounter_class)  # refused: nothing saved
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
        self.save(encounter, access, signer=actor)
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
        break_glass_reason: str | None = None,
    ) -> None:
        """Move the patient to another bed or service, or hand over to another attending (taking
        it over oneself is judged like an admission naming oneself attending)."""
        acting = self.authenticate(actor)
        require(charting.may_manage_encounter(acting.roles))
        check_effective_at(effective_at, now=_now(), what="transfer time")
        if attending is not None:
            check_attending(self, attending)
        encounter = _encounter(self, encounter_id)
        before = encounter.attending
        encounter.transfer(
            bed=bed,
            service=service,
            attending=attending,
            effective_at=effective_at,
            actor=actor.name,
        )  # checked before judging: only a real move is judged (and saved below)
        access = _judge_move(
            self,
            acting.roles,
            encounter.mrn,
            encounter.attending if encounter.attending != before else None,
            actor,
            break_glass_reason,
            action="transfer",
        )
        self.save(encounter, access, signer=actor)

    def discharge(
        self: _LedgerLike,
        encounter_id: UUID,
        *,
        disposition: str,
        effective_at: datetime,
        actor: Identity,
        break_glass_reason: str | None = None,
    ) -> None:
        """Discharge the patient (a clinician discharging a restricted or VIP patient without
        a close relationship breaks the glass, as a transfer does)."""
        acting = self.authenticate(actor)
        require(charting.may_manage_encounter(acting.roles))
        check_effective_at(effective_at, now=_now(), what="discharge time")
        encounter = _encounter(self, encounter_id)
        disposition = checked_disposition(disposition)  # a closed list: the NUBC status codes
        encounter.discharge(disposition=disposition, effective_at=effective_at, actor=actor.name)
        access = _judge_move(
            self, acting.roles, encounter.mrn, None, actor, break_glass_reason, action="discharge"
        )
        self.save(encounter, access, signer=actor)

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
        break_glass_reason: str | None = None,
    ) -> UUID:
        """Record a clinical entry; `author` (default: the actor) is who wrote it.

        Charting is an access (`policies.access.decide_charting`): a clinician without the
        relationship a treatment read needs breaks the glass (a flagged access event saved with
        the entry) or is refused (an `AccessDenied` event, and nothing else, is recorded)."""
        acting = self.authenticate(actor)
        require(charting.may_record_entry(acting.roles))
        check_effective_at(effective_at, now=_now())
        check_entry_text(self, text)
        written_by = (author or actor.name).strip()
        if written_by != actor.name:
            _check_author(self, written_by)
        for _ in range(_RETRIES):
            encounter = _encounter(self, encounter_id)
            access = _judge_charting(self, acting.roles, encounter, actor, break_glass_reason)
            entry_id = encounter.record_entry(
                kind=kind,
                text=text,
                fields=fields if fields is not None else {},
                author=written_by,
                effective_at=effective_at,
                actor=actor.name,
            )
            try:
                self.save(encounter, access, signer=actor)
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
        break_glass_reason: str | None = None,
    ) -> None:
        """Add a new version of an entry; the earlier ones stay (`fields=None` keeps them).
        An access like adding one (`add_entry`)."""
        acting = self.authenticate(actor)
        check_entry_text(self, text)
        encounter = _encounter(self, encounter_id)
        entry = encounter.entry(entry_id)
        require(charting.may_amend(acting.roles, actor=actor.name, author=entry.author))
        access = _judge_charting(self, acting.roles, encounter, actor, break_glass_reason)
        encounter.amend_entry(
            entry_id,
            text=text,
            fields=fields,
            reason=reason,
            requested_by=requested_by,
            actor=actor.name,
        )
        self.save(encounter, access, signer=actor)

    def retract_entry(
        self: _LedgerLike,
        encounter_id: UUID,
        entry_id: UUID,
        *,
        reason: str,
        actor: Identity,
        break_glass_reason: str | None = None,
    ) -> None:
        """Mark an entry "entered in error"; it stays in the chart, marked. An access like
        adding one (`add_entry`): a retracted entry leaves releases."""
        acting = self.authenticate(actor)
        encounter = _encounter(self, encounter_id)
        entry = encounter.entry(entry_id)
        require(charting.may_retract(acting.roles, actor=actor.name, author=entry.author))
        access = _judge_charting(self, acting.roles, encounter, actor, break_glass_reason)
        encounter.retract_entry(entry_id, reason=reason, actor=actor.name)
        self.save(encounter, access, signer=actor)

    def sign_entry(
        self: _LedgerLike,
        encounter_id: UUID,
        entry_id: UUID,
        *,
        actor: Identity,
        break_glass_reason: str | None = None,
    ) -> None:
        """A physician attests the entry's current version (an access like adding one)."""
        acting = self.authenticate(actor)
        encounter = _encounter(self, encounter_id)
        entry = encounter.entry(entry_id)
        require(
            charting.may_sign(
                acting.roles, actor=actor.name, author=entry.author, attending=encounter.attending
            )
        )
        access = _judge_charting(self, acting.roles, encounter, actor, break_glass_reason)
        encounter.sign_entry(entry_id, actor=actor.name)
        self.save(encounter, access, signer=actor)

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

    def chart_history(self: _LedgerLike, mrn: str) -> list[HistoryLine]:
        """Every change to the chart, in recorded order: the events of the patient record(s),
        their encounters, and every document that was ever in the chart (filed, refiled in or
        away)."""
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
        for oid in documents_ever_in(cast("Ledger", self), set(patient_ids)):
            lines.extend(_line(event, late=False) for event in _events(self, oid))
        lines.sort(key=lambda line: line.recorded_at)  # stable: each aggregate stays in order
        return lines


def check_no_open_stay(ledger: _LedgerLike, patient: Patient, encounter_class: str) -> None:
    """One open inpatient stay per chart (`policies.charting.may_open_encounter`), the records
    merged into it included; only read when the new encounter is of such a class."""
    if encounter_class not in charting.ONE_AT_A_TIME:
        return
    ids = _encounter_ids(ledger, _chart_patient_ids(ledger, patient))
    open_now = [
        charting.OpenEncounter(str(e.id), e.encounter_class, e.admitted_at)
        for e in (_encounter(ledger, oid) for oid in ids)
        if not e.discharged
    ]
    decision = charting.may_open_encounter(encounter_class, open_now)
    if not decision.allowed:
        raise UsageError(f"{patient.mrn} cannot be admitted: {decision.reason}.")


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


def _judge_move(
    ledger: _LedgerLike,
    roles: Iterable[str],
    mrn: str,
    attending: str | None,
    actor: Identity,
    break_glass_reason: str | None,
    *,
    action: str,
) -> Access | None:
    """The access policy's verdict on an admission, transfer or discharge (`action`), making
    `attending` (None: unchanged) the attending: None when it is plain, a flagged access event
    to save with the encounter when it breaks the glass; a refusal is recorded (an
    `AccessDenied` event), then raised."""
    from ledger.access_policy import current_access_config

    config = current_access_config(cast("Ledger", ledger))
    mrn = _chart_mrn(ledger, mrn)
    attending = attending.strip() if attending is not None else None
    guarded = mrn in config.restricted or mrn in config.vip
    held = set(roles)
    relationship = None
    if attending == actor.name or (guarded and held & access_policy.CLINICAL_ROLES):
        relationship = access.relationship_to(
            cast("Ledger", ledger),
            mrn,
            actor.name,
            now=_now(),
            window_days=config.window_days,
            restricted=guarded,  # a place the actor made themself is no close relationship
        )
    decision = access_policy.decide_admission(
        held,
        actor=actor.name,
        attending=attending,
        patient=access_policy.PatientFacts(mrn, relationship),
        break_glass_reason=break_glass_reason,
        config=config,
        action="admission" if action == "admit" else action,
    )
    if decision.allowed and not decision.flagged:
        return None
    record = Access.decided(
        decision,
        actor=actor.name,
        mrns=[mrn],
        action=action,
        sections=["encounters"],
        purpose="treatment",
        break_glass_reason=break_glass_reason,
    )
    if decision.allowed:
        return record
    if held & set(config.admit_roles):
        ledger.save(record, signer=actor)
        what = {"admit": "Admission"}.get(action, action.capitalize())
        raise AccessDenied(f"{what} refused: {decision.reason}.")
    raise NotAuthorised(decision.reason[0].upper() + decision.reason[1:] + ".")


def _chart_mrn(ledger: _LedgerLike, mrn: str) -> str:
    """The MRN of the chart an encounter of `mrn` is now part of (following merges)."""
    survivor = ledger.patient(mrn)
    while survivor.merged_into is not None and survivor.merged_into != mrn:
        mrn = survivor.merged_into
        survivor = ledger.patient(mrn)
    return mrn


def _judge_charting(
    ledger: _LedgerLike,
    roles: Iterable[str],
    encounter: Encounter,
    actor: Identity,
    break_glass_reason: str | None,
) -> Access | None:
    """The access policy's verdict on charting in this encounter: None when plain, a flagged
    access event to save with the entry (break the glass, a VIP's or a co-worker's chart); a
    refusal is recorded (an `AccessDenied` event), then raised."""
    from ledger.access_policy import current_access_config

    config = current_access_config(cast("Ledger", ledger))
    mrn = _chart_mrn(ledger, encounter.mrn)  # the chart the encounter is now part of
    relationship = None
    if set(roles) & access_policy.CLINICAL_ROLES:  # others: the role rules alone decide
        relationship = access.relationship_to(
            cast("Ledger", ledger),
            mrn,
            actor.name,
            now=_now(),
            window_days=config.window_days,
            restricted=mrn in config.restricted,
        )
    decision = access_policy.decide_charting(
        roles,
        actor=actor.name,
        patient=access_policy.PatientFacts(mrn, relationship),
        encounter=access_policy.EncounterFacts(
            attending=encounter.attending,
            care_team=encounter.care_team,
            admitted_at=encounter.admitted_at,
            discharged_at=encounter.discharged_at,
            self_assigned=encounter.self_assigned,
        ),
        break_glass_reason=break_glass_reason,
        config=config,
    )
    if decision.allowed and not decision.flagged:
        return None
    record = Access.decided(
        decision,
        actor=actor.name,
        mrns=[mrn],
        action="chart",
        sections=["chart"],
        purpose="treatment",
        break_glass_reason=break_glass_reason,
    )
    if decision.allowed:
        return record
    ledger.save(record, signer=actor)
    raise AccessDenied(f"Charting refused: {decision.reason}.")


def _check_author(ledger: _LedgerLike, name: str) -> None:
    """Someone named as another's entry's author: enrolled, not revoked, a clinician."""
    try:
        user = ledger.user(name)
    except NotFound:
        raise UsageError(f"There is no user named '{name}' to be the entry's author.") from None
    decision = charting.may_be_named_author(user.roles, revoked=user.revoked)
    if not decision.allowed:
        raise UsageError(f"{user.name} cannot be an entry's author: {decision.reason}.")
