"""Scanned and electronic documents: content-addressed, encrypted, and checked by `verify`.

Filing a document stores its bytes once under their SHA-256 (encrypted with the patient's data
key, bound to the hash) and records `Document.Filed` with the hash, size and media type. The
event is signed, so a blob that was swapped or corrupted later no longer matches its hash.

A document filed to the wrong patient is moved by `Document.Refiled`, never edited: the `Filed`
event stays as it was (the history shows where it went first), and the bytes are stored again
under the new patient's data key so the document still reads after the move.

This module holds the `Document` aggregate (which keeps its own invariants: `file`, `refile`),
the `BlobStore` that keeps the bytes, and the reads (`documents_of`, `read_document`,
`check_documents`; one document's facts are the loader `Ledger.document_info`). The commands are
in `ledger.commands.documents`, who may run them in `policies.documents`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, cast
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from ledger.aggregates.patient import patient_id
from ledger.errors import IntegrityViolation, UsageError
from ledger.integrity.data_keys import DataDestroyed, DataKeys
from ledger.stores.database import Database
from ledger.verifier.sealed import open_body, seal_body
from policies.documents import DOCUMENT_KINDS
from policies.limits import DEFAULT_LIMITS

if TYPE_CHECKING:
    from ledger.application import Ledger

MAX_SIZE = DEFAULT_LIMITS.document_bytes
"""The default document limit (`[limits] document_bytes` in the access policy sets it)."""


class Document(Aggregate):
    """One filed document of a patient's chart."""

    TOPIC = "chartledger/document"

    class Created(Aggregate.Created):
        TOPIC = "chartledger/document/created"

    class Filed(Aggregate.Created):
        TOPIC = "chartledger/document/filed"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        mrn: str
        encounter_id: UUID | None
        kind: str
        sha256: str
        size: int
        media_type: str
        filename: str
        actor: str

    class Refiled(Aggregate.Event):
        """The document was moved to another patient's chart (it had been misfiled)."""

        TOPIC = "chartledger/document/refiled"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        mrn: str
        from_mrn: str
        sha256: str
        """The content's hash again, signed under the new chart (its key opens this event)."""
        encounter_id: UUID | None
        reason: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.patient_id = self.patient_id
            aggregate.mrn = self.mrn
            aggregate.encounter_id = self.encounter_id

    def __init__(
        self,
        patient_id: UUID,
        mrn: str,
        encounter_id: UUID | None,
        kind: str,
        sha256: str,
        size: int,
        media_type: str,
        filename: str,
        actor: str,
    ) -> None:
        self.patient_id = patient_id
        self.mrn = mrn
        self.encounter_id = encounter_id
        self.kind = kind
        self.sha256 = sha256
        self.size = size
        self.media_type = media_type
        self.filename = filename
        self.filed_by = actor

    @staticmethod
    def check_kind(kind: str) -> None:
        """A document is one of the kinds `policies.documents` lists (the command checks it
        before the bytes are stored too, so a wrong kind writes nothing)."""
        if kind not in DOCUMENT_KINDS:
            kinds = ", ".join(sorted(DOCUMENT_KINDS))
            raise UsageError(f"Unknown document kind '{kind}'; one of {kinds}.")

    @classmethod
    def file(
        cls,
        patient_id: UUID,
        mrn: str,
        *,
        encounter_id: UUID | None,
        kind: str,
        sha256: str,
        size: int,
        media_type: str,
        filename: str,
        actor: str,
    ) -> Document:
        """A document filed to a patient's chart, its bytes already stored under `sha256`."""
        cls.check_kind(kind)
        return cls._create(
            cls.Filed,
            id=uuid4(),
            patient_id=patient_id,
            mrn=mrn,
            encounter_id=encounter_id,
            kind=kind,
            sha256=sha256,
            size=size,
            media_type=media_type,
            filename=filename,
            actor=actor,
        )

    def refile(
        self,
        patient_id: UUID,
        mrn: str,
        *,
        encounter_id: UUID | None,
        reason: str,
        actor: str,
    ) -> None:
        """Move the document to another patient's chart, for a reason; the `Filed` event stays
        as it was (the history shows where it went first)."""
        if not reason.strip():
            raise UsageError("Give a reason for moving the document.")
        if patient_id == self.patient_id:
            raise UsageError(f"Document {self.id} is already in {mrn}'s chart.")
        self.trigger_event(
            self.Refiled,
            patient_id=patient_id,
            mrn=mrn,
            from_mrn=self.mrn,
            sha256=self.sha256,
            encounter_id=encounter_id,
            reason=reason.strip(),
            actor=actor,
        )


CHUNK_BYTES = 1024 * 1024
"""Documents are read, hashed, encrypted and stored in pieces of this size (never whole)."""


class BlobStore:
    """Document bytes by SHA-256, encrypted with their patient's data key, in 1 MiB chunks.

    Each chunk is sealed on its own (AES-256-GCM, fresh nonce) with associated data naming the
    key, the document's hash, the chunk's place and the number of chunks, so a chunk swapped,
    reordered, dropped or cut off does not open; reading re-hashes the whole and compares it
    with the hash the signed event recorded. Ledgers filed before chunking keep their single
    sealed row in `document_blobs`, which is still read.
    """

    def __init__(self, db: Database, data_keys: DataKeys) -> None:
        self.db = db
        self.data_keys = data_keys
        self.table = db.table("document_chunks")
        self.legacy_table = db.table("document_blobs")

    def create_table(self) -> None:
        with self.db.transaction(commit=True) as cur:
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} (sha256 TEXT NOT NULL, "
                "key_id TEXT NOT NULL, seq INTEGER NOT NULL, content {blob} NOT NULL, "
                "PRIMARY KEY (sha256, key_id, seq))"
            )
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {self.legacy_table} (sha256 TEXT NOT NULL, "
                "key_id TEXT NOT NULL, content {blob} NOT NULL, PRIMARY KEY (sha256, key_id))"
            )

    def put(self, subject: UUID, content: bytes) -> str:
        """Store bytes already in memory (a refiled document, an imported attachment)."""
        digest = hashlib.sha256(content).hexdigest()
        pieces = [content[i : i + CHUNK_BYTES] for i in range(0, len(content), CHUNK_BYTES)]
        self._store(subject, digest, len(content), iter(pieces or [b""]))
        return digest

    def put_file(
        self, subject: UUID, source: BinaryIO, *, limit: int, name: str
    ) -> tuple[str, int]:
        """Store a regular file read in chunks, twice: once to hash it (refusing it past
        `limit` bytes), once to seal and store it, checked against the first hash (a file that
        changed in between is refused and nothing is stored). Returns (sha256, size)."""
        if os.fstat(source.fileno()).st_size > limit:
            raise UsageError(f"{name} is larger than the limit of {limit} bytes.")
        hasher, size = hashlib.sha256(), 0
        while chunk := source.read(CHUNK_BYTES):
            size += len(chunk)
            if size > limit:
                raise UsageError(f"{name} is larger than the limit of {limit} bytes.")
            hasher.update(chunk)
        digest = hasher.hexdigest()
        source.seek(0)

        def pieces() -> Iterator[bytes]:
            again, seen = hashlib.sha256(), 0
            first = True
            while chunk := source.read(CHUNK_BYTES):
                seen += len(chunk)
                if seen > size:
                    break
                again.update(chunk)
                first = False
                yield chunk
            if first:
                yield b""
            if seen != size or again.hexdigest() != digest:
                raise UsageError(f"{name} changed while it was being filed; file it again.")

        self._store(subject, digest, size, pieces())
        return digest, size

    def copy(self, source: UUID, target: UUID, digest: str, size: int) -> None:
        """Store a document again under another subject's key, chunk by chunk (a refile); a
        stored copy that no longer matches its hash is refused and nothing is stored."""
        self._store(target, digest, size, _rechunk(self.chunks(source, digest)))

    def _store(self, subject: UUID, digest: str, size: int, pieces: Iterator[bytes]) -> None:
        key_id, key = self.data_keys.key_for(subject)
        count = max(1, -(-size // CHUNK_BYTES))
        with self.db.transaction(commit=True) as cur:  # all chunks or none
            cur.execute(
                f"SELECT COUNT(*) AS n FROM {self.table} WHERE sha256=? AND key_id=?",
                (digest, key_id),
            )
            stored = int(cur.fetchone()["n"])
            for seq, piece in enumerate(pieces):
                if stored:
                    continue  # the same bytes are already here (still read to check them)
                sealed = seal_body(key, _chunk_aad(key_id, digest, seq, count), piece)
                cur.execute(
                    f"INSERT INTO {self.table} (sha256, key_id, seq, content) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (sha256, key_id, seq) DO NOTHING",
                    (digest, key_id, seq, sealed),
                )

    def chunks(self, subject: UUID, digest: str) -> Iterator[bytes]:
        """The document's bytes piece by piece; the last step checks the whole against the
        hash its signed event recorded (a consumer must not use the bytes before the end)."""
        key_id, key = self.data_keys.key_for(subject)
        with self.db.transaction(commit=False) as cur:
            cur.execute(
                f"SELECT seq FROM {self.table} WHERE sha256=? AND key_id=? ORDER BY seq",
                (digest, key_id),
            )
            seqs = [int(row["seq"]) for row in cur.fetchall()]
        hasher = hashlib.sha256()
        if not seqs:
            content = self._legacy(key_id, key, digest)
            hasher.update(content)
            yield content
        else:
            if seqs != list(range(len(seqs))):
                raise IntegrityViolation("document", f"chunks of document {digest} are missing")
            for seq in seqs:
                with self.db.transaction(commit=False) as cur:
                    cur.execute(
                        f"SELECT content FROM {self.table} WHERE sha256=? AND key_id=? AND seq=?",
                        (digest, key_id, seq),
                    )
                    row = cur.fetchone()
                if row is None:
                    raise IntegrityViolation("document", f"chunks of document {digest} are missing")
                aad = _chunk_aad(key_id, digest, seq, len(seqs))
                piece = open_body(key, aad, bytes(row["content"]))
                hasher.update(piece)
                yield piece
        if hasher.hexdigest() != digest:
            raise IntegrityViolation(
                "document", f"the stored content does not match document {digest}"
            )

    def _legacy(self, key_id: str, key: bytes, digest: str) -> bytes:
        with self.db.transaction(commit=False) as cur:
            cur.execute(
                f"SELECT content FROM {self.legacy_table} WHERE sha256=? AND key_id=?",
                (digest, key_id),
            )
            row = cur.fetchone()
        if row is None:
            raise IntegrityViolation("document", f"the content of document {digest} is missing")
        return open_body(key, f"{key_id}/blob/{digest}", bytes(row["content"]))

    def get(self, subject: UUID, digest: str) -> bytes:
        """The document's bytes, checked against the hash its signed event recorded."""
        return b"".join(list(self.chunks(subject, digest)))


def _rechunk(pieces: Iterator[bytes]) -> Iterator[bytes]:
    """Pieces of exactly CHUNK_BYTES (the last shorter; one empty piece for empty content),
    whatever sizes come in (a whole blob of an older ledger is one piece)."""
    buffer, sent = b"", False
    for piece in pieces:
        buffer += piece
        while len(buffer) >= CHUNK_BYTES:
            yield buffer[:CHUNK_BYTES]
            buffer, sent = buffer[CHUNK_BYTES:], True
    if buffer or not sent:
        yield buffer


def _chunk_aad(key_id: str, digest: str, seq: int, count: int) -> str:
    return f"{key_id}/blob/{digest}/{seq}/{count}"


@dataclass(frozen=True)
class DocumentCheck:
    """What `verify` found of the documents."""

    checked: int
    skipped: bool


def read_document(ledger: Ledger, document_id: UUID) -> tuple[Document, bytes]:
    """A filed document and its bytes, byte for byte (the caller records the access)."""
    found = ledger.document_info(document_id)
    return found, ledger.blobs.get(found.patient_id, found.sha256)


def documents_of(ledger: Ledger, mrn: str) -> list[Document]:
    """Every document filed to a patient's chart (and to charts merged into it)."""
    wanted = [patient_id(m) for m in (mrn, *ledger.patient(mrn).absorbed)]
    ids = ledger.chart_index().document_ids(wanted)
    return [cast(Document, ledger.repository.get(document_id)) for document_id in ids]


def check_documents(ledger: Ledger, *, can_decrypt: bool) -> DocumentCheck:
    """Re-hash every filed document's bytes (needs the master key; skipped without it)."""
    if not can_decrypt:
        return DocumentCheck(0, skipped=True)
    filed = ledger.recorder.select_notifications(
        start=None, limit=10_000_000, topics=[Document.Filed.TOPIC]
    )
    checked = 0
    for note in filed:
        try:
            found = cast(Document, ledger.repository.get(cast(UUID, note.originator_id)))
            for _ in ledger.blobs.chunks(found.patient_id, found.sha256):
                pass  # re-hashed piece by piece; the last step compares the whole
        except DataDestroyed:
            continue  # shredded at the end of retention: nothing left to compare
        except IntegrityViolation as failure:
            raise IntegrityViolation(
                "document",
                failure.detail,
                originator_id=cast(UUID, note.originator_id),
                originator_version=1,
            ) from None
        checked += 1
    return DocumentCheck(checked, skipped=False)
