"""The signed envelope v1, byte for byte as docs/format.md says, and every way it can be wrong."""

from __future__ import annotations

import hashlib
import struct
from uuid import UUID

import msgpack
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import IntegrityViolation
from ledger.integrity.keys import Identity
from ledger.verifier import envelope

OID = UUID("12345678-1234-5678-1234-567812345678")
SEED = bytes(range(32))


def identity() -> Identity:
    return Identity("tester", Ed25519PrivateKey.from_private_bytes(SEED))


def test_the_preimage_is_exactly_the_documented_bytes() -> None:
    body, prev, signer = b"\x81\xa1a\x01", bytes(32), bytes([7]) * 32
    expected = (
        b"chartledger/event/v1\n"
        + OID.bytes
        + struct.pack(">Q", 3)
        + struct.pack(">H", len("chartledger/user/registered"))
        + b"chartledger/user/registered"
        + hashlib.sha256(body).digest()
        + prev
        + signer
    )
    got = envelope.preimage(OID, 3, "chartledger/user/registered", body, prev, signer)
    assert got == expected
    assert len(envelope.DOMAIN) == 21


def test_the_event_hash_is_sha256_of_preimage_and_signature() -> None:
    pre, sig = b"p" * 10, b"s" * 64
    assert envelope.event_hash(pre, sig) == hashlib.sha256(pre + sig).digest()


def sealed(body: bytes = b"\x80") -> tuple[bytes, bytes]:
    who = identity()
    pre = envelope.preimage(OID, 1, "t", body, envelope.GENESIS_PREV, who.fingerprint)
    sig = who.sign(pre)
    state = envelope.pack(
        envelope.Envelope(body, None, envelope.GENESIS_PREV, who.fingerprint, sig)
    )
    return state, pre


def test_a_sealed_envelope_opens_and_its_signature_verifies() -> None:
    state, pre = sealed()
    opened = envelope.unpack(state)
    assert list(msgpack.unpackb(state)) == ["v", "body", "enc", "prev", "signer", "sig"]
    envelope.verify_signature(identity().public_key, pre, opened.sig)


def test_a_signature_by_another_key_or_over_other_bytes_is_refused() -> None:
    state, pre = sealed()
    opened = envelope.unpack(state)
    other = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(IntegrityViolation) as caught:
        envelope.verify_signature(other, pre, opened.sig)
    assert caught.value.check == "signature"
    with pytest.raises(IntegrityViolation):
        envelope.verify_signature(identity().public_key, pre + b"x", opened.sig)


def mutate(**changes: object) -> bytes:
    state, _ = sealed()
    fields = msgpack.unpackb(state)
    fields.update(changes)
    return msgpack.packb(fields, use_bin_type=True)


@pytest.mark.parametrize(
    "state",
    [
        b"\xc1",  # never valid msgpack
        msgpack.packb([1, 2, 3]),
        mutate(v=2),
        mutate(prev=b"short"),
        mutate(signer=bytes(31)),
        mutate(sig=bytes(63)),
        mutate(body="text, not bytes"),
        mutate(enc=5),
        mutate(extra=1),
        msgpack.packb(
            {
                "body": b"",
                "v": 1,
                "enc": None,
                "prev": bytes(32),
                "signer": bytes(32),
                "sig": bytes(64),
            },
            use_bin_type=True,
        ),
    ],
)
def test_anything_but_a_v1_envelope_is_an_integrity_failure(state: bytes) -> None:
    with pytest.raises(IntegrityViolation) as caught:
        envelope.unpack(state, position=4)
    assert caught.value.check == "envelope"
    assert caught.value.position == 4


def test_a_non_canonical_encoding_of_the_same_envelope_is_refused() -> None:
    state, _ = sealed()
    assert b"\xa1v\x01" in state
    longer = state.replace(b"\xa1v\x01", b"\xa1v\xcc\x01", 1)  # 1 as uint8, not fixint
    assert msgpack.unpackb(longer) == msgpack.unpackb(state)
    with pytest.raises(IntegrityViolation, match="canonical"):
        envelope.unpack(longer)


@given(st.binary(max_size=200), st.data())
def test_any_single_byte_change_of_a_sealed_event_is_caught(
    body: bytes, data: st.DataObject
) -> None:
    state, _ = sealed(body)
    at = data.draw(st.integers(0, len(state) - 1))
    flip = data.draw(st.integers(1, 255))
    damaged = state[:at] + bytes([state[at] ^ flip]) + state[at + 1 :]
    with pytest.raises(IntegrityViolation):
        opened = envelope.unpack(damaged)
        pre = envelope.preimage(OID, 1, "t", opened.body, opened.prev, opened.signer)
        if opened.signer != identity().fingerprint:
            raise IntegrityViolation("signer", "unknown key")
        envelope.verify_signature(identity().public_key, pre, opened.sig)
