"""Public keys as the log names them: 32 raw Ed25519 bytes, and their SHA-256 fingerprint."""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.errors import UsageError


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
