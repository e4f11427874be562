"""Where the signed envelope plugs into `eventsourcing` (DESIGN.md section 4).

`SignedMapper` seals each event's body into a v1 envelope and opens it before any topic is
resolved (importing the topic's aggregate module the first time one is met,
`ledger.aggregates.registry`). `SignedEventStore.put` links each event to its aggregate's
previous one and signs it with the acting identity; `get` catches a tampered row by checking
each row's hash against what the Merkle log recorded, and verifies signatures only of events
the log has not reached yet.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import Any, Protocol, cast
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    AggregateRecorder,
    EventStore,
    IntegrityError,
    Mapper,
    Notification,
    PersistenceError,
    Recording,
    StoredEvent,
)
from eventsourcing.utils import get_topic

from ledger.aggregates import registry
from ledger.errors import (
    ConfigurationError,
    ConflictError,
    IntegrityViolation,
    LedgerError,
    StoreUnavailable,
)
from ledger.integrity.data_keys import DataKeys
from ledger.integrity.keys import Identity
from ledger.verifier import envelope
from ledger.verifier.envelope import opened_hash
from ledger.verifier.public_keys import public_key_from_raw
from ledger.verifier.sealed import ALGORITHM, open_body, seal_body


class IntegrityIndex(Protocol):
    """What the read path needs from the Merkle log: recorded hashes and current keys."""

    def select_with_log(
        self,
        originator_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> tuple[list[StoredEvent], dict[int, bytes], int]: ...

    def public_key_for(self, signer: bytes) -> bytes | None: ...

    def catch_up(self) -> int: ...


class SignedMapper(Mapper[UUID]):
    """Transcodes an event's attributes into the envelope body; never stores an unsigned event.

    An event class that sets `ENCRYPT_FOR` (the name of the attribute holding the subject's id,
    or "originator_id") has its body encrypted with that subject's data key before signing.
    """

    data_keys: DataKeys | None = None

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        raise LedgerError("Every event must be signed: save it through the ledger with a signer.")

    def seal(
        self, domain_event: DomainEventProtocol[UUID], prev: bytes, signer: Identity
    ) -> tuple[StoredEvent, bytes]:
        """The stored event for `domain_event` and its event hash."""
        topic = get_topic(type(domain_event))
        state = dict(vars(domain_event))
        originator_id = cast(UUID, state.pop("originator_id"))
        originator_version = cast(int, state.pop("originator_version"))
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        body = self.transcoder.encode(state)
        enc: dict[str, Any] | None = None
        subject_field = getattr(type(domain_event), "ENCRYPT_FOR", None)
        if subject_field:
            subject = originator_id if subject_field == "originator_id" else state[subject_field]
            if self.data_keys is None:
                raise ConfigurationError("This ledger has no data keys to encrypt patient data.")
            key_id, key = self.data_keys.key_for(subject)
            body = seal_body(key, key_id, body)
            enc = {"alg": ALGORITHM, "kid": key_id}
        pre = envelope.preimage(
            originator_id, originator_version, topic, body, prev, signer.fingerprint
        )
        sig = signer.sign(pre)
        state_bytes = envelope.pack(
            envelope.Envelope(body=body, enc=enc, prev=prev, signer=signer.fingerprint, sig=sig)
        )
        stored = StoredEvent(originator_id, originator_version, topic, state_bytes)
        return stored, envelope.event_hash(pre, sig)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        opened = envelope.unpack(
            stored_event.state,
            originator_id=cast(UUID, stored_event.originator_id),
            originator_version=stored_event.originator_version,
        )
        return self.from_body(stored_event, opened)

    def from_body(
        self, stored_event: StoredEvent, opened: envelope.Envelope
    ) -> DomainEventProtocol[UUID]:
        """Build the domain event from an envelope whose integrity was already checked."""
        body = opened.body
        if opened.enc is not None:
            if self.data_keys is None:
                raise ConfigurationError("This ledger has no data keys to read patient data.")
            key_id = str(opened.enc.get("kid", ""))
            if opened.enc.get("alg") != ALGORITHM:
                raise IntegrityViolation(
                    "envelope",
                    f"the body is encrypted with an unknown algorithm {opened.enc.get('alg')!r}",
                    originator_id=cast(UUID, stored_event.originator_id),
                    originator_version=stored_event.originator_version,
                )
            try:
                key = self.data_keys.key(key_id)
            except KeyError:
                raise IntegrityViolation(
                    "decryption",
                    f"the body names a data key {key_id} the ledger never held",
                    originator_id=cast(UUID, stored_event.originator_id),
                    originator_version=stored_event.originator_version,
                ) from None
            body = open_body(key, key_id, body)
        registry.load(stored_event.topic)  # its aggregate's module, the first time one is met
        return super().to_domain_event(
            StoredEvent(
                stored_event.originator_id,
                stored_event.originator_version,
                stored_event.topic,
                body,
            )
        )


class _StaleKeys(Exception):
    """An unlogged event's signer is not valid now; the log must catch up before judging it."""


class SignedEventStore(EventStore[UUID]):
    """An event store whose every row is signed, chained and checked on the way back."""

    LAST_HASH_CACHE_SIZE = 10_000

    def __init__(self, mapper: SignedMapper, recorder: AggregateRecorder) -> None:
        super().__init__(mapper, recorder)
        self.signed_mapper = mapper
        self.integrity: IntegrityIndex | None = None
        self._last_hash: OrderedDict[UUID, tuple[int, bytes]] = OrderedDict()

    # -- writing ------------------------------------------------------------------------------
    def put(
        self,
        domain_events: Sequence[DomainEventProtocol[UUID]],
        *,
        signer: Identity | None = None,
        **kwargs: Any,
    ) -> list[Recording[UUID]]:
        if signer is None:
            raise LedgerError("Every event must be signed: no signer was given for this save.")
        stored_events: list[StoredEvent] = []
        new_heads: dict[UUID, tuple[int, bytes]] = {}
        for event in domain_events:
            oid, version = event.originator_id, event.originator_version
            head = new_heads.get(oid)
            prev = head[1] if head and head[0] == version - 1 else self._prev_hash(oid, version)
            stored, digest = self.signed_mapper.seal(event, prev, signer)
            stored_events.append(stored)
            new_heads[oid] = (version, digest)
        try:
            ids = self.recorder.insert_events(stored_events, **kwargs)
        except PersistenceError as error:
            for oid in new_heads:
                self._last_hash.pop(oid, None)
            if isinstance(error, IntegrityError) and _is_duplicate(error):
                raise ConflictError(
                    "Someone else changed the same record at the same moment; nothing was "
                    "saved. Try again."
                ) from None
            reason = str(error).strip().splitlines()[0] if str(error).strip() else "no reason"
            raise StoreUnavailable(
                f"The ledger store refused the write ({reason}); nothing was saved."
            ) from None
        for oid, head in new_heads.items():
            self._remember(oid, *head)
        if not ids:
            return []
        return [
            Recording(
                event,
                Notification(
                    originator_id=stored.originator_id,
                    originator_version=stored.originator_version,
                    topic=stored.topic,
                    state=stored.state,
                    id=nid,
                ),
            )
            for event, stored, nid in zip(domain_events, stored_events, ids, strict=True)
        ]

    def _remember(self, oid: UUID, version: int, digest: bytes) -> None:
        self._last_hash[oid] = (version, digest)
        self._last_hash.move_to_end(oid)
        if len(self._last_hash) > self.LAST_HASH_CACHE_SIZE:
            self._last_hash.popitem(last=False)

    def _prev_hash(self, oid: UUID, version: int) -> bytes:
        if version == 1:
            return envelope.GENESIS_PREV
        cached = self._last_hash.get(oid)
        if cached and cached[0] == version - 1:
            return cached[1]
        rows = self.recorder.select_events(oid, gt=version - 2, lte=version - 1)
        if not rows:
            raise ConflictError(
                f"Record {oid} changed while it was being saved; nothing was saved. Try again."
            )
        return opened_hash(rows[0])[2]

    # -- reading ------------------------------------------------------------------------------
    def get(
        self,
        originator_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Iterator[DomainEventProtocol[UUID]]:
        if self.integrity is None:
            raise LedgerError("The ledger's Merkle log is not open; events cannot be checked.")
        full_read = gt is None and lte is None and limit is None
        for retried in (False, True):
            rows, logged, logged_max = self.integrity.select_with_log(
                originator_id, gt=gt, lte=lte, desc=desc, limit=limit
            )
            ascending = rows[::-1] if desc else rows
            try:
                opened = self.check(
                    originator_id,
                    ascending,
                    logged,
                    logged_max=logged_max,
                    full=full_read,
                    retried=retried,
                )
                break
            except _StaleKeys:
                # The log has not reached these events and knows their signer's key only as it
                # is now: let it admit them (each signature checked at its own position), retry.
                self.integrity.catch_up()
        events = [
            self.signed_mapper.from_body(row, opened[row.originator_version]) for row in ascending
        ]
        return iter(events[::-1] if desc else events)

    def check(
        self,
        originator_id: UUID,
        rows: Sequence[StoredEvent],
        logged: dict[int, bytes],
        *,
        logged_max: int,
        full: bool,
        retried: bool = False,
    ) -> dict[int, envelope.Envelope]:
        """Check rows (ascending) against the log, chain and keys; return their envelopes.

        `logged` holds what the log recorded for these rows. A `full` read must hold every
        version from 1, including each up to `logged_max`, the last one the log recorded.
        """
        envelopes: dict[int, envelope.Envelope] = {}
        previous: tuple[int, bytes] | None = None
        if full and logged_max:
            present = {row.originator_version for row in rows}
            missing = [v for v in range(1, logged_max + 1) if v not in present]
            if missing:
                raise IntegrityViolation(
                    "missing event",
                    "an event the Merkle log recorded is no longer in the store",
                    originator_id=originator_id,
                    originator_version=missing[0],
                )
        for row in rows:
            version = row.originator_version
            opened, pre, digest = opened_hash(row)
            if previous is not None and version != previous[0] + 1:
                raise IntegrityViolation(
                    "chain",
                    f"events between version {previous[0]} and {version} are missing",
                    originator_id=originator_id,
                    originator_version=version,
                )
            if previous is None and full and version != 1:
                raise IntegrityViolation(
                    "chain",
                    "the aggregate's first events are missing",
                    originator_id=originator_id,
                    originator_version=version,
                )
            recorded = logged.get(version)
            if recorded is not None:
                if recorded != digest:
                    raise IntegrityViolation(
                        "log",
                        "the stored event differs from the one the Merkle log recorded",
                        originator_id=originator_id,
                        originator_version=version,
                    )
            else:
                self._check_unlogged(row, opened, pre, previous, logged, retried=retried)
            envelopes[version] = opened
            previous = (version, digest)
        if previous is not None:
            self._remember(originator_id, *previous)
        return envelopes

    def _check_unlogged(
        self,
        row: StoredEvent,
        opened: envelope.Envelope,
        pre: bytes,
        previous: tuple[int, bytes] | None,
        logged: dict[int, bytes],
        *,
        retried: bool,
    ) -> None:
        oid = cast(UUID, row.originator_id)
        version = row.originator_version
        if version == 1:
            expected_prev: bytes | None = envelope.GENESIS_PREV
        elif previous is not None and previous[0] == version - 1:
            expected_prev = previous[1]
        else:
            expected_prev = logged.get(version - 1)
            if expected_prev is None:
                earlier = self.recorder.select_events(oid, gt=version - 2, lte=version - 1)
                expected_prev = opened_hash(earlier[0])[2] if earlier else None
        if expected_prev != opened.prev:
            raise IntegrityViolation(
                "chain",
                "the event does not follow the aggregate's previous event",
                originator_id=oid,
                originator_version=version,
            )
        raw = self.integrity.public_key_for(opened.signer) if self.integrity else None
        if raw is None and not retried and self.integrity is not None:
            raise _StaleKeys
        if raw is None:
            raise IntegrityViolation(
                "signer",
                f"signed by a key that is unknown or no longer valid {opened.signer.hex()[:16]}…",
                originator_id=oid,
                originator_version=version,
            )
        envelope.verify_signature(
            public_key_from_raw(raw), pre, opened.sig, originator_id=oid, originator_version=version
        )


def _is_duplicate(error: Exception) -> bool:
    """A unique-key violation: another save took the same aggregate version (a real conflict)."""
    text = str(error).lower()
    return "unique" in text or "duplicate key" in text
