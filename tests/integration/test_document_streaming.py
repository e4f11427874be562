"""Documents are streamed (issue 10, item 7): chunked, bounded, regular files only, nothing
written on refusal; a chunk reordered or cut off is caught."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from datetime import date
from pathlib import Path

import pytest

from ledger.commands import documents, patients
from ledger.errors import IntegrityViolation, UsageError
from ledger.integrity.keys import Identity
from ledger.reads.documents import read_document
from ledger.stores.blobs import CHUNK_BYTES
from tests.conftest import Hospital

ADA = {"given_name": "Ada", "family_name": "Okafor", "birth_date": date(1961, 4, 2)}


def _setup(hospital: Hospital) -> tuple[Identity, str]:
    tech = hospital.enrol("tech1", ["technician"])
    return tech, patients.register_patient(hospital.ledger, ADA, actor=tech, likely_matches=[])


def _chunks(hospital: Hospital) -> int:
    with hospital.ledger.db.transaction(commit=False) as cur:
        cur.execute(f"SELECT COUNT(*) AS n FROM {hospital.ledger.blobs.table}")
        return int(cur.fetchone()["n"])


def test_a_large_document_is_stored_in_chunks_without_reading_it_whole(
    hospital: Hospital, tmp_path: Path
) -> None:
    tech, mrn = _setup(hospital)
    scan = tmp_path / "scan.tiff"
    size = 16 * CHUNK_BYTES + 123
    with scan.open("wb") as out:
        for _ in range(17):
            out.write(os.urandom(CHUNK_BYTES))
        out.truncate(size)
    tracemalloc.start()
    try:
        document_id = documents.file_document(hospital.ledger, mrn, scan, kind="other", actor=tech)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * CHUNK_BYTES  # a few chunks at a time, never the 16 MiB file whole
    assert _chunks(hospital) == 17
    document, content = read_document(hospital.reopen(), document_id)
    assert document.size == size and content == scan.read_bytes()
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert hospital.ledger.verify().documents == 1


@pytest.mark.parametrize("damage", ["reorder", "cut"])
def test_a_reordered_or_truncated_document_is_caught(
    hospital: Hospital, tmp_path: Path, damage: str
) -> None:
    tech, mrn = _setup(hospital)
    scan = tmp_path / "scan.bin"
    scan.write_bytes(os.urandom(2 * CHUNK_BYTES + 10))
    document_id = documents.file_document(hospital.ledger, mrn, scan, kind="other", actor=tech)
    table = hospital.ledger.blobs.table
    with hospital.ledger.db.transaction(commit=True) as cur:
        if damage == "reorder":
            cur.execute(f"UPDATE {table} SET seq = 9 WHERE seq = 0")
            cur.execute(f"UPDATE {table} SET seq = 0 WHERE seq = 1")
            cur.execute(f"UPDATE {table} SET seq = 1 WHERE seq = 9")
        else:
            cur.execute(f"DELETE FROM {table} WHERE seq = 2")
    with pytest.raises(IntegrityViolation) as caught:
        hospital.reopen().verify()
    assert caught.value.check in {"document", "decryption"}
    assert caught.value.originator_id == document_id


def test_devices_fifos_and_oversized_files_are_refused_and_nothing_is_written(
    hospital: Hospital, tmp_path: Path
) -> None:
    tech, mrn = _setup(hospital)
    before = hospital.ledger.recorder.max_notification_id()
    with pytest.raises(UsageError, match="not a regular file"):
        documents.file_document(hospital.ledger, mrn, Path("/dev/zero"), kind="other", actor=tech)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(UsageError, match="not a regular file"):
        documents.file_document(hospital.ledger, mrn, fifo, kind="other", actor=tech)
    assert hospital.ledger.recorder.max_notification_id() == before
    assert _chunks(hospital) == 0


def test_the_document_limit_comes_from_the_policy(hospital: Hospital, tmp_path: Path) -> None:
    from ledger.commands.policy import load_access_policy

    tech, mrn = _setup(hospital)
    officer = hospital.enrol("privacy1", ["compliance-officer"])
    load_access_policy(
        hospital.ledger, 'version = "t.1"\n[limits]\ndocument_bytes = 1000\n', actor=officer
    )
    before = hospital.ledger.recorder.max_notification_id()
    big = tmp_path / "big.pdf"
    big.write_bytes(b"x" * 1001)
    with pytest.raises(UsageError, match="larger than the limit of 1000 bytes"):
        documents.file_document(hospital.ledger, mrn, big, kind="other", actor=tech)
    assert hospital.ledger.recorder.max_notification_id() == before and _chunks(hospital) == 0
    small = tmp_path / "small.pdf"
    small.write_bytes(b"x" * 1000)
    documents.file_document(hospital.ledger, mrn, small, kind="other", actor=tech)
    assert _chunks(hospital) == 1


class _Changing:
    """A real file whose bytes change between the hashing pass and the storing pass."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle = path.open("rb")

    def read(self, n: int) -> bytes:
        return self.handle.read(n)

    def fileno(self) -> int:
        return self.handle.fileno()

    def seek(self, at: int) -> int:
        self.path.write_bytes(b"B" * 10)  # rewritten in place while being filed
        self.handle.close()
        self.handle = self.path.open("rb")
        return self.handle.seek(at)


def test_a_file_that_changes_while_being_filed_stores_nothing(
    hospital: Hospital, tmp_path: Path
) -> None:
    _, mrn = _setup(hospital)
    path = tmp_path / "moving.txt"
    path.write_bytes(b"A" * 10)
    source = _Changing(path)
    with pytest.raises(UsageError, match="changed while it was being filed"):
        hospital.ledger.blobs.put_file(
            hospital.ledger.patient(mrn).id,
            source,
            limit=100,
            name="moving.txt",  # type: ignore[arg-type]
        )
    assert _chunks(hospital) == 0


def test_a_document_stored_whole_before_chunking_still_reads(
    hospital: Hospital, tmp_path: Path
) -> None:
    from ledger.verifier.sealed import seal_body

    tech, mrn = _setup(hospital)
    scan = tmp_path / "old.txt"
    scan.write_bytes(b"filed by an earlier version")
    document_id = documents.file_document(hospital.ledger, mrn, scan, kind="other", actor=tech)
    document = hospital.ledger.document_info(document_id)
    key_id, key = hospital.ledger.data_keys.key_for(document.patient_id)
    sealed = seal_body(key, f"{key_id}/blob/{document.sha256}", scan.read_bytes())
    blobs = hospital.ledger.blobs
    with hospital.ledger.db.transaction(commit=True) as cur:
        cur.execute(f"DELETE FROM {blobs.table}")
        cur.execute(
            f"INSERT INTO {blobs.legacy_table} (sha256, key_id, content) VALUES (?, ?, ?)",
            (document.sha256, key_id, sealed),
        )
    assert read_document(hospital.reopen(), document_id)[1] == b"filed by an earlier version"
    assert hospital.ledger.verify().documents == 1


@pytest.mark.parametrize("legacy", [False, True])
def test_a_multi_chunk_document_refiles_chunk_by_chunk(
    hospital: Hospital, tmp_path: Path, legacy: bool
) -> None:
    from ledger.verifier.sealed import seal_body

    tech, mrn = _setup(hospital)
    other = patients.register_patient(
        hospital.ledger,
        {"given_name": "Bo", "family_name": "Lind", "birth_date": date(1970, 5, 5)},
        actor=tech,
        likely_matches=[],
    )
    scan = tmp_path / "scan.bin"
    scan.write_bytes(os.urandom(2 * CHUNK_BYTES + 7))
    document_id = documents.file_document(hospital.ledger, mrn, scan, kind="other", actor=tech)
    if legacy:  # as an earlier version stored it: one sealed row of the whole content
        document = hospital.ledger.document_info(document_id)
        key_id, key = hospital.ledger.data_keys.key_for(document.patient_id)
        sealed = seal_body(key, f"{key_id}/blob/{document.sha256}", scan.read_bytes())
        blobs = hospital.ledger.blobs
        with hospital.ledger.db.transaction(commit=True) as cur:
            cur.execute(f"DELETE FROM {blobs.table}")
            cur.execute(
                f"INSERT INTO {blobs.legacy_table} (sha256, key_id, content) VALUES (?, ?, ?)",
                (document.sha256, key_id, sealed),
            )
    documents.refile_document(hospital.ledger, document_id, other, reason="misfiled", actor=tech)
    moved, content = read_document(hospital.reopen(), document_id)
    assert moved.mrn == other and content == scan.read_bytes()
    assert hospital.ledger.verify().documents == 1
