"""Identities are Ed25519 key pairs, as in SSH: a 0600 private key file, the public key here."""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.errors import IdentityError, UsageError


def raw_public(public_key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of a public key, as stored in the ledger and in exports."""
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(public_key: Ed25519PublicKey | bytes) -> bytes:
    """SHA-256 of the raw public key: the `signer` field of every envelope."""
    raw = public_key if isinstance(public_key, bytes) else raw_public(public_key)
    return hashlib.sha256(raw).digest()


def public_key_from_raw(raw: bytes) -> Ed25519PublicKey:
    """Load a public key from its 32 raw bytes."""
    if len(raw) != 32:
        raise UsageError("An Ed25519 public key must be exactly 32 bytes.")
    return Ed25519PublicKey.from_public_bytes(raw)


@dataclass(frozen=True)
class Identity:
    """A person or interface able to sign: their user name and private key."""

    name: str
    private_key: Ed25519PrivateKey

    @cached_property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @cached_property
    def public_raw(self) -> bytes:
        return raw_public(self.public_key)

    @cached_property
    def fingerprint(self) -> bytes:
        """Computed once: every event this identity signs carries it."""
        return fingerprint(self.public_raw)

    def sign(self, data: bytes) -> bytes:
        return self.private_key.sign(data)

    @classmethod
    def generate(cls, name: str) -> Identity:
        return cls(name, Ed25519PrivateKey.generate())


def write_key_file(identity: Identity, path: Path, *, passphrase: bytes | None = None) -> None:
    """Write the private key as PKCS#8 PEM readable only by its owner; never overwrite a key."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    pem = identity.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    write_secret_file(path, pem)


def write_secret_file(path: Path, content: bytes) -> None:
    """Create a file only its owner can read (0600); never overwrite one."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise UsageError(f"A key file already exists at {path}; it was left as it is.") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)


def load_identity(name: str, path: Path, *, passphrase: bytes | None = None) -> Identity:
    """Read a user's key file; refuse one that others can read, as SSH does."""
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except FileNotFoundError:
        raise IdentityError(f"No key file for user '{name}' at {path}.") from None
    except OSError:
        raise IdentityError(f"The key file for user '{name}' at {path} cannot be read.") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise IdentityError(
            f"The key file {path} can be read by others; run 'chmod 600 {path}' first."
        )
    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except TypeError:
        if passphrase is None:
            raise IdentityError(
                f"The key file for user '{name}' is protected; give its passphrase "
                "(CHARTLEDGER_PASSPHRASE)."
            ) from None
        raise IdentityError(f"The key file for user '{name}' is not protected.") from None
    except ValueError:
        raise IdentityError(
            f"The key file for user '{name}' is not a readable private key "
            "(or the passphrase is wrong)."
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise IdentityError(f"The key file for user '{name}' does not hold an Ed25519 key.")
    return Identity(name, key)
