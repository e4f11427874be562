"""Documents: filed once by content hash, encrypted, returned byte for byte, checked by verify."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest

from ledger.application import Ledger
from ledger.commands import documents, patients
from ledger.errors import IntegrityViolation, NotAuthorised, UsageError
from ledger.integrity.keys import Identity
from ledger.reads.documents import documents_of, read_document
from ledger.stores.database import parse_store_url
from tests.conftest import Hospital

ADA = {"given_name": "Ada", "family_name": "Okafor", "birth_date": date(1961, 4, 2)}


def setup(hospital: Hospital, tmp_path: Path) -> tuple[Identity, str, Path]:
    tech = hospital.enrol("tech1", ["technician"])
    mrn = patients.register_patient(hospital.ledger, ADA, actor=tech, likely_matches=[])
    scan = tmp_path / "consent-scan.png"
    scan.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    return tech, mrn, scan


def blob_rows(ledger: Ledger) -> list[tuple[str, str, bytes]]:
    with ledger.db.transaction(commit=False) as cur:
        cur.execute(f"SELECT sha256, key_id, content FROM {ledger.blobs.table}")
        return [(r["sha256"], r["key_id"], bytes(r["content"])) for r in cur.fetchall()]


def set_blob(ledger: Ledger, digest: str, content: bytes) -> None:
    with ledger.db.transaction(commit=True) as cur:
        cur.execute(f"UPDATE {ledger.blobs.table} SET content=? WHERE sha256=?", (content, digest))


def test_a_document_comes_back_byte_for_byte(hospital: Hospital, tmp_path: Path) -> None:
    tech, mrn, scan = setup(hospital, tmp_path)
    document_id = documents.file_document(hospital.ledger, mrn, scan, kind="consent", actor=tech)
    document, content = read_document(hospital.reopen(), document_id)
    assert content == scan.read_bytes()
    assert (document.sha256, document.size) == (hashlib.sha256(content).hexdigest(), len(content))
    assert (document.media_type, document.kind, document.mrn) == ("image/png", "consent", mrn)
    assert [d.id for d in documents_of(hospital.ledger, mrn)] == [document_id]
    (stored,) = blob_rows(hospital.ledger)
    assert bytes(range(256)) not in stored[2]  # encrypted at rest
    report = hospital.ledger.verify()
    assert (report.documents, report.documents_skipped) == (1, False)


@pytest.mark.parametrize("damage", ["swap", "corrupt", "delete"])
def test_a_swapped_corrupted_or_missing_blob_is_caught(
    hospital: Hospital, tmp_path: Path, damage: str
) -> None:
    tech, mrn, scan = setup(hospital, tmp_path)
    first = documents.file_document(hospital.ledger, mrn, scan, kind="consent", actor=tech)
    other = tmp_path / "letter.txt"
    other.write_text("referral letter")
    documents.file_document(hospital.ledger, mrn, other, kind="correspondence", actor=tech)
    document, _ = read_document(hospital.ledger, first)
    rows = {digest: content for digest, _, content in blob_rows(hospital.ledger)}
    if damage == "swap":
        set_blob(
            hospital.ledger,
            document.sha256,
            next(c for d, c in rows.items() if d != document.sha256),
        )
    elif damage == "corrupt":
        content = rows[document.sha256]
        set_blob(hospital.ledger, document.sha256, content[:-1] + bytes([content[-1] ^ 1]))
    else:
        with hospital.ledger.db.transaction(commit=True) as cur:
            cur.execute(
                f"DELETE FROM {hospital.ledger.blobs.table} WHERE sha256=?", (document.sha256,)
            )
    with pytest.raises(IntegrityViolation) as caught:
        hospital.reopen().verify()
    assert caught.value.check in {"document", "decryption"}
    assert caught.value.originator_id == first


def test_filing_errors_are_clear_and_write_nothing(hospital: Hospital, tmp_path: Path) -> None:
    tech, mrn, scan = setup(hospital, tmp_path)
    doc = hospital.enrol("coder1", ["coder"])
    before = hospital.ledger.recorder.max_notification_id()
    with pytest.raises(UsageError, match="no file at"):
        documents.file_document(
            hospital.ledger, mrn, tmp_path / "nope.pdf", kind="consent", actor=tech
        )
    with pytest.raises(UsageError, match="Unknown document kind"):
        documents.file_document(hospital.ledger, mrn, scan, kind="selfie", actor=tech)
    with pytest.raises(UsageError, match="is a folder"):
        documents.file_document(hospital.ledger, mrn, tmp_path, kind="consent", actor=tech)
    with pytest.raises(NotAuthorised):
        documents.file_document(hospital.ledger, mrn, scan, kind="consent", actor=doc)
    assert hospital.ledger.recorder.max_notification_id() == before
    assert blob_rows(hospital.ledger) == []


def test_without_the_master_key_documents_are_not_checked_but_the_rest_is(
    hospital: Hospital, tmp_path: Path
) -> None:
    tech, mrn, scan = setup(hospital, tmp_path)
    documents.file_document(hospital.ledger, mrn, scan, kind="consent", actor=tech)
    before = hospital.ledger.recorder.max_notification_id()
    keyless = Ledger(parse_store_url(hospital.store_url))
    try:
        report = keyless.verify()
        assert report.documents_skipped and report.documents == 0 and report.events > 0
        assert keyless.recorder.max_notification_id() == before
    finally:
        keyless.close()
