"""Ed25519 verification of many events at once (pyca releases the GIL, so threads run it)."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

SignatureItem = tuple[int, bytes, bytes, bytes]
"""(log position, raw public key, signature, signed preimage)."""


def first_bad_signature(items: Sequence[SignatureItem]) -> int | None:
    """The position of the first item whose signature does not verify, or None."""
    keys: dict[bytes, Ed25519PublicKey] = {}
    for position, raw_key, sig, preimage in items:
        key = keys.get(raw_key)
        if key is None:
            key = keys[raw_key] = Ed25519PublicKey.from_public_bytes(raw_key)
        try:
            key.verify(sig, preimage)
        except InvalidSignature:
            return position
    return None


def raw_verifications(count: int, seed: int = 7) -> int:
    """Verify `count` fixed signatures (the raw Ed25519 baseline for benchmarks)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)
    public = private.public_key()
    message = b"chartledger benchmark message of about preimage size" * 3
    sig = private.sign(message)
    for _ in range(count):
        public.verify(sig, message)
    return count
