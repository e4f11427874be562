"""Reads of patient data: each records its access in the ledger first, then answers.

If the access event cannot be written (refused by policy, or the store fails), nothing is read
and nothing is returned: fail closed. Every function here takes the acting identity and the
purpose of use, because the ledger must say who saw what, and why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from ledger.aggregates.documents import Document
from ledger.aggregates.encounter import DeniedAmendment, Encounter, Entry, Signature
from ledger.aggregates.patient import Patient
from ledger.application import Ledger
from ledger.commands import access
from ledger.integrity.keys import Identity
from ledger.reads import charts
from ledger.reads.as_of import ChartAsOf, chart_as_of, check_as_of
from ledger.reads.charts import HistoryLine
from ledger.reads.documents import documents_of, read_document
from ledger.reads.patient_index import Candidate, current_index, matching_demographics, ranked
from policies.charting import ENTRY_KINDS


@dataclass(frozen=True)
class Purpose:
    """Why someone is looking: a purpose of use, and a reason when breaking the glass."""

    purpose: str
    break_glass_reason: str | None = None


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


@dataclass(frozen=True)
class DocumentRecord:
    """A filed document as a chart lists it (never its content)."""

    id: UUID
    kind: str
    filename: str
    media_type: str
    size: int
    sha256: str
    filed_at: datetime
    filed_by: str

    @classmethod
    def of(cls, document: Document) -> DocumentRecord:
        return cls(
            id=document.id,
            kind=document.kind,
            filename=document.filename,
            media_type=document.media_type,
            size=document.size,
            sha256=document.sha256,
            filed_at=document.created_on,
            filed_by=document.filed_by,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "kind": self.kind,
            "filename": self.filename,
            "media_type": self.media_type,
            "size": self.size,
            "sha256": self.sha256,
            "filed_at": self.filed_at.isoformat(),
            "filed_by": self.filed_by,
        }


@dataclass(frozen=True)
class PatientRecord:
    """What `patient show` displays: the index entry and the documents the decision allowed."""

    mrn: str
    demographics: Mapping[str, Any]
    """As shown: dates in ISO 8601."""
    registered_at: datetime
    registered_by: str
    merged_into: str | None
    absorbed: tuple[str, ...]
    registered_despite: tuple[str, ...]
    override_reason: str | None
    documents: tuple[DocumentRecord, ...]
    withheld: tuple[str, ...] = ()
    """The sections the access policy withheld (a restricted record: all but demographics)."""

    @classmethod
    def of(
        cls, patient: Patient, documents: Iterable[Document] = (), withheld: Iterable[str] = ()
    ) -> PatientRecord:
        return cls(
            mrn=patient.mrn,
            demographics={k: _iso(v) for k, v in patient.demographics.items()},
            registered_at=patient.created_on,
            registered_by=patient.registered_by,
            merged_into=patient.merged_into,
            absorbed=tuple(patient.absorbed),
            registered_despite=tuple(patient.likely_matches),
            override_reason=patient.override,
            documents=tuple(DocumentRecord.of(d) for d in documents),
            withheld=tuple(withheld),
        )

    def entry_as_dict(self) -> dict[str, Any]:
        """The index entry and documents (what a chart record begins with)."""
        return {
            "mrn": self.mrn,
            "demographics": dict(self.demographics),
            "registered_at": self.registered_at.isoformat(),
            "registered_by": self.registered_by,
            "merged_into": self.merged_into,
            "absorbed": list(self.absorbed),
            "registered_despite": list(self.registered_despite),
            "override_reason": self.override_reason,
            "documents": [d.as_dict() for d in self.documents],
        }

    def as_dict(self) -> dict[str, Any]:
        """`patient show --json`."""
        return {**self.entry_as_dict(), "withheld": list(self.withheld)}


PATIENT_SECTIONS = ("demographics", "documents")
"""What `patient show` asks the policy for; a restricted record outside the care team shows
its demographics alone (`policies.access` rule 6)."""


def patient_record(ledger: Ledger, mrn: str, *, actor: Identity, why: Purpose) -> PatientRecord:
    """A patient's index entry and documents, after recording the access (each read once):
    only the sections the decision allows are read and shown."""
    with ledger.one_read():
        ledger.patient(mrn)  # a wrong MRN is an error before anything is recorded
        decision = access.record_access(
            ledger,
            [mrn],
            actor=actor,
            action="query",
            sections=list(PATIENT_SECTIONS),
            purpose=why.purpose,
            break_glass_reason=why.break_glass_reason,
            demographics_alone=True,
        )
        shown = set(decision.sections)
        documents = documents_of(ledger, mrn) if "documents" in shown else []
        withheld = tuple(s for s in PATIENT_SECTIONS if s not in shown)
        return PatientRecord.of(ledger.patient(mrn), documents, withheld)


def document_content(
    ledger: Ledger, document_id: UUID, *, actor: Identity, why: Purpose
) -> tuple[Document, bytes]:
    """A filed document's bytes, after recording the access (a copy is a disclosure risk)."""
    found = ledger.document_info(document_id)  # no content is read before the record
    access.record_access(
        ledger,
        [found.mrn],
        actor=actor,
        action="copy",
        sections=[f"document:{found.id}"],
        purpose=why.purpose,
        break_glass_reason=why.break_glass_reason,
    )
    return read_document(ledger, document_id)


def _signers(entry: Any, version: int) -> list[Any]:
    return [s for s in entry.signatures if s.version == version]


def attribution(entry: Any) -> str:
    """Who wrote, entered, amended and signed an entry, never implying more than was signed.

    An entry entered for someone else (a transcription) reads "entered by X for Y" until Y signs
    it; each amendment names who made it (and who asked, when that was someone else).
    """
    author, entered = entry.author, entry.original.recorded_by
    if author == entered:
        parts = [f"by {author}"]
    else:
        own = [s for s in entry.signatures if s.physician == author]
        if own:
            parts = [
                f"by {author}, entered by {entered}, signed by {author} "
                f"{own[0].signed_at.isoformat(timespec='minutes')}"
            ]
        else:
            parts = [f"entered by {entered} for {author}, not signed by {author}"]
    for number, version in enumerate(entry.versions[1:], start=2):
        text = f"amended by {version.recorded_by}"
        if version.requested_by and version.requested_by != version.recorded_by:
            text += f" (asked by {version.requested_by})"
        names = sorted({s.physician for s in _signers(entry, number)})
        text += f", signed by {', '.join(names)}" if names else ", not signed"
        parts.append(text)
    return "; ".join(parts)


@dataclass(frozen=True)
class VersionRecord:
    """One version of an entry (the first is the original), with who signed that version."""

    number: int
    text: str
    fields: Mapping[str, Any]
    recorded_at: datetime
    recorded_by: str
    reason: str | None
    requested_by: str | None
    signed_by: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.number,
            "text": self.text,
            "fields": {k: _iso(x) for k, x in self.fields.items()},
            "recorded_at": _iso(self.recorded_at),
            "recorded_by": self.recorded_by,
            "reason": self.reason,
            "requested_by": self.requested_by,
            "signed_by": list(self.signed_by),
        }


@dataclass(frozen=True)
class EntryRecord:
    """A chart entry as shown: its current text, every version, signatures and denials."""

    id: UUID
    kind: str
    text: str
    fields: Mapping[str, Any]
    author: str
    entered_by: str
    signed_by_author: bool
    attribution: str
    effective_at: datetime
    recorded_at: datetime
    late: bool
    amended: bool
    versions: tuple[VersionRecord, ...]
    retracted: bool
    retraction_reason: str | None
    signed: bool
    signatures: tuple[Signature, ...]
    denied_amendments: tuple[DeniedAmendment, ...]

    @property
    def transcribed(self) -> bool:
        """Entered by someone other than its author."""
        return self.author != self.entered_by

    @property
    def imported(self) -> bool:
        """Written by the FHIR import (recorded long after the fact, so never late work)."""
        return bool(self.fields.get("fhir"))

    @classmethod
    def of(cls, entry: Entry) -> EntryRecord:
        return cls(
            id=entry.id,
            kind=entry.kind,
            text=entry.text,
            fields=dict(entry.fields),
            author=entry.author,
            entered_by=entry.original.recorded_by,
            signed_by_author=any(s.physician == entry.author for s in entry.signatures),
            attribution=attribution(entry),
            effective_at=entry.effective_at,
            recorded_at=entry.recorded_at,
            late=entry.late,
            amended=entry.amended,
            versions=tuple(
                VersionRecord(
                    number=number,
                    text=v.text,
                    fields=dict(v.fields),
                    recorded_at=v.recorded_at,
                    recorded_by=v.recorded_by,
                    reason=v.reason,
                    requested_by=v.requested_by,
                    signed_by=tuple(sorted({s.physician for s in _signers(entry, number)})),
                )
                for number, v in enumerate(entry.versions, start=1)
            ),
            retracted=entry.retracted,
            retraction_reason=entry.retraction_reason,
            signed=entry.signed,
            signatures=tuple(entry.signatures),
            denied_amendments=tuple(entry.denied_amendments),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "kind": self.kind,
            "text": self.text,
            "fields": {k: _iso(v) for k, v in self.fields.items()},
            "author": self.author,
            "entered_by": self.entered_by,
            "transcribed": self.transcribed,
            "signed_by_author": self.signed_by_author,
            "attribution": self.attribution,
            "effective_at": _iso(self.effective_at),
            "recorded_at": _iso(self.recorded_at),
            "late": self.late,
            "amended": self.amended,
            "versions": [v.as_dict() for v in self.versions],
            "retracted": self.retracted,
            "retraction_reason": self.retraction_reason,
            "signed": self.signed,
            "signatures": [
                {"physician": s.physician, "version": s.version, "signed_at": _iso(s.signed_at)}
                for s in self.signatures
            ],
            "denied_amendments": [
                {
                    "reason": d.reason,
                    "statement_of_disagreement": d.statement_of_disagreement,
                    "requested_by": d.requested_by,
                    "denied_by": d.denied_by,
                    "denied_at": _iso(d.denied_at),
                }
                for d in self.denied_amendments
            ],
        }


CHART_SECTIONS = ("demographics", "encounters", "documents", *sorted(ENTRY_KINDS))
"""What `chart show` asks the policy for; minimum necessary may leave some out."""


@dataclass(frozen=True)
class EncounterRecord:
    """An encounter as shown, with the entries the reader may see."""

    id: UUID
    mrn: str
    encounter_class: str
    service: str
    attending: str
    bed: str | None
    admitted_at: datetime
    discharged_at: datetime | None
    disposition: str | None
    entries: tuple[EntryRecord, ...]

    @classmethod
    def of(
        cls,
        encounter: Encounter,
        *,
        kinds: set[str] | None = None,
        withheld: set[UUID] | None = None,
    ) -> EncounterRecord:
        """`encounter`'s entries of `kinds` (None: all), without the `withheld` ones (by id)."""
        left_out = withheld or set()
        return cls(
            id=encounter.id,
            mrn=encounter.mrn,
            encounter_class=encounter.encounter_class,
            service=encounter.service,
            attending=encounter.attending,
            bed=encounter.bed,
            admitted_at=encounter.admitted_at,
            discharged_at=encounter.discharged_at,
            disposition=encounter.disposition,
            entries=tuple(
                EntryRecord.of(e)
                for e in encounter.entries.values()
                if (kinds is None or e.kind in kinds) and e.id not in left_out
            ),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "mrn": self.mrn,
            "class": self.encounter_class,
            "service": self.service,
            "attending": self.attending,
            "bed": self.bed,
            "admitted_at": _iso(self.admitted_at),
            "discharged_at": _iso(self.discharged_at),
            "disposition": self.disposition,
            "entries": [e.as_dict() for e in self.entries],
        }


@dataclass(frozen=True)
class WithheldSince:
    """What a chart as of a moment leaves out because later events say it never belonged in it
    (`ledger.reads.as_of`), by identifier."""

    entries: tuple[str, ...]
    """ENCOUNTER:ENTRY of entries retracted as entered in error."""
    documents: tuple[str, ...]
    """Documents since refiled to another patient's chart."""
    records: tuple[str, ...]
    """MRNs of records whose merge was undone since."""
    why: str

    @classmethod
    def of(cls, chart: ChartAsOf) -> WithheldSince:
        named = chart.withheld_as_dict()
        return cls(
            entries=tuple(named["entries"]),
            documents=tuple(named["documents"]),
            records=tuple(named["records"]),
            why=str(named["why"]),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "entries": list(self.entries),
            "documents": list(self.documents),
            "records": list(self.records),
            "why": self.why,
        }


@dataclass(frozen=True)
class ChartRecord:
    """What `chart show` displays: the patient's entry and documents, the encounters with their
    entries, what minimum necessary withheld and, as of a moment, what was withheld since."""

    patient: PatientRecord
    as_of: datetime | None
    encounters: tuple[EncounterRecord, ...]
    withheld_since: WithheldSince | None = None
    """Only for a chart as of a moment."""
    withheld: tuple[str, ...] = ()
    """The sections the access policy withheld (minimum necessary for the purpose)."""
    purpose: str | None = None

    def _body(self) -> dict[str, Any]:
        record = self.patient.entry_as_dict()
        record["as_of"] = None if self.as_of is None else self.as_of.isoformat()
        record["encounters"] = [e.as_dict() for e in self.encounters]
        return record

    def as_dict(self) -> dict[str, Any]:
        """`chart show --json`."""
        record = self._body()
        if self.withheld_since is not None:
            record["withheld_since"] = self.withheld_since.as_dict()
        record["withheld"] = list(self.withheld)
        record["purpose"] = self.purpose
        return record

    def as_package_dict(self) -> dict[str, Any]:
        """The legal package's `record.json`: the chart as of its moment, what was withheld
        since named under `withheld`."""
        record = self._body()
        if self.withheld_since is not None:
            record["withheld"] = self.withheld_since.as_dict()
        return record


def chart_record(
    ledger: Ledger,
    mrn: str,
    *,
    actor: Identity,
    why: Purpose,
    as_of: datetime | None = None,
) -> ChartRecord:
    """A patient's chart now, or exactly as the ledger held it at `as_of`, access recorded (each
    aggregate read once, the chart index caught up once: `Ledger.one_read`)."""
    with ledger.one_read():
        ledger.patient(mrn)
        if as_of is not None:
            check_as_of(as_of)  # a moment in the future is bad input, refused before any access
        wanted = [*CHART_SECTIONS, *([] if as_of is None else [f"chart-as-of:{as_of.isoformat()}"])]
        decision = access.record_access(
            ledger,
            [mrn],
            actor=actor,
            action="query",
            sections=wanted,
            purpose=why.purpose,
            break_glass_reason=why.break_glass_reason,
        )
        shown = set(decision.sections)
        if as_of is None:
            documents = documents_of(ledger, mrn) if "documents" in shown else []
            record = ChartRecord(
                PatientRecord.of(ledger.patient(mrn), documents),
                None,
                tuple(EncounterRecord.of(e, kinds=shown) for e in charts.encounters(ledger, mrn)),
            )
        else:
            chart = chart_as_of(ledger, mrn, as_of)
            record = as_of_record(chart, kinds=shown, documents="documents" in shown)
        return replace(
            record, withheld=tuple(s for s in CHART_SECTIONS if s not in shown), purpose=why.purpose
        )


def as_of_record(
    chart: ChartAsOf, *, kinds: set[str] | None = None, documents: bool = True
) -> ChartRecord:
    """A chart as of a moment: the one shape `chart show --as-of` and the legal package's
    `record.json` share (entries and documents withheld since are left out and named)."""
    withheld = {entry for _, entry in chart.withheld_entries}
    return ChartRecord(
        PatientRecord.of(chart.patient, chart.documents if documents else ()),
        chart.as_of,
        tuple(EncounterRecord.of(e, kinds=kinds, withheld=withheld) for e in chart.encounters),
        WithheldSince.of(chart),
    )


def chart_history(
    ledger: Ledger, mrn: str, *, actor: Identity, why: Purpose, as_of: datetime | None = None
) -> list[HistoryLine]:
    """Every change to a chart, with who, when, why and the event id, access recorded; with
    `as_of`, the changes recorded at or before it (`ledger.reads.as_of`)."""
    with ledger.one_read():
        ledger.patient(mrn)
        if as_of is not None:
            check_as_of(as_of)
        access.record_access(
            ledger,
            [mrn],
            actor=actor,
            action="query",
            sections=["history"],
            purpose=why.purpose,
            break_glass_reason=why.break_glass_reason,
        )
        lines = charts.chart_history(ledger, mrn)
        if as_of is not None:
            lines = [line for line in lines if line.recorded_at <= as_of]
        return lines


# -- the master patient index: search and duplicates (registration is
# `ledger.commands.patients.register_after_search`) ------------------------------------------


def find_patients(
    ledger: Ledger, query: dict[str, Any], *, actor: Identity, why: Purpose, limit: int = 10
) -> list[Candidate]:
    """Candidates for a search, best first; every MRN shown is recorded as accessed first."""
    index = current_index(ledger)
    mrn = str(query.get("mrn") or "").strip().upper()
    if mrn:
        from policies.matching import score

        found = index.get(mrn)
        if found is None:
            ledger.patient(mrn)  # raises the plain "no patient with MRN" error
        hits = (
            []
            if found is None
            else [
                (
                    found,
                    score(matching_demographics(query), matching_demographics(found.demographics)),
                )
            ]
        )
    else:
        hits = ranked(index, query, limit)
    _record_shown(ledger, [p.mrn for p, _ in hits], actor=actor, why=why)
    return [Candidate(p, s) for p, s in hits]


def duplicate_pairs(
    ledger: Ledger, *, actor: Identity, why: Purpose, include_possible: bool = False
) -> list[tuple[Candidate, Candidate]]:
    """Probable duplicate pairs in the index (and, on request, pairs for human review)."""
    index = current_index(ledger)
    patients = index.all()
    records = [matching_demographics(p.demographics).normalise() for p in patients]
    from policies.matching import POSSIBLE_THRESHOLD, find_duplicates

    threshold = POSSIBLE_THRESHOLD if include_possible else None
    decisions = find_duplicates(records, threshold=threshold)
    shown = sorted({patients[i].mrn for d in decisions for i in (d.left, d.right)})
    _record_shown(ledger, shown, actor=actor, why=why)
    return [
        (Candidate(patients[d.left], d.score), Candidate(patients[d.right], d.score))
        for d in decisions
    ]


def _record_shown(ledger: Ledger, mrns: list[str], *, actor: Identity, why: Purpose) -> None:
    access.record_access(
        ledger,
        mrns,
        actor=actor,
        action="query",
        sections=["demographics"],
        purpose=why.purpose,
        break_glass_reason=why.break_glass_reason,
    )
