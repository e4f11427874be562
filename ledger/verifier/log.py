"""`verify`: every check of DESIGN.md section 5, naming the first failure precisely.

One core serves both the live database and an export folder: it replays the events in log order,
rebuilding the key registry (so validity is by position), each aggregate's chain and the Merkle
tree, verifies every signature (in parallel on all cores) and checks the tree against every signed
checkpoint and each checkpoint against the next. The failure at the lowest log position wins.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import NamedTuple
from uuid import UUID

from eventsourcing.persistence import Transcoder

from ledger.errors import IntegrityViolation
from ledger.verifier import checkpoint as notes
from ledger.verifier import envelope, merkle
from ledger.verifier.identities import NODE_USER
from ledger.verifier.log_entry import admit
from ledger.verifier.public_keys import public_key_from_raw
from ledger.verifier.registry import KeyRegistry
from ledger.verifier.sigcheck import SignatureItem, first_bad_signature

CHUNK = 1024
SWITCH_INTERVAL = 0.0002
"""Seconds a thread may hold the GIL while others wait: short, so the signature threads get it
back at once after each verification instead of queueing behind the reading thread."""


class LogEvent(NamedTuple):
    """One event as the log holds it: its position and its stored row."""

    position: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes


@dataclass
class Report:
    """What a successful verification covered."""

    events: int = 0
    aggregates: int = 0
    signatures: int = 0
    checkpoints: int = 0
    tree_size: int = 0
    root: bytes = merkle.EMPTY_ROOT
    genesis: bytes | None = None
    documents: int = 0
    documents_skipped: bool = False
    indexed: int = 0
    """Rows of the chart index checked against the encounters and documents."""
    registry: KeyRegistry = field(default_factory=KeyRegistry)
    event_hashes: list[bytes] = field(default_factory=list, repr=False)


class _Failures:
    """Collects failures; the one at the lowest position is the first failure of the log."""

    def __init__(self) -> None:
        self.found: list[tuple[int, int, IntegrityViolation]] = []

    def add(self, position: int, violation: IntegrityViolation, rank: int = 0) -> None:
        self.found.append((position, rank, violation))

    def raise_first(self) -> None:
        if self.found:
            raise min(self.found, key=lambda item: (item[0], item[1]))[2]


def verify_log(
    events: Iterable[LogEvent],
    checkpoints: Sequence[tuple[int, str]],
    *,
    origin: str,
    transcoder: Transcoder,
    expected_genesis: bytes | None = None,
    workers: int | None = None,
    stored_hashes: Sequence[bytes] | None = None,
) -> Report:
    """Verify a whole log; raise `IntegrityViolation` naming the first failure."""
    report = Report()
    failures = _Failures()
    registry = report.registry
    heads: dict[UUID, tuple[int, bytes]] = {}
    leaves = merkle.MemoryTree()
    pending: list[SignatureItem] = []
    futures: list[Future[int | None]] = []
    pool = _SignaturePool(workers)
    switch = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    ids: list[tuple[UUID, int]] = []
    leaf_hashes: list[bytes] = []
    stop_at: int | None = None
    try:
        for expected_position, event in enumerate(events):
            if event.position != expected_position:
                failures.add(
                    expected_position,
                    IntegrityViolation(
                        "log order",
                        f"position {event.position} found where {expected_position} was expected",
                        position=expected_position,
                    ),
                )
                stop_at = expected_position
                break
            try:
                item, digest = _replay(event, registry, heads, transcoder)
            except IntegrityViolation as violation:
                failures.add(event.position, violation)
                stop_at = event.position
                break
            pending.append(item)
            ids.append((event.originator_id, event.originator_version))
            report.event_hashes.append(digest)
            leaf_hashes.append(merkle.leaf_hash(digest))
            if len(pending) >= CHUNK:
                futures.append(pool.submit(pending))
                pending = []
        if pending:
            futures.append(pool.submit(pending))
        # While the workers finish the signatures: the tree, the stored log, the checkpoints.
        leaves.extend(leaf_hashes)
        report.events = len(report.event_hashes)
        report.signatures = report.events
        report.aggregates = len(heads)
        report.genesis = registry.genesis
        if expected_genesis is not None and registry.genesis not in (None, expected_genesis):
            failures.add(
                0,
                IntegrityViolation(
                    "genesis",
                    "the genesis key is not the trust anchor you gave "
                    f"({expected_genesis.hex()[:16]}…)",
                    position=0,
                ),
                rank=-2,
            )
        if stored_hashes is not None:
            _compare_with_stored_log(report.event_hashes, stored_hashes, failures, stop_at)
        if stop_at is None:
            _check_checkpoints(leaves, checkpoints, registry, origin, failures)
        for future in futures:
            bad = future.result()
            if bad is not None:
                failures.add(
                    bad,
                    IntegrityViolation(
                        "signature",
                        "the event's signature does not match its content and signer",
                        position=bad,
                        originator_id=ids[bad][0],
                        originator_version=ids[bad][1],
                    ),
                    rank=-1,
                )
                break
    finally:
        pool.shutdown()
        sys.setswitchinterval(switch)
    failures.raise_first()
    report.checkpoints = len(checkpoints)
    report.tree_size = leaves.size
    report.root = leaves.root()
    return report


def _replay(
    event: LogEvent,
    registry: KeyRegistry,
    heads: dict[UUID, tuple[int, bytes]],
    transcoder: Transcoder,
) -> tuple[SignatureItem, bytes]:
    head = heads.get(event.originator_id)
    version = event.originator_version
    problem = ""
    expected: bytes | None = head[1] if head is not None else envelope.GENESIS_PREV
    if head is None and version != 1:
        expected, problem = None, "the aggregate's earlier events are missing from the log"
    elif head is not None and version != head[0] + 1:
        expected = None
        problem = f"the aggregate's events between version {head[0]} and {version} are missing"
    admitted = admit(
        event,
        event.position,
        registry,
        transcoder,
        expected,
        check_signature=False,
        chain_problem=problem,
    )
    heads[event.originator_id] = (version, admitted.digest)
    item = (event.position, admitted.public_key, admitted.sig, admitted.preimage)
    return item, admitted.digest


def _compare_with_stored_log(
    recomputed: Sequence[bytes],
    stored: Sequence[bytes],
    failures: _Failures,
    stop_at: int | None,
) -> None:
    """The stored Merkle log is a second witness: it names deleted and inserted rows."""
    limit = len(recomputed) if stop_at is None else min(len(recomputed), stop_at)
    for position in range(min(limit, len(stored))):
        if recomputed[position] != stored[position]:
            failures.add(
                position,
                IntegrityViolation(
                    "log",
                    "the event stored at this position is not the one the Merkle log recorded "
                    "there (a row was deleted, inserted, reordered or changed)",
                    position=position,
                ),
                rank=1,
            )
            return
    if stop_at is None and len(stored) > len(recomputed):
        failures.add(
            len(recomputed),
            IntegrityViolation(
                "missing event",
                f"the Merkle log recorded {len(stored)} events but the store holds only "
                f"{len(recomputed)}",
                position=len(recomputed),
            ),
            rank=1,
        )


def _check_checkpoints(
    leaves: merkle.MemoryTree,
    checkpoints: Sequence[tuple[int, str]],
    registry: KeyRegistry,
    origin: str,
    failures: _Failures,
) -> None:
    node_keys = [
        notes.NoteVerifier(origin, public_key_from_raw(record.public_key))
        for record in registry.keys.values()
        if record.user == NODE_USER
    ]
    previous: notes.Checkpoint | None = None
    for size, note in sorted(checkpoints):
        try:
            checkpoint = notes.open_checkpoint(note, node_keys)
            if checkpoint.size != size or checkpoint.origin != origin:
                raise IntegrityViolation(
                    "checkpoint",
                    f"the checkpoint filed under tree size {size} is for "
                    f"'{checkpoint.origin}' at size {checkpoint.size}",
                )
            if size > leaves.size:
                raise IntegrityViolation(
                    "checkpoint",
                    f"a signed checkpoint covers {size} events but the log holds only "
                    f"{leaves.size}: the log was cut back",
                    position=leaves.size,
                )
            if leaves.root(size) != checkpoint.root:
                raise IntegrityViolation(
                    "checkpoint",
                    f"the events do not hash to the root signed in the checkpoint at size {size}",
                )
            if previous is not None:
                proof = leaves.consistency_proof(previous.size, size)
                merkle.verify_consistency(
                    previous.size, size, previous.root, checkpoint.root, proof
                )
        except IntegrityViolation as violation:
            failures.add(min(size, leaves.size), violation, rank=2)
            return
        previous = checkpoint


class _SignaturePool:
    """Threads that verify signatures in chunks: pyca's Ed25519 releases the GIL while it works,
    so the machine's cores verify in parallel with no process start-up and no copying."""

    def __init__(self, workers: int | None) -> None:
        count = workers if workers is not None else (os.cpu_count() or 1)
        self.executor = ThreadPoolExecutor(max_workers=count) if count > 1 else None

    def submit(self, items: list[SignatureItem]) -> Future[int | None]:
        if self.executor is None:
            done: Future[int | None] = Future()
            done.set_result(first_bad_signature(items))
            return done
        return self.executor.submit(first_bad_signature, items)

    def shutdown(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(cancel_futures=True)
