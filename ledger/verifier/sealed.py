"""Encrypted event bodies (docs/format.md section 1.2.1): AES-256-GCM under a subject's data key.

A sealed body is the 12-byte nonce followed by the ciphertext and its tag, bound to the key id.
The verifier opens one only when it holds the key (a legal package carries its subject's).
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.errors import IntegrityViolation

ALGORITHM = "A256GCM"
NONCE_SIZE = 12


def seal_body(key: bytes, key_id: str, plaintext: bytes) -> bytes:
    """nonce (12 bytes) ‖ AES-256-GCM ciphertext and tag, bound to the key id."""
    nonce = os.urandom(NONCE_SIZE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, key_id.encode())


def open_body(key: bytes, key_id: str, sealed: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_SIZE], sealed[NONCE_SIZE:], key_id.encode())
    except (InvalidTag, ValueError):
        raise IntegrityViolation(
            "decryption", f"an event body encrypted under {key_id} does not decrypt"
        ) from None
