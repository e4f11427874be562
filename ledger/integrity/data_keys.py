"""Per-subject data keys for PHI (DESIGN.md section 7): AES-256-GCM, wrapped by a master key.

Each subject (a patient) gets one random 256-bit data key, stored only wrapped (AES-256-GCM under
the master key, bound to the key id). Event bodies about the subject are encrypted with it before
they are signed, so signatures and proofs never need the key. Destroying the data key at the end
of retention makes that subject's bodies unreadable while every signature and proof still holds.
"""

from __future__ import annotations

import os
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.errors import ConfigurationError, LedgerError
from ledger.stores.database import Database
from ledger.verifier.sealed import NONCE_SIZE

MASTER_KEY_SIZE = 32

_TABLE = (
    "CREATE TABLE IF NOT EXISTS {table} ("
    " key_id TEXT PRIMARY KEY, wrapped {blob}, destroyed INTEGER NOT NULL DEFAULT 0)"
)


class DataDestroyed(LedgerError):
    """The data key of a subject was destroyed: what was encrypted with it is gone for good."""

    exit_code = 7


def key_id_for(subject: UUID) -> str:
    """One data key per subject; its id names the subject and nothing else."""
    return f"subject:{subject.hex}"


class DataKeys:
    """The wrapped data keys in the ledger's own database."""

    def __init__(self, db: Database, master_key: bytes | None) -> None:
        if master_key is not None and len(master_key) != MASTER_KEY_SIZE:
            raise ConfigurationError("The master key must be 32 bytes.")
        self.db = db
        self.table = db.table("data_keys")
        self._master = AESGCM(master_key) if master_key is not None else None
        self._cache: dict[str, bytes] = {}

    def create_table(self) -> None:
        with self.db.transaction(commit=True) as cur:
            cur.execute(_TABLE.format(table=self.table, blob="{blob}"))

    @property
    def available(self) -> bool:
        """Whether this ledger holds the master key (it can read patient data)."""
        return self._master is not None

    def _require_master(self) -> AESGCM:
        if self._master is None:
            raise ConfigurationError(
                "This ledger's master key is not available, so patient data cannot be "
                "encrypted or read (signatures and proofs do not need it)."
            )
        return self._master

    def key_for(self, subject: UUID) -> tuple[str, bytes]:
        """The subject's data key, made on first use."""
        key_id = key_id_for(subject)
        try:
            return key_id, self.key(key_id)
        except KeyError:
            pass
        master = self._require_master()
        key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(NONCE_SIZE)
        wrapped = nonce + master.encrypt(nonce, key, key_id.encode())
        with self.db.transaction(commit=True) as cur:
            cur.execute(
                f"INSERT INTO {self.table} (key_id, wrapped, destroyed) VALUES (?, ?, 0) "
                "ON CONFLICT (key_id) DO NOTHING",
                (key_id, wrapped),
            )
        return key_id, self.key(key_id)  # another writer may have won the race: use theirs

    def key(self, key_id: str) -> bytes:
        """An existing data key: `KeyError` if none was made, `DataDestroyed` if destroyed."""
        if key_id in self._cache:
            return self._cache[key_id]
        with self.db.transaction(commit=False) as cur:
            cur.execute(f"SELECT wrapped, destroyed FROM {self.table} WHERE key_id=?", (key_id,))
            row = cur.fetchone()
        if row is None:
            raise KeyError(key_id)
        if row["destroyed"] or row["wrapped"] is None:
            raise DataDestroyed(
                f"The data of {key_id} was destroyed (its key no longer exists); "
                "its events remain signed and provable but cannot be read."
            )
        wrapped = bytes(row["wrapped"])
        try:
            key = self._require_master().decrypt(
                wrapped[:NONCE_SIZE], wrapped[NONCE_SIZE:], key_id.encode()
            )
        except InvalidTag:
            raise ConfigurationError(
                f"The data key {key_id} does not open with this master key."
            ) from None
        self._cache[key_id] = key
        return key

    def destroy(self, subject: UUID) -> None:
        """Erase a subject's data key for good (crypto-shredding)."""
        key_id = key_id_for(subject)
        with self.db.transaction(commit=True) as cur:
            cur.execute(
                f"UPDATE {self.table} SET wrapped=NULL, destroyed=1 WHERE key_id=?", (key_id,)
            )
        self._cache.pop(key_id, None)
