"""The legal request package on every store: the record as it stood, its history and trail, the
documents, every event proven against a signed checkpoint, verified offline; tampering caught."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from ledger.commands import access, documents, encounters, entries, patients
from ledger.errors import AccessDenied, IntegrityViolation, NotFound, UsageError
from ledger.integrity.keys import Identity
from ledger.integrity.legal_package import sign_manifest
from ledger.verifier.package import verify_package
from ledger.verifier.transcoder import MsgpackTranscoder
from projections.legal import legal_package
from projections.queries import Purpose
from tests.conftest import Hospital

ADA = {"given_name": "Ada", "family_name": "Okafor", "sex": "female"}
LEGAL = Purpose("legal")


def staff(hospital: Hospital, name: str, role: str) -> Identity:
    person = hospital.enrol(name, [role])
    return person


@dataclass
class Case:
    """A chart with an entry amended after the as-of time, a document, and reads of it."""

    hospital: Hospital
    roi: Identity
    doc: Identity
    mrn: str
    encounter: UUID
    entry: UUID
    as_of: datetime
    document: UUID


@pytest.fixture
def case(hospital: Hospital, tmp_path: Path) -> Case:
    ledger = hospital.ledger
    tech = staff(hospital, "tech1", "technician")
    doc = staff(hospital, "doc1", "physician")
    roi = staff(hospital, "roi1", "roi-specialist")
    mrn = patients.register_patient(ledger, ADA, actor=tech, likely_matches=[])
    now = datetime.now(UTC)
    encounter = encounters.open_encounter(
        ledger,
        mrn,
        encounter_class="inpatient",
        attending="doc1",
        service="medicine",
        effective_at=now - timedelta(hours=3),
        actor=tech,
    )
    entry = entries.add_entry(
        ledger,
        encounter,
        kind="diagnosis",
        text="Community-acquired pneumonia",
        effective_at=now - timedelta(hours=2),
        actor=doc,
    )
    scan = tmp_path / "consent.txt"
    scan.write_bytes(b"I consent to treatment.\n")
    document = documents.file_document(
        ledger, mrn, scan, kind="consent", actor=tech, encounter_id=encounter
    )
    access.record_access(
        ledger, [mrn], actor=doc, action="query", sections=["chart"], purpose="treatment"
    )
    time.sleep(0.01)
    as_of = datetime.now(UTC)
    time.sleep(0.01)
    entries.amend_entry(
        ledger,
        encounter,
        entry,
        text="Lobar pneumonia, right lower lobe",
        reason="chest x-ray read",
        requested_by="doc1",
        actor=doc,
    )
    return Case(hospital, roi, doc, mrn, encounter, entry, as_of, document)


def make(case: Case, out: Path) -> None:
    legal_package(
        case.hospital.ledger,
        case.mrn,
        as_of=case.as_of,
        out=out,
        actor=case.roi,
        node=case.hospital.node(),
        why=LEGAL,
    )


def verify(folder: Path, genesis: bytes | None = None) -> object:
    return verify_package(folder, transcoder=MsgpackTranscoder(), expected_genesis=genesis)


def test_a_package_holds_the_record_as_it_stood_and_verifies_offline(
    case: Case, tmp_path: Path
) -> None:
    out = tmp_path / "package"
    make(case, out)
    record = json.loads((out / "record.json").read_text())
    entries = record["encounters"][0]["entries"]
    assert [e["text"] for e in entries] == ["Community-acquired pneumonia"]  # before the amendment
    history = json.loads((out / "history.json").read_text())
    amended = [line for line in history if line["what"] == "Encounter.EntryAmended"]
    assert (
        amended and amended[0]["after_as_of"] is True and amended[0]["reason"] == "chest x-ray read"
    )
    trail = json.loads((out / "audit-trail.json").read_text())
    assert {"query", "copy"} <= {row["action"] for row in trail}
    assert any(row["actor"] == "roi1" and row["purpose"] == "legal" for row in trail)
    (document,) = (out / "documents").iterdir()
    assert document.read_bytes() == b"I consent to treatment.\n"
    assert document.name.startswith(str(case.document))
    genesis = case.hospital.ledger.genesis_fingerprint()
    shutil.copytree(out, tmp_path / "elsewhere")  # no database, no ledger home needed
    report = verify(tmp_path / "elsewhere", genesis)
    assert report.documents == 1 and report.entries == 1  # type: ignore[attr-defined]
    assert report.cited >= len(history) + len(trail)  # type: ignore[attr-defined]
    assert report.signed_by == "roi1"  # type: ignore[attr-defined]


def test_making_a_package_is_recorded_and_refused_without_a_legal_role(
    case: Case, tmp_path: Path
) -> None:
    ledger = case.hospital.ledger
    before = ledger.recorder.max_notification_id()
    with pytest.raises(AccessDenied):
        legal_package(
            ledger,
            case.mrn,
            as_of=case.as_of,
            out=tmp_path / "p",
            actor=staff(case.hospital, "coder1", "coder"),
            node=case.hospital.node(),
            why=LEGAL,
        )
    assert not (tmp_path / "p").exists()
    # Only the enrolment (invitation and enrolment) and the recorded refusal were written.
    assert ledger.recorder.max_notification_id() == (before or 0) + 3


@pytest.mark.parametrize(
    ("problem", "error", "match"),
    [
        ("wrong MRN", NotFound, "MR9999999"),
        ("future", UsageError, "future"),
        ("not empty", UsageError, "not empty"),
    ],
)
def test_bad_requests_write_nothing(
    case: Case, tmp_path: Path, problem: str, error: type[Exception], match: str
) -> None:
    ledger = case.hospital.ledger
    out = tmp_path / "p"
    mrn, as_of = case.mrn, case.as_of
    if problem == "wrong MRN":
        mrn = "MR9999999"
    elif problem == "future":
        as_of = datetime.now(UTC) + timedelta(days=1)
    else:
        out.mkdir()
        (out / "x").write_text("x")
    before = ledger.recorder.max_notification_id()
    with pytest.raises(error, match=match):
        legal_package(
            ledger, mrn, as_of=as_of, out=out, actor=case.roi, node=case.hospital.node(), why=LEGAL
        )
    assert ledger.recorder.max_notification_id() == before


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _write_lines(path: Path, lines: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_tampering_with_a_package_is_caught(case: Case, tmp_path: Path) -> None:
    out = tmp_path / "package"
    make(case, out)
    genesis = case.hospital.ledger.genesis_fingerprint()

    def tampered(name: str) -> Path:
        copy = tmp_path / name
        shutil.copytree(out, copy)
        return copy

    # A document's bytes changed.
    copy = tampered("document")
    (document,) = (copy / "documents").iterdir()
    document.write_bytes(b"I do not consent.\n")
    with pytest.raises(IntegrityViolation, match="manifest"):
        verify(copy, genesis)
    # The same, by an insider who re-signs the manifest with their own valid key.
    sign_manifest(copy, case.roi, origin="test.hospital/ledger", made_at=datetime.now(UTC))
    with pytest.raises(IntegrityViolation, match="whose SHA-256 was signed"):
        verify(copy, genesis)

    # The record's text changed and the manifest re-signed: the signed events disagree.
    copy = tampered("record")
    record = json.loads((copy / "record.json").read_text())
    record["encounters"][0]["entries"][0]["text"] = "No pneumonia"
    (copy / "record.json").write_text(json.dumps(record))
    sign_manifest(copy, case.roi, origin="test.hospital/ledger", made_at=datetime.now(UTC))
    with pytest.raises(IntegrityViolation, match="not the text its proven events hold"):
        verify(copy, genesis)

    # An event left out of the middle of an aggregate's chain.
    copy = tampered("omitted")
    lines = _lines(copy / "events.ndjson")
    encounter_lines = [
        i for i, line in enumerate(lines) if line["originator_id"] == str(case.encounter)
    ]
    del lines[encounter_lines[1]]
    _write_lines(copy / "events.ndjson", lines)
    with pytest.raises(IntegrityViolation, match="omits"):
        verify(copy, genesis)

    # One byte of one proof hash changed.
    copy = tampered("proof")
    lines = _lines(copy / "events.ndjson")
    proof = lines[-1]["proof"]
    assert isinstance(proof, list) and proof
    raw = bytearray(base64.b64decode(proof[0]))
    raw[0] ^= 1
    proof[0] = base64.b64encode(bytes(raw)).decode()
    _write_lines(copy / "events.ndjson", lines)
    with pytest.raises(IntegrityViolation, match="inclusion"):
        verify(copy, genesis)

    # A history line citing an event the package does not prove.
    copy = tampered("citation")
    history = json.loads((copy / "history.json").read_text())
    history[0]["event"] = f"{UUID(int=7)}/1"
    (copy / "history.json").write_text(json.dumps(history))
    sign_manifest(copy, case.roi, origin="test.hospital/ledger", made_at=datetime.now(UTC))
    with pytest.raises(IntegrityViolation, match="does not prove"):
        verify(copy, genesis)

    # Another ledger's trust anchor.
    with pytest.raises(IntegrityViolation, match="trust anchor"):
        verify(out, bytes(32))


def test_verify_export_and_package_load_nothing_of_the_write_side(
    case: Case, tmp_path: Path
) -> None:
    """`chartledger verify --export` and `--package`, run as a user runs them elsewhere, load no
    aggregate, store, application, projection or `eventsourcing.application`."""
    out = tmp_path / "package"
    make(case, out)
    export = tmp_path / "export"
    case.hospital.ledger.export(export, node=case.hospital.node())
    genesis = case.hospital.ledger.genesis_fingerprint().hex()
    code = (
        "import sys\nfrom cli.main import cli\n"
        "try:\n    cli.main(sys.argv[1:], standalone_mode=False)\n"
        "finally:\n    print('MODULES', *sorted(sys.modules))\n"
    )
    env = {**os.environ, "CHARTLEDGER_HOME": str(tmp_path / "no-home"), "CHARTLEDGER_DB": ""}
    for option, folder in (("--export", export), ("--package", out)):
        done = subprocess.run(
            [sys.executable, "-c", code, "verify", option, str(folder), "--genesis", genesis],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        assert "Verified" in done.stdout or "verified" in done.stdout, done.stdout
        modules = done.stdout.split("MODULES", 1)[1].split()
        ours = {m for m in modules if m.split(".")[0] in ("ledger", "projections", "policies")}
        allowed = {m for m in ours if m.startswith(("ledger.verifier", "policies"))}
        assert ours <= {"ledger", "ledger.errors"} | allowed, sorted(ours)
        assert not {"eventsourcing.application", "psycopg"} & set(modules)
