"""Coding and abstracting, the reads: the abstract of a stay (`coding_abstract`).

Each read that names a patient records its access first, through the gate
(`ledger.commands.access`): who may read a stay's coding at all is `policies.coding`
(coders, the HIM director, the compliance officer; a physician their own stays), and the
access policy then decides for the purpose (coders read under `operations` or `payment`).
What is returned is frozen dataclasses; `--json` prints their `as_dict()`.

(The coding worklist, productivity and case mix, and the disease, operation and physician
indexes are added to this module by the worklist part, in functions of their own.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from ledger.aggregates.coding import CodingAbstract, dotted_diagnosis
from ledger.aggregates.encounter import Encounter
from ledger.application import Ledger
from ledger.commands import access
from ledger.commands.coding import GROUPING_SECTIONS, abstract_of
from ledger.integrity.keys import Identity
from ledger.reads.charts import chart_mrn
from policies import coding as rules

# -- the abstract of a stay -----------------------------------------------------------------------


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _plain(value: Any) -> Any:
    """A recorded value as JSON carries it (Decimals as text, so no digit is lost)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def plain_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """A grouping's recorded fields as JSON carries them (`--json`)."""
    return {str(k): _plain(v) for k, v in fields.items()}


@dataclass(frozen=True)
class DiagnosisLine:
    """One coded diagnosis as shown."""

    code: str
    """As people read it (`E11.65`)."""
    description: str | None
    poa: str
    poa_meaning: str
    principal: bool
    coded_by: str
    coded_at: datetime
    suggested_by: str | None
    query_id: UUID | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "description": self.description,
            "poa": self.poa,
            "poa_meaning": self.poa_meaning,
            "principal": self.principal,
            "coded_by": self.coded_by,
            "coded_at": self.coded_at.isoformat(),
            "suggested_by": self.suggested_by,
            "query_id": None if self.query_id is None else str(self.query_id),
        }


@dataclass(frozen=True)
class ProcedureLine:
    """One coded procedure as shown."""

    code: str
    title: str | None
    on: date
    operating_physician: str
    coded_by: str
    coded_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title,
            "on": self.on.isoformat(),
            "operating_physician": self.operating_physician,
            "coded_by": self.coded_by,
            "coded_at": self.coded_at.isoformat(),
        }


@dataclass(frozen=True)
class GroupingLine:
    """A recorded grouping, as `code show` summarises it (`fields` holds all it recorded)."""

    version: int
    """The abstract's version of its `Grouped` event."""
    recorded_at: datetime
    recorded_by: str
    current: bool
    """Made after the abstract's last change."""
    fields: dict[str, Any]

    @property
    def drg(self) -> int | None:
        value = self.fields.get("drg")
        return None if value is None else int(value)

    @property
    def cross_check_agrees(self) -> bool | None:
        check = self.fields.get("cross_check") or {}
        agrees = check.get("agrees") if isinstance(check, dict) else None
        return None if agrees is None else bool(agrees)

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "recorded_at": self.recorded_at.isoformat(),
            "recorded_by": self.recorded_by,
            "current": self.current,
            **{k: _plain(v) for k, v in self.fields.items()},
        }


@dataclass(frozen=True)
class ChangeLine:
    """One step of the abstract's history."""

    version: int
    recorded_at: datetime
    actor: str
    what: str
    detail: str
    reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "recorded_at": self.recorded_at.isoformat(),
            "actor": self.actor,
            "what": self.what,
            "detail": self.detail,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class CodingAbstractView:
    """What `code show` displays: the stay, its codes, its last grouping and its history."""

    encounter_id: UUID
    mrn: str
    encounter_class: str
    attending: str
    admitted_at: datetime
    discharged_at: datetime | None
    disposition: str | None
    status: str
    """"not coded", "in progress" or "final"."""
    diagnoses: tuple[DiagnosisLine, ...]
    """The principal first, then the secondary diagnoses in the order coded."""
    procedures: tuple[ProcedureLine, ...]
    discharge_status: str | None
    discharge_status_meaning: str | None
    admission_source: str | None
    admission_source_meaning: str | None
    grouping: GroupingLine | None
    """The last recorded grouping."""
    groupings: int
    signed_by: str | None
    signed_at: datetime | None
    history: tuple[ChangeLine, ...]
    purpose: str

    @property
    def principal(self) -> DiagnosisLine | None:
        return next((d for d in self.diagnoses if d.principal), None)

    def as_dict(self) -> dict[str, Any]:
        """`code show --json`."""
        return {
            "encounter": str(self.encounter_id),
            "mrn": self.mrn,
            "class": self.encounter_class,
            "attending": self.attending,
            "admitted_at": self.admitted_at.isoformat(),
            "discharged_at": _iso(self.discharged_at),
            "disposition": self.disposition,
            "status": self.status,
            "diagnoses": [d.as_dict() for d in self.diagnoses],
            "procedures": [p.as_dict() for p in self.procedures],
            "discharge_status": self.discharge_status,
            "discharge_status_meaning": self.discharge_status_meaning,
            "admission_source": self.admission_source,
            "admission_source_meaning": self.admission_source_meaning,
            "grouping": None if self.grouping is None else self.grouping.as_dict(),
            "groupings": self.groupings,
            "signed_by": self.signed_by,
            "signed_at": _iso(self.signed_at),
            "history": [c.as_dict() for c in self.history],
            "purpose": self.purpose,
        }


def own_stay(encounter: Encounter, abstract: CodingAbstract | None, reader: str) -> bool:
    """Whether the reader took part in the stay: attending or on its care team, or an
    operating physician of one of its coded procedures."""
    if reader == encounter.attending or reader in encounter.care_team:
        return True
    return abstract is not None and any(
        p.operating_physician == reader for p in abstract.procedures
    )


def coding_abstract(
    ledger: Ledger, encounter_id: UUID, *, purpose: str, actor: Identity
) -> CodingAbstractView:
    """The abstract of a stay, after recording the access: a reader `policies.coding` does not
    let read coding is refused and the refusal recorded; then the access policy decides for
    the purpose (the section is "coding")."""
    from ledger.coding import icd10cm, icd10pcs

    with ledger.one_read():
        encounter = ledger.encounter(encounter_id)  # a wrong id is an error before any access
        mrn = chart_mrn(ledger, encounter.mrn)
        abstract = abstract_of(ledger, encounter.id)
        reader = ledger.authenticate(actor)
        allowed = rules.may_read_coding(
            reader.roles, own_stay=own_stay(encounter, abstract, actor.name)
        )
        facts: dict[str, Any] = {
            "actor": actor,
            "action": "query",
            "sections": GROUPING_SECTIONS,
            "purpose": purpose,
        }
        if not allowed.allowed:
            access.record_refusal(ledger, [mrn], refusal=allowed, **facts)
        access.record_access(ledger, [mrn], **facts)
        if abstract is None:
            return _view(encounter, mrn, None, purpose, describe=None, title=None)
        return _view(
            encounter, mrn, abstract, purpose, describe=icd10cm.describe, title=icd10pcs.title
        )


def _view(
    encounter: Encounter,
    mrn: str,
    abstract: CodingAbstract | None,
    purpose: str,
    *,
    describe: Any,
    title: Any,
) -> CodingAbstractView:
    status = "not coded"
    if abstract is not None and (abstract.coded or abstract.history):
        status = "final" if abstract.final else "in progress"
    diagnoses = () if abstract is None else (
        *(d for d in abstract.diagnoses if d.principal),
        *abstract.secondary,
    )  # fmt: skip
    last = None if abstract is None else abstract.last_grouping
    return CodingAbstractView(
        encounter_id=encounter.id,
        mrn=mrn,
        encounter_class=encounter.encounter_class,
        attending=encounter.attending,
        admitted_at=encounter.admitted_at,
        discharged_at=encounter.discharged_at,
        disposition=encounter.disposition,
        status=status,
        diagnoses=tuple(
            DiagnosisLine(
                code=dotted_diagnosis(d.code),
                description=describe(d.code) if describe else None,
                poa=d.poa,
                poa_meaning=rules.POA_INDICATORS.get(d.poa, "unknown"),
                principal=d.principal,
                coded_by=d.coded_by,
                coded_at=d.coded_at,
                suggested_by=d.suggested_by,
                query_id=d.query_id,
            )
            for d in diagnoses
        ),
        procedures=tuple(
            ProcedureLine(
                code=p.code,
                title=title(p.code) if title else None,
                on=p.on,
                operating_physician=p.operating_physician,
                coded_by=p.coded_by,
                coded_at=p.coded_at,
            )
            for p in (abstract.procedures if abstract else ())
        ),
        discharge_status=abstract.discharge_status if abstract else None,
        discharge_status_meaning=(
            rules.DISCHARGE_STATUSES.get(abstract.discharge_status)
            if abstract and abstract.discharge_status
            else None
        ),
        admission_source=abstract.admission_source if abstract else None,
        admission_source_meaning=(
            rules.ADMISSION_SOURCES.get(abstract.admission_source)
            if abstract and abstract.admission_source
            else None
        ),
        grouping=None
        if last is None or abstract is None
        else GroupingLine(
            last.version, last.recorded_at, last.actor, abstract.grouped_current, dict(last.fields)
        ),
        groupings=len(abstract.groupings) if abstract else 0,
        signed_by=abstract.signed_by if abstract else None,
        signed_at=abstract.signed_at if abstract else None,
        history=tuple(
            ChangeLine(c.version, c.recorded_at, c.actor, c.what, c.detail, c.reason)
            for c in (abstract.history if abstract else ())
        ),
        purpose=purpose,
    )
