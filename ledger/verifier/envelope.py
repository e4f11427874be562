"""The signed envelope, version 1 (contract: docs/format.md, DESIGN.md section 4).

Every stored event's `state` is a msgpack map {v, body, enc, prev, signer, sig}. The signature
covers a preimage that binds the aggregate id, its version, the topic, the body's SHA-256, the
previous event's hash and the signer, so a row cannot be moved, reordered or re-attributed.
"""

from __future__ import annotations

import hashlib
from typing import Any, NamedTuple, Protocol, cast
from uuid import UUID

import msgpack
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.errors import IntegrityViolation

VERSION = 1
DOMAIN = b"chartledger/event/v1\n"
GENESIS_PREV = bytes(32)
_KEYS = ("v", "body", "enc", "prev", "signer", "sig")


class Envelope(NamedTuple):
    """One opened envelope: what was signed, by whom, and after which event."""

    body: bytes
    enc: dict[str, Any] | None
    prev: bytes
    signer: bytes
    sig: bytes


def preimage(
    originator_id: UUID,
    originator_version: int,
    topic: str,
    body: bytes,
    prev: bytes,
    signer: bytes,
) -> bytes:
    """The exact bytes an event's Ed25519 signature covers."""
    return preimage_of_digest(
        originator_id, originator_version, topic, hashlib.sha256(body).digest(), prev, signer
    )


def preimage_of_digest(
    originator_id: UUID,
    originator_version: int,
    topic: str,
    body_sha256: bytes,
    prev: bytes,
    signer: bytes,
) -> bytes:
    """The preimage from the body's SHA-256 alone: a redacted event is checked without its body."""
    topic_bytes = topic.encode("utf-8")
    return b"".join(
        (
            DOMAIN,
            originator_id.bytes,
            originator_version.to_bytes(8, "big"),
            len(topic_bytes).to_bytes(2, "big"),
            topic_bytes,
            body_sha256,
            prev,
            signer,
        )
    )


def event_hash(signed_preimage: bytes, sig: bytes) -> bytes:
    """The hash that the next event of the aggregate names as `prev`, and the log's leaf input."""
    return hashlib.sha256(signed_preimage + sig).digest()


def pack(envelope: Envelope) -> bytes:
    """Serialise an envelope into the stored `state` bytes."""
    packed: bytes = msgpack.packb(
        {
            "v": VERSION,
            "body": envelope.body,
            "enc": envelope.enc,
            "prev": envelope.prev,
            "signer": envelope.signer,
            "sig": envelope.sig,
        },
        use_bin_type=True,
    )
    return packed


def unpack(
    state: bytes,
    *,
    position: int | None = None,
    originator_id: UUID | None = None,
    originator_version: int | None = None,
) -> Envelope:
    """Parse stored `state` strictly; anything that is not a v1 envelope is an integrity failure."""

    def fail(detail: str) -> IntegrityViolation:
        return IntegrityViolation(
            "envelope",
            detail,
            position=position,
            originator_id=originator_id,
            originator_version=originator_version,
        )

    try:
        obj = msgpack.unpackb(state, raw=False, use_list=True, strict_map_key=True)
    except Exception:
        raise fail("the stored state is not a readable msgpack envelope") from None
    if not isinstance(obj, dict) or tuple(obj) != _KEYS:
        raise fail("the stored state does not have the fields of an envelope")
    if obj["v"] != VERSION:
        raise fail(f"envelope version {obj['v']!r} is not supported")
    body, enc, prev, signer, sig = obj["body"], obj["enc"], obj["prev"], obj["signer"], obj["sig"]
    if not isinstance(body, bytes):
        raise fail("the envelope body is not bytes")
    if enc is not None and not isinstance(enc, dict):
        raise fail("the envelope's encryption field is malformed")
    if not isinstance(prev, bytes) or len(prev) != 32:
        raise fail("the envelope's previous-event hash is not 32 bytes")
    if not isinstance(signer, bytes) or len(signer) != 32:
        raise fail("the envelope's signer fingerprint is not 32 bytes")
    if not isinstance(sig, bytes) or len(sig) != 64:
        raise fail("the envelope's signature is not 64 bytes")
    opened = Envelope(body=body, enc=enc, prev=prev, signer=signer, sig=sig)
    if pack(opened) != state:
        # The wrapper is not signed, so only its one canonical encoding is accepted: a stored
        # byte cannot change without the change being seen.
        raise fail("the envelope is not in its canonical encoding")
    return opened


def verify_signature(
    public_key: Ed25519PublicKey,
    signed_preimage: bytes,
    sig: bytes,
    *,
    position: int | None = None,
    originator_id: UUID | None = None,
    originator_version: int | None = None,
) -> None:
    """Raise `IntegrityViolation` unless `sig` is the key's signature over the preimage."""
    try:
        public_key.verify(sig, signed_preimage)
    except InvalidSignature:
        raise IntegrityViolation(
            "signature",
            "the event's signature does not match its content and signer",
            position=position,
            originator_id=originator_id,
            originator_version=originator_version,
        ) from None


class EventRow(Protocol):
    """A stored event as any reader holds it: the four stored columns."""

    @property
    def originator_id(self) -> UUID | str: ...
    @property
    def originator_version(self) -> int: ...
    @property
    def topic(self) -> str: ...
    @property
    def state(self) -> bytes: ...


def opened_hash(stored: EventRow, position: int | None = None) -> tuple[Envelope, bytes, bytes]:
    """Open a stored event: its envelope, signed preimage and event hash."""
    originator_id = cast(UUID, stored.originator_id)
    opened = unpack(
        stored.state,
        position=position,
        originator_id=originator_id,
        originator_version=stored.originator_version,
    )
    pre = preimage(
        originator_id,
        stored.originator_version,
        stored.topic,
        opened.body,
        opened.prev,
        opened.signer,
    )
    return opened, pre, event_hash(pre, opened.sig)
