"""Document bytes, kept by their SHA-256 and sealed with their patient's data key.

The signed `Document.Filed` event records the hash; this store keeps the bytes it names, in 1 MiB
chunks, so a blob swapped or corrupted later no longer matches what was signed.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from typing import BinaryIO
from uuid import UUID

from ledger.errors import IntegrityViolation, UsageError
from ledger.integrity.data_keys import DataKeys
from ledger.stores.database import Database
from ledger.verifier.sealed import open_body, seal_body

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
