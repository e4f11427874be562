"""The checks an event passes to enter the log, shared by the Merkle log and by `verify`.

An event is admitted at a log position when its envelope is well formed, its signer holds a key
valid at that position (and, for a key event, the authority to change keys), it follows its
aggregate's previous event, and its signature verifies. Key events change the registry only after
their signature is checked.
"""

from __future__ import annotations

from typing import Any, NamedTuple, cast
from uuid import UUID

from eventsourcing.persistence import Transcoder

from ledger.errors import IntegrityViolation, Where
from ledger.verifier import envelope
from ledger.verifier.envelope import EventRow, opened_hash
from ledger.verifier.identities import KEY_TOPICS
from ledger.verifier.public_keys import public_key_from_raw
from ledger.verifier.registry import Invitation, KeyRecord, KeyRegistry


class Admitted(NamedTuple):
    """An event that passed admission (its signature maybe still to check, in bulk)."""

    digest: bytes
    preimage: bytes
    sig: bytes
    public_key: bytes
    key_changes: list[KeyRecord | Invitation]


def admit(
    stored: EventRow,
    position: int,
    registry: KeyRegistry,
    transcoder: Transcoder,
    expected_prev: bytes | None,
    *,
    check_signature: bool,
    chain_problem: str = "the aggregate's previous event is not in the log",
) -> Admitted:
    """Check one event at `position`; raise `IntegrityViolation` naming the first failed check.

    With `check_signature` false the caller verifies the signature later (in bulk), except for
    key events, which are always verified here because they change who may sign what follows.
    `expected_prev` is the hash the event must name as `prev`; None means the aggregate's chain
    is already broken there, as `chain_problem` says.
    """
    oid = cast(UUID, stored.originator_id)
    opened, pre, digest = opened_hash(stored, position)
    body = (
        _key_body(stored, opened, pre, registry, transcoder, _where(stored, position))
        if stored.topic in KEY_TOPICS
        else None
    )
    raw_key = registry.signing_key(
        position=position,
        originator_id=oid,
        originator_version=stored.originator_version,
        topic=stored.topic,
        signer=opened.signer,
        body=body,
    )
    if expected_prev is None:
        raise IntegrityViolation("chain", chain_problem, **_where(stored, position))
    if opened.prev != expected_prev:
        raise IntegrityViolation(
            "chain",
            "the event does not follow the aggregate's previous event",
            **_where(stored, position),
        )
    changes: list[KeyRecord | Invitation] = []
    if check_signature or body is not None:
        envelope.verify_signature(
            public_key_from_raw(raw_key), pre, opened.sig, **_where(stored, position)
        )
    if body is not None:
        changes = registry.apply(
            position=position,
            originator_id=oid,
            topic=stored.topic,
            body=body,
            originator_version=stored.originator_version,
        )
    return Admitted(digest, pre, opened.sig, raw_key, changes)


def _where(stored: EventRow, position: int) -> Where:
    return {
        "position": position,
        "originator_id": cast(UUID, stored.originator_id),
        "originator_version": stored.originator_version,
    }


def _key_body(
    stored: EventRow,
    opened: envelope.Envelope,
    pre: bytes,
    registry: KeyRegistry,
    transcoder: Transcoder,
    where: Where,
) -> dict[str, Any]:
    """The decoded body of a key event."""
    try:
        body = transcoder.decode(opened.body)
        if not isinstance(body, dict):
            raise TypeError
        return body
    except Exception:
        # Say why it cannot be read: a body that no longer matches its signature was changed.
        if registry.genesis is not None and opened.signer in registry.keys:
            key = public_key_from_raw(registry.keys[opened.signer].public_key)
            envelope.verify_signature(key, pre, opened.sig, **where)
        raise IntegrityViolation(
            "envelope", "the body of a key event cannot be read", **where
        ) from None
