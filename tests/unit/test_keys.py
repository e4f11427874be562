"""Key files: private to their owner, optionally passphrase-protected, never overwritten."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from ledger.errors import IdentityError, UsageError
from ledger.integrity.keys import Identity, load_identity, write_key_file
from ledger.verifier.public_keys import fingerprint, public_key_from_raw


def test_a_key_file_round_trips_and_is_private(tmp_path: Path) -> None:
    who = Identity.generate("tech1")
    path = tmp_path / "keys" / "tech1.key"
    write_key_file(who, path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_identity("tech1", path).public_raw == who.public_raw


def test_the_fingerprint_is_sha256_of_the_raw_public_key() -> None:
    who = Identity.generate("x")
    assert who.fingerprint == hashlib.sha256(who.public_raw).digest() == fingerprint(who.public_key)


def test_a_protected_key_needs_its_passphrase(tmp_path: Path) -> None:
    who = Identity.generate("doc")
    path = tmp_path / "doc.key"
    write_key_file(who, path, passphrase=b"correct horse")
    assert load_identity("doc", path, passphrase=b"correct horse").public_raw == who.public_raw
    with pytest.raises(IdentityError, match="protected"):
        load_identity("doc", path)
    with pytest.raises(IdentityError, match="passphrase is wrong"):
        load_identity("doc", path, passphrase=b"wrong")


def test_a_key_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "a.key"
    write_key_file(Identity.generate("a"), path)
    before = path.read_bytes()
    with pytest.raises(UsageError, match="already exists"):
        write_key_file(Identity.generate("a"), path)
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("content", "mode", "message"),
    [
        (None, 0o600, "No key file"),
        (b"not a key", 0o600, "not a readable private key"),
        (b"", 0o644, "can be read by others"),
    ],
)
def test_unusable_key_files_are_clear_errors(
    tmp_path: Path, content: bytes | None, mode: int, message: str
) -> None:
    path = tmp_path / "k.key"
    if content is not None:
        path.write_bytes(content)
        os.chmod(path, mode)
    with pytest.raises(IdentityError, match=message):
        load_identity("k", path)


def test_a_public_key_must_be_32_bytes() -> None:
    with pytest.raises(UsageError):
        public_key_from_raw(b"\x01" * 31)


def test_a_protected_key_file_is_pkcs12_with_a_chosen_kdf_and_old_pem_files_still_load(
    tmp_path: Path,
) -> None:
    from cryptography.hazmat.primitives import serialization

    from ledger.integrity.keys import KDF_ROUNDS

    who = Identity.generate("doc")
    path = tmp_path / "doc.key"
    write_key_file(who, path, passphrase=b"correct horse")
    data = path.read_bytes()
    assert data[:1] == b"\x30" and b"PRIVATE KEY" not in data  # DER PKCS#12, not PEM
    assert KDF_ROUNDS.to_bytes(3, "big") in data  # the PBKDF2 iteration count, as encoded
    with pytest.raises(IdentityError, match="passphrase is wrong"):
        load_identity("doc", path, passphrase=b"Correct horse")
    old = tmp_path / "old.key"
    pem = who.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"correct horse"),
    )
    old.write_bytes(pem)
    os.chmod(old, 0o600)
    assert load_identity("doc", old, passphrase=b"correct horse").public_raw == who.public_raw
