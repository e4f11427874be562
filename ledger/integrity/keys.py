"""Identities are Ed25519 key pairs, as in SSH: a 0600 private key file, the public key here.

A passphrase-protected key file is PKCS#12 (DER) encrypted with PBES2: PBKDF2-HMAC-SHA256 at
`KDF_ROUNDS` rounds and AES-256-CBC, with an HMAC-SHA256 MAC. PKCS#8's "best available"
encryption in pyca/cryptography uses only 2,048 PBKDF2 rounds (0.3 ms to try a guess), which is
too cheap against a stolen file; PKCS#12 lets the rounds be chosen. An unprotected key (an
explicit, recorded choice) is a PKCS#8 PEM file. `openssl pkcs12 -in FILE -nocerts` reads the
protected form; older protected PKCS#8 PEM files still load.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.errors import IdentityError, UsageError
from ledger.verifier.public_keys import fingerprint, raw_public


class PassphraseNeeded(IdentityError):
    """The key file is protected and no passphrase was given (a terminal may ask for one)."""


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


KDF_ROUNDS = 100_000
"""PBKDF2-HMAC-SHA256 rounds for a protected key file: 50 times the work per guess of PKCS#8's
default. Loading derives the MAC key and the encryption key (100,000 rounds each): about 20 ms
on the test machine, paid once per command, under the 30 ms budget (bench/keys.py)."""


def protected_key_bytes(identity: Identity, passphrase: bytes, rounds: int = KDF_ROUNDS) -> bytes:
    """The private key as PKCS#12, encrypted with the passphrase (see the module text)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import pkcs12

    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(rounds)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(passphrase)
    )
    return pkcs12.serialize_key_and_certificates(
        identity.name.encode("utf-8"), identity.private_key, None, None, encryption
    )


def write_key_file(identity: Identity, path: Path, *, passphrase: bytes | None = None) -> None:
    """Write the private key readable only by its owner: PKCS#12 protected by `passphrase`, or
    (only when it is None, an explicit choice) unprotected PKCS#8 PEM; never overwrite a key."""
    if passphrase:
        write_secret_file(path, protected_key_bytes(identity, passphrase))
        return
    pem = identity.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
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
    if data[:1] == b"\x30":  # DER: a PKCS#12 file, always passphrase-protected here
        key = _load_pkcs12(name, data, passphrase)
        if not isinstance(key, Ed25519PrivateKey):
            raise IdentityError(f"The key file for user '{name}' does not hold an Ed25519 key.")
        return Identity(name, key)
    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except TypeError:
        if passphrase is None:
            raise PassphraseNeeded(
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


def _load_pkcs12(name: str, data: bytes, passphrase: bytes | None) -> object:
    from cryptography.hazmat.primitives.serialization import pkcs12

    if passphrase is None:
        raise PassphraseNeeded(
            f"The key file for user '{name}' is protected; give its passphrase "
            "(CHARTLEDGER_PASSPHRASE)."
        )
    try:
        key, _, _ = pkcs12.load_key_and_certificates(data, passphrase)
    except ValueError:
        raise IdentityError(
            f"The key file for user '{name}' is not a readable private key "
            "(or the passphrase is wrong)."
        ) from None
    return key
