"""`Encounter`: one admission or visit, with its clinical entries, amendments and signatures.

Every event names the patient (`patient_id`), so its body is encrypted with that patient's data
key; the link from patient to encounter lives here only (the patient record does not list its
encounters). Nothing is erased: an amendment adds a version to the entry it amends, a retraction
marks the entry "entered in error" and keeps it, a denied amendment request is recorded with the
patient's statement of disagreement. Each clinical fact has two times: `effective_at` (when it
happened, from the caller) and `recorded_at` (the event's own timestamp).

Entries may be added after discharge (hospitals allow late documentation); one effective before
the discharge is flagged late, as is any entry effective more than 24 hours before it was
recorded (`policies.charting.is_late`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from ledger.errors import NotFound, UsageError
from policies.charting import ENCOUNTER_CLASSES, ENTRY_KINDS, is_late

CLOCK_SKEW = timedelta(minutes=5)
"""How far ahead of this node's clock an `effective_at` may be (a device's clock may run fast)."""

_SCALARS = (str, int, float, bool, type(None), bytes, UUID, date, datetime, Decimal)


def check_effective_at(value: Any, *, now: datetime, what: str = "effective time") -> None:
    """A clinical time must be timezone-aware (so it means one instant) and not in the future."""
    if not isinstance(value, datetime):
        raise UsageError(f"The {what} must be a date and time.")
    if value.tzinfo is None or value.utcoffset() is None:
        raise UsageError(f"The {what} must include a time zone (e.g. +00:00).")
    if value > now + CLOCK_SKEW:
        raise UsageError(f"The {what} is in the future.")


def check_fields(fields: Any) -> dict[str, Any]:
    """Structured entry fields: names are text, values plain data the event encoding carries."""
    if not isinstance(fields, dict):
        raise UsageError("An entry's fields must be a mapping of names to values.")

    def check(value: Any, name: str) -> None:
        if isinstance(value, list):
            for item in value:
                check(item, name)
        elif isinstance(value, dict):
            for key, item in value.items():
                if type(key) is not str:
                    raise UsageError(f"Field '{name}' has a name that is not text.")
                check(item, name)
        elif type(value) not in _SCALARS:
            raise UsageError(f"Field '{name}' holds a value of a type a chart cannot store.")
        elif type(value) is datetime and value.tzinfo is None:
            raise UsageError(f"Field '{name}' holds a time without a time zone.")
        elif type(value) is int and not -(2**63) <= value < 2**64:
            raise UsageError(f"Field '{name}' holds a number too large to store.")

    for key, value in fields.items():
        if type(key) is not str or not key.strip():
            raise UsageError("Every entry field needs a name.")
        check(value, key)
    return dict(fields)


def _text(value: str | None, what: str) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        raise UsageError(f"Give {what}.")
    return cleaned


@dataclass(frozen=True)
class EntryVersion:
    """One version of an entry: the original, or an amendment with its reason and requester."""

    text: str
    fields: dict[str, Any]
    author: str
    effective_at: datetime
    recorded_at: datetime
    recorded_by: str
    reason: str | None = None
    requested_by: str | None = None


@dataclass(frozen=True)
class Signature:
    """A physician's attestation of one version of an entry (1 is the original)."""

    physician: str
    version: int
    signed_at: datetime


@dataclass(frozen=True)
class DeniedAmendment:
    """A refused amendment request, kept with the patient's statement of disagreement."""

    reason: str
    statement_of_disagreement: str | None
    requested_by: str
    requested_change: str | None
    denied_by: str
    denied_at: datetime


@dataclass
class Entry:
    """A clinical entry and everything that happened to it since."""

    id: UUID
    kind: str
    versions: list[EntryVersion]
    late: bool
    retracted: bool = False
    retraction_reason: str | None = None
    retracted_by: str | None = None
    retracted_at: datetime | None = None
    signatures: list[Signature] = field(default_factory=list)
    denied_amendments: list[DeniedAmendment] = field(default_factory=list)

    @property
    def current(self) -> EntryVersion:
        return self.versions[-1]

    @property
    def original(self) -> EntryVersion:
        return self.versions[0]

    @property
    def text(self) -> str:
        return self.current.text

    @property
    def fields(self) -> dict[str, Any]:
        return self.current.fields

    @property
    def author(self) -> str:
        """Who wrote the entry (the original's author, whoever amended it since)."""
        return self.original.author

    @property
    def effective_at(self) -> datetime:
        return self.original.effective_at

    @property
    def recorded_at(self) -> datetime:
        return self.original.recorded_at

    @property
    def amended(self) -> bool:
        return len(self.versions) > 1

    @property
    def signed(self) -> bool:
        """Whether the current version carries a signature (an amendment needs a new one)."""
        return any(s.version == len(self.versions) for s in self.signatures)


@dataclass(frozen=True)
class Movement:
    """Where the patient was and who was responsible, from `effective_at` on."""

    bed: str | None
    service: str
    attending: str
    effective_at: datetime
    recorded_at: datetime
    actor: str


class Encounter(Aggregate):
    """One admission, registration or visit of a patient, with its chart entries."""

    TOPIC = "chartledger/encounter"

    class Created(Aggregate.Created):
        TOPIC = "chartledger/encounter/created"

    class Opened(Aggregate.Created):
        """The patient was admitted or registered for a visit."""

        TOPIC = "chartledger/encounter/opened"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        mrn: str
        encounter_class: str
        attending: str
        service: str
        bed: str | None
        effective_at: datetime
        actor: str

    class Transferred(Aggregate.Event):
        """The patient moved bed or service, or another physician became attending."""

        TOPIC = "chartledger/encounter/transferred"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        bed: str | None
        service: str | None
        attending: str | None
        effective_at: datetime
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.bed = self.bed if self.bed is not None else aggregate.bed
            aggregate.service = self.service or aggregate.service
            aggregate.attending = self.attending or aggregate.attending
            aggregate.movements = [
                *aggregate.movements,
                Movement(
                    aggregate.bed,
                    aggregate.service,
                    aggregate.attending,
                    self.effective_at,
                    self.timestamp,
                    self.actor,
                ),
            ]

    class Discharged(Aggregate.Event):
        TOPIC = "chartledger/encounter/discharged"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        disposition: str
        effective_at: datetime
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.discharged_at = self.effective_at
            aggregate.discharge_recorded_at = self.timestamp
            aggregate.disposition = self.disposition
            aggregate.discharged_by = self.actor

    class EntryRecorded(Aggregate.Event):
        TOPIC = "chartledger/encounter/entry-recorded"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        entry_id: UUID
        kind: str
        text: str
        fields: dict[str, Any]
        author: str
        effective_at: datetime
        actor: str

        def apply(self, aggregate: Any) -> None:
            version = EntryVersion(
                self.text,
                dict(self.fields),
                self.author,
                self.effective_at,
                self.timestamp,
                self.actor,
            )
            late = is_late(self.effective_at, self.timestamp, discharged_at=aggregate.discharged_at)
            aggregate.entries[self.entry_id] = Entry(self.entry_id, self.kind, [version], late)

    class EntryAmended(Aggregate.Event):
        """A new version of an entry (HIPAA 164.526); the earlier versions stay readable."""

        TOPIC = "chartledger/encounter/entry-amended"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        entry_id: UUID
        text: str
        fields: dict[str, Any]
        reason: str
        requested_by: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            entry = aggregate.entries[self.entry_id]
            entry.versions = [
                *entry.versions,
                EntryVersion(
                    self.text,
                    dict(self.fields),
                    entry.author,
                    entry.effective_at,
                    self.timestamp,
                    self.actor,
                    self.reason,
                    self.requested_by,
                ),
            ]

    class EntryRetracted(Aggregate.Event):
        """The entry was entered in error; it is kept, marked, with the reason."""

        TOPIC = "chartledger/encounter/entry-retracted"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        entry_id: UUID
        reason: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            entry = aggregate.entries[self.entry_id]
            entry.retracted = True
            entry.retraction_reason = self.reason
            entry.retracted_by = self.actor
            entry.retracted_at = self.timestamp

    class EntrySigned(Aggregate.Event):
        """A physician signed the entry's version `version` (1 is the original)."""

        TOPIC = "chartledger/encounter/entry-signed"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        entry_id: UUID
        version: int
        actor: str

        def apply(self, aggregate: Any) -> None:
            entry = aggregate.entries[self.entry_id]
            entry.signatures = [
                *entry.signatures,
                Signature(self.actor, self.version, self.timestamp),
            ]

    class AmendmentDenied(Aggregate.Event):
        """A request to amend the entry was refused; the statement of disagreement is kept."""

        TOPIC = "chartledger/encounter/amendment-denied"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        entry_id: UUID
        reason: str
        statement_of_disagreement: str | None
        requested_by: str
        requested_change: str | None
        actor: str

        def apply(self, aggregate: Any) -> None:
            entry = aggregate.entries[self.entry_id]
            entry.denied_amendments = [
                *entry.denied_amendments,
                DeniedAmendment(
                    self.reason,
                    self.statement_of_disagreement,
                    self.requested_by,
                    self.requested_change,
                    self.actor,
                    self.timestamp,
                ),
            ]

    def __init__(
        self,
        patient_id: UUID,
        mrn: str,
        encounter_class: str,
        attending: str,
        service: str,
        bed: str | None,
        effective_at: datetime,
        actor: str,
    ) -> None:
        self.patient_id = patient_id
        self.mrn = mrn
        self.encounter_class = encounter_class
        self.attending = attending
        self.service = service
        self.bed = bed
        self.admitted_at = effective_at
        self.opened_by = actor
        self.movements: list[Movement] = [
            Movement(bed, service, attending, effective_at, self.created_on, actor)
        ]
        self.discharged_at: datetime | None = None
        self.discharge_recorded_at: datetime | None = None
        self.disposition: str | None = None
        self.discharged_by: str | None = None
        self.entries: dict[UUID, Entry] = {}

    @property
    def discharged(self) -> bool:
        return self.discharged_at is not None

    @property
    def care_team(self) -> frozenset[str]:
        """Who was assigned to this encounter: its attendings and the staff who admitted, moved
        or discharged the patient. Charting in it, being named an entry's author and signing
        add no one: those are accesses the access policy decides on the relationship the
        clinician already has (`policies.access.decide_charting`)."""
        team = {self.attending, self.opened_by}
        team.update(m.attending for m in self.movements)
        team.update(m.actor for m in self.movements)
        if self.discharged_by:
            team.add(self.discharged_by)
        return frozenset(team)

    @property
    def self_assigned(self) -> frozenset[str]:
        """Who made their own place in this encounter: made themself attending (opened it, or
        took it over, naming themself), or is on its care team only by their own admission,
        move or discharge, never named its attending by someone else. For a restricted patient
        such a place is no close relationship (`policies.access.treatment_relationship`)."""
        made: set[str] = set()
        given: set[str] = set()
        previous: str | None = None
        for movement in self.movements:
            if movement.attending != previous:
                (made if movement.attending == movement.actor else given).add(movement.attending)
            previous = movement.attending
        movers = {self.opened_by, *(m.actor for m in self.movements)}
        if self.discharged_by:
            movers.add(self.discharged_by)
        return frozenset(made | (movers - given))

    @classmethod
    def open(
        cls,
        patient_id: UUID,
        mrn: str,
        *,
        encounter_class: str,
        attending: str,
        service: str,
        bed: str | None,
        effective_at: datetime,
        actor: str,
    ) -> Encounter:
        if encounter_class not in ENCOUNTER_CLASSES:
            classes = ", ".join(sorted(ENCOUNTER_CLASSES))
            raise UsageError(f"Unknown encounter class '{encounter_class}'; one of {classes}.")
        return cls._create(
            cls.Opened,
            id=uuid4(),
            patient_id=patient_id,
            mrn=mrn,
            encounter_class=encounter_class,
            attending=_text(attending, "the attending physician"),
            service=_text(service, "the service"),
            bed=_text(bed, "a bed, or none") if bed is not None else None,
            effective_at=effective_at,
            actor=actor,
        )

    def entry(self, entry_id: UUID) -> Entry:
        try:
            return self.entries[entry_id]
        except KeyError:
            raise NotFound(f"There is no entry {entry_id} in encounter {self.id}.") from None

    def _not_before_admission(self, effective_at: datetime, what: str) -> None:
        if effective_at < self.admitted_at:
            raise UsageError(f"The {what} time is before encounter {self.id} began.")

    def transfer(
        self,
        *,
        bed: str | None,
        service: str | None,
        attending: str | None,
        effective_at: datetime,
        actor: str,
    ) -> None:
        """Move the patient; values equal to the current ones are not changes."""
        if self.discharged:
            raise UsageError(f"Encounter {self.id} was discharged; it cannot be transferred.")
        self._not_before_admission(effective_at, "transfer")
        changes = {
            "bed": _text(bed, "a bed") if bed is not None else None,
            "service": _text(service, "a service") if service is not None else None,
            "attending": _text(attending, "an attending") if attending is not None else None,
        }
        changes = {k: v for k, v in changes.items() if v is not None and v != getattr(self, k)}
        if not changes:
            raise UsageError("The transfer changes neither bed, service nor attending.")
        self.trigger_event(
            self.Transferred,
            patient_id=self.patient_id,
            bed=changes.get("bed"),
            service=changes.get("service"),
            attending=changes.get("attending"),
            effective_at=effective_at,
            actor=actor,
        )

    def discharge(self, *, disposition: str, effective_at: datetime, actor: str) -> None:
        if self.discharged:
            raise UsageError(f"Encounter {self.id} was already discharged.")
        self._not_before_admission(effective_at, "discharge")
        self.trigger_event(
            self.Discharged,
            patient_id=self.patient_id,
            disposition=_text(disposition, "the discharge disposition"),
            effective_at=effective_at,
            actor=actor,
        )

    def record_entry(
        self,
        *,
        kind: str,
        text: str,
        fields: dict[str, Any],
        author: str,
        effective_at: datetime,
        actor: str,
    ) -> UUID:
        """Add a clinical entry (allowed after discharge too: late documentation)."""
        if kind not in ENTRY_KINDS:
            kinds = ", ".join(sorted(ENTRY_KINDS))
            raise UsageError(f"Unknown entry kind '{kind}'; one of {kinds}.")
        entry_id = uuid4()
        self.trigger_event(
            self.EntryRecorded,
            patient_id=self.patient_id,
            entry_id=entry_id,
            kind=kind,
            text=_text(text, "the entry's text"),
            fields=check_fields(fields),
            author=author,
            effective_at=effective_at,
            actor=actor,
        )
        return entry_id

    def _open_entry(self, entry_id: UUID, doing: str) -> Entry:
        entry = self.entry(entry_id)
        if entry.retracted:
            raise UsageError(f"Entry {entry_id} was retracted (entered in error); {doing}.")
        return entry

    def amend_entry(
        self,
        entry_id: UUID,
        *,
        text: str,
        fields: dict[str, Any] | None,
        reason: str,
        requested_by: str,
        actor: str,
    ) -> None:
        """Add a version; `fields=None` keeps the current fields."""
        entry = self._open_entry(entry_id, "it cannot be amended")
        new_text = _text(text, "the amended text")
        new_fields = check_fields(fields) if fields is not None else dict(entry.fields)
        reason = _text(reason, "a reason for the amendment")
        requested_by = _text(requested_by, "who requested the amendment")
        if new_text == entry.text and new_fields == entry.fields:
            raise UsageError(f"The amendment would not change entry {entry_id}.")
        self.trigger_event(
            self.EntryAmended,
            patient_id=self.patient_id,
            entry_id=entry_id,
            text=new_text,
            fields=new_fields,
            reason=reason,
            requested_by=requested_by,
            actor=actor,
        )

    def retract_entry(self, entry_id: UUID, *, reason: str, actor: str) -> None:
        self._open_entry(entry_id, "it is already marked entered in error")
        self.trigger_event(
            self.EntryRetracted,
            patient_id=self.patient_id,
            entry_id=entry_id,
            reason=_text(reason, "a reason for the retraction"),
            actor=actor,
        )

    def sign_entry(self, entry_id: UUID, *, actor: str) -> None:
        """Sign the entry's current version."""
        entry = self._open_entry(entry_id, "it cannot be signed")
        version = len(entry.versions)
        if any(s.physician == actor and s.version == version for s in entry.signatures):
            raise UsageError(f"{actor} already signed this version of entry {entry_id}.")
        self.trigger_event(
            self.EntrySigned,
            patient_id=self.patient_id,
            entry_id=entry_id,
            version=version,
            actor=actor,
        )

    def deny_amendment(
        self,
        entry_id: UUID,
        *,
        reason: str,
        statement_of_disagreement: str | None,
        requested_by: str,
        requested_change: str | None,
        actor: str,
    ) -> None:
        """Record a refused request (a retracted entry too: the request must still be kept)."""
        self.entry(entry_id)
        statement = (statement_of_disagreement or "").strip() or None
        change = (requested_change or "").strip() or None
        self.trigger_event(
            self.AmendmentDenied,
            patient_id=self.patient_id,
            entry_id=entry_id,
            reason=_text(reason, "the reason for the denial"),
            statement_of_disagreement=statement,
            requested_by=_text(requested_by, "who requested the amendment"),
            requested_change=change,
            actor=actor,
        )
