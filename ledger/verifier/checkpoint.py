"""Signed checkpoints of the Merkle log, as C2SP tlog-checkpoint notes (pure: no storage, no I/O).

A checkpoint is the log's tree head in the format that witnesses, monitors and the Go checksum
database use, so anyone can check ours with off-the-shelf tools (c2sp.org/tlog-checkpoint and
c2sp.org/signed-note, Ed25519 signature type 0x01)::

    <origin>\\n
    <tree size, decimal>\\n
    <base64 root hash>\\n
    [<extension line>\\n ...]
    \\n
    — <key name> <base64(4-byte key id || 64-byte Ed25519 signature)>\\n   (one or more)

The signature covers the UTF-8 text above the blank line, final newline included; the key id is
SHA-256(key name || 0x0A || 0x01 || raw public key)[:4]. Parsing is strict (one text per
checkpoint): base64 must be canonical, the size has no sign or leading zero, no ASCII control
characters but newline. Signature lines from keys we do not know, by name and key id together,
are skipped as the spec demands (that is how rotation and witness cosigning work); one from a
known key must verify.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.errors import IntegrityViolation, UsageError

SIGNATURE_TYPE_ED25519 = 0x01
ROOT_SIZE = 32
MAX_SIZE = 2**64 - 1
"""Tree sizes are uint64 everywhere else (Go's tlog, the witness protocol)."""
MAX_SIGNATURES = 100
"""The spec requires accepting at least 16; Go's note package stops at 100, and so do we."""

FORMAT = "checkpoint format"
SIGNATURE = "checkpoint signature"

_DASH = "\u2014 "
_ED25519_SIGNATURE_SIZE = 64
_SIZE_RE = re.compile(r"0|[1-9][0-9]{0,19}")
# ASCII control characters other than newline (signed-note forbids them anywhere in a note).
_CONTROL_RE = re.compile(r"[\x00-\x09\x0b-\x1f]")

SignatureLine = tuple[str, bytes, bytes]
"""(key name, 4-byte key id, signature bytes) of one signature line."""


def _is_text(value: str) -> bool:
    """Representable in UTF-8 (no lone surrogates) and free of forbidden control characters."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return _CONTROL_RE.search(value) is None


def _is_line(value: str) -> bool:
    """One non-empty line: text, and no newline."""
    return isinstance(value, str) and bool(value) and "\n" not in value and _is_text(value)


def valid_key_name(name: str) -> bool:
    """A signed-note key name: non-empty, no Unicode spaces, no '+', no control characters."""
    return (
        bool(name)
        and "+" not in name
        and _is_text(name)
        and not any(char.isspace() for char in name)
    )


def _check_key_name(name: str) -> None:
    if not valid_key_name(name):
        raise UsageError(
            f"{name!r} cannot be a note key name: it must be non-empty, with no spaces or '+'."
        )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes | None:
    """Decode standard padded base64, or None unless `text` is the canonical encoding."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if _b64(data) == text else None


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: which log (origin), how many leaves (size), and their Merkle root."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Checked here so that a checkpoint that cannot be written as a note never exists.
        if not _is_line(self.origin):
            raise UsageError("A checkpoint origin must be one non-empty line of text.")
        if (
            not isinstance(self.size, int)
            or isinstance(self.size, bool)
            or not 0 <= self.size <= MAX_SIZE
        ):
            raise UsageError("A checkpoint tree size must be an integer from 0 to 2**64 - 1.")
        if not isinstance(self.root, bytes) or len(self.root) != ROOT_SIZE:
            raise UsageError(f"A checkpoint root hash must be exactly {ROOT_SIZE} bytes.")
        if not isinstance(self.extensions, tuple) or not all(map(_is_line, self.extensions)):
            raise UsageError("Checkpoint extension lines must be non-empty lines of text.")

    def body(self) -> str:
        """The note text that is signed: origin, size and root, then any extension lines."""
        lines = [self.origin, str(self.size), _b64(self.root), *self.extensions]
        return "\n".join(lines) + "\n"


def _raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """The 4-byte id that signature lines carry: SHA-256(name || 0x0A || 0x01 || key)[:4]."""
    material = name.encode("utf-8") + b"\n" + bytes([SIGNATURE_TYPE_ED25519])
    return hashlib.sha256(material + _raw_public(public_key)).digest()[:4]


@dataclass(frozen=True)
class NoteVerifier:
    """A trusted public key under its note key name (for our log, the name is the origin)."""

    name: str
    public_key: Ed25519PublicKey

    def __post_init__(self) -> None:
        _check_key_name(self.name)

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    @property
    def vkey(self) -> str:
        """The key as Go's note package writes a verifier key: name+hex id+base64(0x01||key)."""
        raw = bytes([SIGNATURE_TYPE_ED25519]) + _raw_public(self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{_b64(raw)}"

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        """Read a verifier key written as `vkey` does (the form logs and witnesses publish)."""
        name, _, rest = vkey.partition("+")
        hex_id, _, key_text = rest.partition("+")
        raw = _unb64(key_text)
        if (
            not valid_key_name(name)
            or re.fullmatch(r"[0-9a-f]{8}", hex_id) is None
            or raw is None
            or len(raw) != 33
            or raw[0] != SIGNATURE_TYPE_ED25519
        ):
            raise UsageError("That is not an Ed25519 note verifier key (name+id+key).")
        verifier = cls(name, Ed25519PublicKey.from_public_bytes(raw[1:]))
        if verifier.key_id.hex() != hex_id:
            raise UsageError("The verifier key's id does not match its name and key.")
        return verifier


# -- generic signed notes ---------------------------------------------------------------------


def _signature_line(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    _check_key_name(name)
    signature = private_key.sign(text.encode("utf-8"))
    return f"{_DASH}{name} {_b64(key_id(name, private_key.public_key()) + signature)}\n"


def _split_note(note: str) -> tuple[str, list[SignatureLine]]:
    """The note text and its signature lines; `IntegrityViolation(FORMAT)` if malformed."""

    def malformed(detail: str) -> IntegrityViolation:
        return IntegrityViolation(FORMAT, detail)

    if not isinstance(note, str):
        raise malformed("the note is not text")
    try:
        note.encode("utf-8")
    except UnicodeEncodeError:
        raise malformed("the note is not valid UTF-8 text") from None
    if "\r" in note:
        raise malformed("the note has carriage returns; lines must end with a bare newline")
    if _CONTROL_RE.search(note):
        raise malformed("the note holds a control character other than newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise malformed("the note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block:
        raise malformed("the note has no signature lines")
    if not block.endswith("\n"):
        raise malformed("the note's last line does not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise malformed(f"the note has more than {MAX_SIGNATURES} signature lines")
    signatures: list[SignatureLine] = []
    for line in lines:
        if not line.startswith(_DASH):
            raise malformed("a line after the blank line is not a signature line")
        parts = line[len(_DASH) :].split(" ")
        if len(parts) != 2 or not valid_key_name(parts[0]):
            raise malformed("a signature line does not have a valid key name and signature")
        raw = _unb64(parts[1])
        if raw is None:
            raise malformed(f"the signature by key {parts[0]} is not canonical base64")
        if len(raw) < 5:
            raise malformed(f"the signature by key {parts[0]} is too short to hold a key id")
        signatures.append((parts[0], raw[:4], raw[4:]))
    return text, signatures


def _verify(text: str, signatures: list[SignatureLine], verifiers: Sequence[NoteVerifier]) -> None:
    """Check every signature from a known key; at least one must be there and verify."""
    known: dict[tuple[str, bytes], NoteVerifier] = {}
    for verifier in verifiers:
        slot = (verifier.name, verifier.key_id)
        other = known.setdefault(slot, verifier)
        if _raw_public(other.public_key) != _raw_public(verifier.public_key):
            raise UsageError(
                f"Two different trusted keys share the name {verifier.name} and key id "
                f"{slot[1].hex()}; remove one."
            )
    message = text.encode("utf-8")
    verified = 0
    for name, kid, signature in signatures:
        trusted = known.get((name, kid))
        if trusted is None:
            continue  # an unknown key (a witness, a retired key): the spec says to ignore it
        if len(signature) != _ED25519_SIGNATURE_SIZE:
            raise IntegrityViolation(
                SIGNATURE, f"the signature by key {name}+{kid.hex()} is not an Ed25519 signature"
            )
        try:
            trusted.public_key.verify(signature, message)
        except InvalidSignature:
            raise IntegrityViolation(
                SIGNATURE, f"the signature by key {name}+{kid.hex()} does not verify"
            ) from None
        verified += 1
    if not verified:
        raise IntegrityViolation(
            SIGNATURE,
            f"none of the note's {len(signatures)} signature(s) is from a trusted key",
        )


def sign_note(text: str, *, name: str, private_key: Ed25519PrivateKey) -> str:
    """A signed note of `text` (which must end with a newline) with one signature."""
    if not text.endswith("\n") or not _is_text(text):
        raise UsageError("A note's text must be lines of text, each ending with a newline.")
    return text + "\n" + _signature_line(text, name, private_key)


def open_note(note: str, verifiers: Sequence[NoteVerifier]) -> str:
    """The text of a signed note once a trusted key's signature on it has verified."""
    text, signatures = _split_note(note)
    _verify(text, signatures, verifiers)
    return text


# -- checkpoints ------------------------------------------------------------------------------


def _parse_body(text: str) -> Checkpoint:
    def malformed(detail: str) -> IntegrityViolation:
        return IntegrityViolation(FORMAT, detail)

    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise malformed("the checkpoint does not have origin, tree size and root hash lines")
    if not all(lines):
        raise malformed("the checkpoint has an empty line in its body")
    origin, size_text, root_text, *extensions = lines
    if _SIZE_RE.fullmatch(size_text) is None or int(size_text) > MAX_SIZE:
        raise malformed("the tree size is not a decimal number without sign or leading zeros")
    root = _unb64(root_text)
    if root is None or len(root) != ROOT_SIZE:
        raise malformed(f"the root hash is not the base64 of {ROOT_SIZE} bytes")
    return Checkpoint(origin, int(size_text), root, tuple(extensions))


def parse_checkpoint_unverified(note: str) -> tuple[Checkpoint, list[SignatureLine]]:
    """The checkpoint and its signature lines, for display only: nothing here is verified."""
    text, signatures = _split_note(note)
    return _parse_body(text), signatures


def open_checkpoint(note: str, verifiers: Sequence[NoteVerifier]) -> Checkpoint:
    """Parse a checkpoint note strictly and return it once a trusted signature verifies.

    `IntegrityViolation` with check "checkpoint format" when the note is malformed, and with
    "checkpoint signature" when no trusted signature verifies or a trusted one fails.
    """
    text, signatures = _split_note(note)
    checkpoint = _parse_body(text)
    _verify(text, signatures, verifiers)
    return checkpoint


def sign_checkpoint(checkpoint: Checkpoint, *, name: str, private_key: Ed25519PrivateKey) -> str:
    """The checkpoint as a note signed by one key (the log's key, named after its origin)."""
    return sign_note(checkpoint.body(), name=name, private_key=private_key)


def add_signature(note: str, *, name: str, private_key: Ed25519PrivateKey) -> str:
    """Add a signature line to a signed note: a witness cosignature, or a rotation's new key.

    The existing signatures are kept but not checked (we may not know their keys); an earlier
    line by this same key is replaced, as Go's note package does.
    """
    text, signatures = _split_note(note)
    line = _signature_line(text, name, private_key)
    own_id = key_id(name, private_key.public_key())
    kept = [(n, kid, sig) for n, kid, sig in signatures if (n, kid) != (name, own_id)]
    if len(kept) >= MAX_SIGNATURES:
        raise UsageError(f"The note already has {MAX_SIGNATURES} signatures.")
    old = "".join(f"{_DASH}{n} {_b64(kid + sig)}\n" for n, kid, sig in kept)
    return text + "\n" + old + line
