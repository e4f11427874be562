"""A legal request package: one patient's record as it stood on a date, provable offline.

`legal_package` records the access first (a copy for a legal purpose; refused means nothing is
written), then writes into a new folder:

- `record.json`: the chart exactly as the ledger held it at the as-of time (by recorded time),
  the patient's index entry, and the documents filed by then;
- `history.json`: every change to the chart, up to now, with who, when, why and the event id
  (lines recorded after the as-of time are marked, so the reader sees what came later);
- `audit-trail.json` and `audit-trail.csv`: every access, change and disclosure of the patient
  (the audit trail view), this package's own access included;
- `documents/`: the bytes of the documents filed by the as-of time, named `ID-FILENAME`;
- the proofs of `ledger.integrity.legal_package` (events, inclusion proofs, a fresh signed
  checkpoint, the patient's data keys) and `MANIFEST.json`, signed by whoever made the package;
- `README.txt`: what the package is and how to verify it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from ledger.aggregates.encounter import Encounter
from ledger.aggregates.patient import patient_id
from ledger.application import Ledger
from ledger.commands import access
from ledger.errors import UsageError
from ledger.files import check_new_folder, new_folder, open_text, subfolder, write_bytes, write_text
from ledger.integrity.keys import Identity
from ledger.integrity.legal_package import sign_manifest, write_proofs
from ledger.reads import charts
from ledger.reads.as_of import aggregate_events, chart_as_of
from ledger.reads.documents import documents_of, read_document
from ledger.verifier.package import FORMAT
from projections.audit import AuditRow, caught_up_trail, write_csv
from projections.queries import Purpose, as_of_record

README = """\
Chartledger legal request package ({format})

Patient:      {mrn}
Record as of: {as_of}
Made:         {made_at} by {made_by}
Checkpoint:   tree size {size} of the log of {origin}

record.json        the chart exactly as the ledger held it at the as-of time
history.json       every change to the chart, with who, when, why and its event id
audit-trail.json   every access, change and disclosure of the patient (also as audit-trail.csv)
documents/         the documents filed by the as-of time, byte for byte
events.ndjson      every event the files above rest on, signed, each with its inclusion proof
checkpoint.txt     the signed checkpoint the proofs lead to
subject-keys.json  this patient's data keys, so the verifier can read the signed events
                   (confidential, like the record itself: they open this patient's events only)
MANIFEST.json      the SHA-256 of every file, signed by the maker of the package

To verify it on any machine with Chartledger installed (no database needed):

    chartledger verify --package {folder} --genesis {genesis}

Compare the genesis fingerprint with the one the hospital printed when its ledger was created.
"""

PACKAGE_SECTIONS = ["chart", "history", "audit-trail", "documents"]


@dataclass(frozen=True)
class PackageSummary:
    """What a package holds (counts and identifiers only)."""

    folder: Path
    mrn: str
    as_of: datetime
    events: int
    tree_size: int
    entries: int
    history: int
    trail: int
    documents: int
    withheld: int = 0
    """Entries retracted as entered in error: left out, their events redacted."""


def legal_package(
    ledger: Ledger,
    mrn: str,
    *,
    as_of: datetime,
    out: Path,
    actor: Identity,
    node: Identity,
    why: Purpose,
    now: datetime | None = None,
    force: bool = False,
) -> PackageSummary:
    """Write the legal package of `mrn` as of `as_of` into the new folder `out`."""
    moment = now or ledger.now()
    if as_of.tzinfo is None:
        raise UsageError("Give the as-of time with its time zone.")
    if as_of > moment:
        raise UsageError("The as-of time is in the future; give a time up to now.")
    out = Path(out)
    check_new_folder(out, force=force)
    with ledger.one_read():  # each aggregate read once, however many answers use it
        patient = ledger.patient(mrn)  # a wrong MRN is one sentence before anything is recorded
        access.record_access(
            ledger,
            [patient.mrn],
            actor=actor,
            action="copy",
            sections=[f"chart-as-of:{as_of.isoformat()}", *PACKAGE_SECTIONS[1:]],
            purpose=why.purpose,
            break_glass_reason=why.break_glass_reason,
        )
        mrns = [patient.mrn, *patient.absorbed]
        chart = chart_as_of(ledger, patient.mrn, as_of)
        chart_ids = {patient_id(m) for m in mrns}
        current = documents_of(ledger, patient.mrn)
        documents = list(chart.documents)
        now_encounters = charts.encounters(ledger, patient.mrn)
        withheld = {entry for _, entry in chart.withheld_entries}
        chart_record = as_of_record(chart)
        record = chart_record.as_package_dict()
        redact = _redactions(ledger, now_encounters, withheld)
        history = [
            _history_line(line, as_of, redacted=(line.event_id in redact))
            for line in charts.chart_history(ledger, patient.mrn)
        ]
        trail_view = caught_up_trail(ledger)
        rows = [row for m in mrns for row in trail_view.query(mrn=m)]
        rows.sort(key=lambda row: row.position)

    new_folder(out, force=force)
    _write_json(out / "record.json", record)
    _write_json(out / "history.json", history)
    _write_json(out / "audit-trail.json", [row.as_dict() for row in rows])
    _write_csv(out / "audit-trail.csv", rows)
    if documents:
        subfolder(out / "documents")
    for document in documents:
        _, content = read_document(ledger, document.id)
        name = f"{document.id}-{_safe(document.filename)}"
        write_bytes(out / "documents" / name, content, force=True)

    all_encounter_ids = {e.id for e in now_encounters}
    kept = {d.id for d in current if d.patient_id in chart_ids}
    aggregate_ids: set[UUID] = {patient_id(m) for m in mrns}
    aggregate_ids |= all_encounter_ids | kept
    aggregate_ids |= {UUID(row.event.split("/")[0]) for row in rows}
    for oid in aggregate_ids - all_encounter_ids - kept:  # a document refiled away, say
        if _is_document(ledger, oid):
            redact |= {f"{oid}/{v}" for v in range(1, _versions(ledger, oid) + 1)}
    events, size = write_proofs(
        ledger,
        out,
        aggregate_ids=aggregate_ids,
        subjects={patient_id(m) for m in mrns},
        node=node,
        redact={(UUID(ref.split("/")[0]), int(ref.split("/")[1])) for ref in redact},
    )
    genesis = ledger.genesis_fingerprint().hex()
    write_text(
        out / "README.txt",
        README.format(
            format=FORMAT,
            mrn=patient.mrn,
            as_of=as_of.isoformat(),
            made_at=moment.isoformat(timespec="seconds"),
            made_by=actor.name,
            size=size,
            origin=_origin(ledger),
            folder=out,
            genesis=genesis,
        ),
        force=True,
    )
    sign_manifest(out, actor, origin=_origin(ledger), made_at=moment)
    return PackageSummary(
        folder=out,
        mrn=patient.mrn,
        as_of=as_of,
        events=events,
        tree_size=size,
        entries=sum(len(e.entries) for e in chart_record.encounters),
        history=len(history),
        trail=len(rows),
        documents=len(documents),
        withheld=len(withheld),
    )


def _origin(ledger: Ledger) -> str:
    size, note = ledger.latest_checkpoint()
    del size
    return note.split("\n", 1)[0]


def _history_line(
    line: charts.HistoryLine, as_of: datetime, *, redacted: bool = False
) -> dict[str, Any]:
    recorded = line.recorded_at
    shown = {**line.as_dict(), "after_as_of": recorded is not None and recorded > as_of}
    if redacted:  # an event of an entry entered in error: its reason may quote its text
        shown.update(reason=None, redacted=True)
    return shown


_WITHHELD_TOPICS = (
    Encounter.EntryRecorded,
    Encounter.EntryAmended,
    Encounter.AmendmentDenied,
)


def _redactions(ledger: Ledger, encounters: list[Any], withheld: set[UUID]) -> set[str]:
    """The events (`ID/VERSION`) that carry a withheld entry's text: written body-less."""
    found: set[str] = set()
    for encounter in encounters:
        if not any(entry in withheld for entry in encounter.entries):
            continue
        for event in aggregate_events(ledger, encounter.id):
            if isinstance(event, _WITHHELD_TOPICS) and event.entry_id in withheld:
                found.add(f"{event.originator_id}/{event.originator_version}")
    return found


def _is_document(ledger: Ledger, oid: UUID) -> bool:
    from ledger.aggregates.documents import Document

    stored = ledger.recorder.select_events(oid, limit=1)
    return bool(stored) and stored[0].topic == Document.Filed.TOPIC


def _versions(ledger: Ledger, oid: UUID) -> int:
    return len(ledger.recorder.select_events(oid))


def _write_csv(path: Path, rows: list[AuditRow]) -> None:
    with open_text(path, force=True) as out:
        write_csv(out, rows)


def _write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, default=str) + "\n", force=True)


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _safe(name: str) -> str:
    kept = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name)
    return kept.strip("._") or "document"
