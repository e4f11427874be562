"""Reads of patient data: each records its access in the ledger first, then answers.

If the access event cannot be written (refused by policy, or the store fails), nothing is read
and nothing is returned: fail closed. Every function here takes the acting identity and the
purpose of use, because the ledger must say who saw what, and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from ledger.application import Ledger
from ledger.as_of import ChartAsOf, chart_as_of, check_as_of
from ledger.commands import access
from ledger.documents import Document
from ledger.keys import Identity
from ledger.patient import Patient
from ledger.patient_index import Candidate, current_index, matching_demographics, ranked
from policies.charting import ENTRY_KINDS


@dataclass(frozen=True)
class Purpose:
    """Why someone is looking: a purpose of use, and a reason when breaking the glass."""

    purpose: str
    break_glass_reason: str | None = None


@dataclass(frozen=True)
class PatientRecord:
    """What `patient show` displays."""

    patient: Patient
    documents: list[Document]
    withheld: tuple[str, ...] = ()
    """The sections the access policy withheld (a restricted record: all but demographics)."""

    def as_dict(self) -> dict[str, Any]:
        p = self.patient
        return {
            "mrn": p.mrn,
            "demographics": {
                k: (v.isoformat() if hasattr(v, "isoformat") else v)
                for k, v in p.demographics.items()
            },
            "registered_at": p.created_on.isoformat(),
            "registered_by": p.registered_by,
            "merged_into": p.merged_into,
            "absorbed": list(p.absorbed),
            "registered_despite": p.likely_matches,
            "override_reason": p.override,
            "documents": [
                {
                    "id": str(d.id),
                    "kind": d.kind,
                    "filename": d.filename,
                    "media_type": d.media_type,
                    "size": d.size,
                    "sha256": d.sha256,
                    "filed_at": d.created_on.isoformat(),
                    "filed_by": d.filed_by,
                }
                for d in self.documents
            ],
        }


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
        documents = ledger.documents_of(mrn) if "documents" in shown else []
        withheld = tuple(s for s in PATIENT_SECTIONS if s not in shown)
        return PatientRecord(ledger.patient(mrn), documents, withheld)


def document_content(
    ledger: Ledger, document_id: UUID, *, actor: Identity, why: Purpose
) -> tuple[Document, bytes]:
    """A filed document's bytes, after recording the access (a copy is a disclosure risk)."""
    document = ledger.document_info(document_id)  # no content is read before the record
    access.record_access(
        ledger,
        [document.mrn],
        actor=actor,
        action="copy",
        sections=[f"document:{document.id}"],
        purpose=why.purpose,
        break_glass_reason=why.break_glass_reason,
    )
    return ledger.document(document_id)


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


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


def _entry(entry: Any) -> dict[str, Any]:
    entered = entry.original.recorded_by
    return {
        "id": str(entry.id),
        "kind": entry.kind,
        "text": entry.text,
        "fields": {k: _iso(v) for k, v in entry.fields.items()},
        "author": entry.author,
        "entered_by": entered,
        "transcribed": entry.author != entered,
        "signed_by_author": any(s.physician == entry.author for s in entry.signatures),
        "attribution": attribution(entry),
        "effective_at": _iso(entry.effective_at),
        "recorded_at": _iso(entry.recorded_at),
        "late": entry.late,
        "amended": entry.amended,
        "versions": [
            {
                "version": number,
                "text": v.text,
                "fields": {k: _iso(x) for k, x in v.fields.items()},
                "recorded_at": _iso(v.recorded_at),
                "recorded_by": v.recorded_by,
                "reason": v.reason,
                "requested_by": v.requested_by,
                "signed_by": sorted({s.physician for s in _signers(entry, number)}),
            }
            for number, v in enumerate(entry.versions, start=1)
        ],
        "retracted": entry.retracted,
        "retraction_reason": entry.retraction_reason,
        "signed": entry.signed,
        "signatures": [
            {"physician": s.physician, "version": s.version, "signed_at": _iso(s.signed_at)}
            for s in entry.signatures
        ],
        "denied_amendments": [
            {
                "reason": d.reason,
                "statement_of_disagreement": d.statement_of_disagreement,
                "requested_by": d.requested_by,
                "denied_by": d.denied_by,
                "denied_at": _iso(d.denied_at),
            }
            for d in entry.denied_amendments
        ],
    }


CHART_SECTIONS = ("demographics", "encounters", "documents", *sorted(ENTRY_KINDS))
"""What `chart show` asks the policy for; minimum necessary may leave some out."""


def _encounter(
    encounter: Any, *, kinds: set[str] | None = None, withheld: set[UUID] | None = None
) -> dict[str, Any]:
    """An encounter as data; `withheld` entries (by id) are left out (a disclosure's)."""
    left_out = withheld or set()
    return {
        "id": str(encounter.id),
        "mrn": encounter.mrn,
        "class": encounter.encounter_class,
        "service": encounter.service,
        "attending": encounter.attending,
        "bed": encounter.bed,
        "admitted_at": _iso(encounter.admitted_at),
        "discharged_at": _iso(encounter.discharged_at),
        "disposition": encounter.disposition,
        "entries": [
            _entry(e)
            for e in encounter.entries.values()
            if (kinds is None or e.kind in kinds) and e.id not in left_out
        ],
    }


def chart_record(
    ledger: Ledger,
    mrn: str,
    *,
    actor: Identity,
    why: Purpose,
    as_of: datetime | None = None,
) -> dict[str, Any]:
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
            documents = ledger.documents_of(mrn) if "documents" in shown else []
            record = PatientRecord(ledger.patient(mrn), documents).as_dict()
            record["as_of"] = None
            record["encounters"] = [_encounter(e, kinds=shown) for e in ledger.encounters(mrn)]
        else:
            chart = chart_as_of(ledger, mrn, as_of)
            record = as_of_record(chart, kinds=shown, documents="documents" in shown)
        record["withheld"] = [s for s in CHART_SECTIONS if s not in shown]
        record["purpose"] = why.purpose
        return record


def as_of_record(
    chart: ChartAsOf, *, kinds: set[str] | None = None, documents: bool = True
) -> dict[str, Any]:
    """A chart as of a moment as data: the one shape `chart show --as-of` and the legal package's
    `record.json` share (entries and documents withheld since are left out and named)."""
    record = PatientRecord(chart.patient, list(chart.documents) if documents else []).as_dict()
    record["as_of"] = chart.as_of.isoformat()
    withheld = {entry for _, entry in chart.withheld_entries}
    record["encounters"] = [_encounter(e, kinds=kinds, withheld=withheld) for e in chart.encounters]
    record["withheld_since"] = chart.withheld_as_dict()
    return record


def chart_history(
    ledger: Ledger, mrn: str, *, actor: Identity, why: Purpose, as_of: datetime | None = None
) -> list[dict[str, Any]]:
    """Every change to a chart, with who, when, why and the event id, access recorded; with
    `as_of`, the changes recorded at or before it (`ledger.as_of`)."""
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
        lines = ledger.chart_history(mrn)
        if as_of is not None:
            lines = [line for line in lines if line.recorded_at <= as_of]
        return [history_line(line) for line in lines]


def history_line(line: Any) -> dict[str, Any]:
    """One change of a chart as data (`chart history --json`, the legal package)."""
    return {
        "event": line.event_id,
        "recorded_at": _iso(line.recorded_at),
        "effective_at": _iso(line.effective_at),
        "actor": line.actor,
        "what": line.what,
        "reason": line.reason,
        "late": line.late,
        "entry": None if line.entry_id is None else str(line.entry_id),
        "requested_by": line.requested_by,
        "author": line.author,
        "entered_for": (
            line.author if line.author is not None and line.author != line.actor else None
        ),
    }


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
