"""`verify`: every check of DESIGN.md section 5, naming the first failure precisely.

One core serves both the live database and an export folder: it replays the events in log order,
rebuilding the key registry (so validity is by position), each aggregate's chain and the Merkle
tree, verifies every signature (in parallel on all cores) and checks the tree against every signed
checkpoint and each checkpoint against the next. The failure at the lowest log position wins.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
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

CHUNK = 512
"""Signatures sent to a worker process at once: enough to make the pickling cheap per event."""
IN_FLIGHT_PER_WORKER = 3
"""Chunks queued per worker before the reader waits: the memory verify holds is this many chunks,
whatever the log's length."""

Heads = dict[bytes, bytes]
"""Each aggregate's chain head: its id's 16 bytes to 4 bytes of version and its last hash."""


@dataclass
class Resume:
    """Where a verification takes up from an earlier one: the tree size it had verified (the
    next event's position), the key registry and the Merkle frontier as they were there, and how
    to read the hash of an aggregate's last event before that size (None: there is none)."""

    size: int
    registry: KeyRegistry
    frontier: merkle.Frontier
    earlier_hash: Callable[[UUID, int], bytes | None]


class LogEvent(NamedTuple):
    """One event as the log holds it: its position and its stored row."""

    position: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes


@dataclass
class Report:
    """What a successful verification covered (counts and the root: nothing per event, so a
    verification's memory does not grow with the log)."""

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
    since: int = 0
    """The log position this run began at: 0, or the size an earlier verification reached."""
    frontier: merkle.Frontier = field(default_factory=merkle.Frontier, repr=False)
    """The tree's compact range at `tree_size` (O(log n) hashes), for a later run to resume."""


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
    stored_hashes: Iterable[bytes] | None = None,
    chunk: int = CHUNK,
    resume: Resume | None = None,
) -> Report:
    """Verify a whole log, streamed once; raise `IntegrityViolation` naming the first failure.

    Memory stays flat as the log grows: the tree is a compact frontier (its root taken at each
    checkpoint's size as the stream passes it), the stored log is compared event by event as both
    streams advance, signatures go to worker processes a chunk at a time, and what is kept for
    the whole run is the key registry and each aggregate's chain head (16 + 36 bytes).

    With `resume` the events are those from `resume.size` on, and `checkpoints` those after it;
    an aggregate whose earlier events lie before that size continues from the hash
    `resume.earlier_hash` reads.
    """
    start = resume.size if resume is not None else 0
    report = Report(registry=resume.registry if resume is not None else KeyRegistry())
    report.since = start
    failures = _Failures()
    registry = report.registry
    heads: Heads = {}
    earlier = resume.earlier_hash if resume is not None else None
    frontier = resume.frontier if resume is not None else merkle.Frontier()
    checkpoints = [item for item in checkpoints if item[0] > start]
    sizes = sorted({size for size, _ in checkpoints})
    roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT} if 0 in sizes else {}
    next_size = iter(size for size in sizes if size > 0)
    watch = next(next_size, None)
    stored: Iterator[bytes] | None = iter(stored_hashes) if stored_hashes is not None else None
    pool = _SignaturePool(workers)
    pending: list[SignatureItem] = []
    pending_ids: list[tuple[UUID, int]] = []
    stop_at: int | None = None
    try:
        for expected_position, event in enumerate(events, start=start):
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
                item, digest = _replay(event, registry, heads, transcoder, earlier)
            except IntegrityViolation as violation:
                failures.add(event.position, violation)
                stop_at = event.position
                break
            if stored is not None:
                recorded = next(stored, None)
                if recorded is None or recorded != digest:
                    if recorded is not None:
                        _stored_differs(event.position, failures)
                    stored = None  # the first difference is the one to name
            pending.append(item)
            pending_ids.append((event.originator_id, event.originator_version))
            if len(pending) >= chunk:
                pool.submit(pending, pending_ids, failures)
                pending, pending_ids = [], []
            frontier.append(merkle.leaf_hash(digest))
            if frontier.size == watch:
                roots[watch] = frontier.root()
                watch = next(next_size, None)
        if pending:
            pool.submit(pending, pending_ids, failures)
        report.events = frontier.size - start
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
        extra = sum(1 for _ in stored) if stop_at is None and stored is not None else 0
        if extra:
            failures.add(
                frontier.size,
                IntegrityViolation(
                    "missing event",
                    f"the Merkle log recorded {frontier.size + extra} events but the store "
                    f"holds only {frontier.size}",
                    position=frontier.size,
                ),
                rank=1,
            )
        if stop_at is None:
            _check_checkpoints(roots, frontier.size, checkpoints, registry, origin, failures)
        pool.finish(failures)
    finally:
        pool.shutdown()
    failures.raise_first()
    report.checkpoints = len(checkpoints)
    report.tree_size = frontier.size
    report.root = frontier.root()
    report.frontier = frontier
    return report


def _stored_differs(position: int, failures: _Failures) -> None:
    """The stored Merkle log is a second witness: it names deleted and inserted rows."""
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


def _replay(
    event: LogEvent,
    registry: KeyRegistry,
    heads: Heads,
    transcoder: Transcoder,
    earlier: Callable[[UUID, int], bytes | None] | None = None,
) -> tuple[SignatureItem, bytes]:
    key = event.originator_id.bytes
    head = heads.get(key)
    version = event.originator_version
    if head is None and version > 1 and earlier is not None:
        found = earlier(event.originator_id, version - 1)
        if found is not None:
            head = (version - 1).to_bytes(4, "big") + found
    problem = ""
    expected: bytes | None = head[4:] if head is not None else envelope.GENESIS_PREV
    if head is None and version != 1:
        expected, problem = None, "the aggregate's earlier events are missing from the log"
    elif head is not None and version != int.from_bytes(head[:4], "big") + 1:
        expected = None
        problem = (
            f"the aggregate's events between version {int.from_bytes(head[:4], 'big')} and "
            f"{version} are missing"
        )
    admitted = admit(
        event,
        event.position,
        registry,
        transcoder,
        expected,
        check_signature=False,
        chain_problem=problem,
    )
    heads[key] = version.to_bytes(4, "big") + admitted.digest
    item = (event.position, admitted.public_key, admitted.sig, admitted.preimage)
    return item, admitted.digest


def _check_checkpoints(
    roots: dict[int, bytes],
    size_seen: int,
    checkpoints: Sequence[tuple[int, str]],
    registry: KeyRegistry,
    origin: str,
    failures: _Failures,
) -> None:
    """Each signed checkpoint against the root the stream had at its size. Every root is taken
    from the one stream of leaves, so checkpoints that each match it are consistent with each
    other: no separate consistency proof is needed between them."""
    node_keys = [
        notes.NoteVerifier(origin, public_key_from_raw(record.public_key))
        for record in registry.keys.values()
        if record.user == NODE_USER
    ]
    for size, note in sorted(checkpoints):
        try:
            checkpoint = notes.open_checkpoint(note, node_keys)
            if checkpoint.size != size or checkpoint.origin != origin:
                raise IntegrityViolation(
                    "checkpoint",
                    f"the checkpoint filed under tree size {size} is for "
                    f"'{checkpoint.origin}' at size {checkpoint.size}",
                )
            if size > size_seen:
                raise IntegrityViolation(
                    "checkpoint",
                    f"a signed checkpoint covers {size} events but the log holds only "
                    f"{size_seen}: the log was cut back",
                    position=size_seen,
                )
            if roots.get(size) != checkpoint.root:
                raise IntegrityViolation(
                    "checkpoint",
                    f"the events do not hash to the root signed in the checkpoint at size {size}",
                )
        except IntegrityViolation as violation:
            failures.add(min(size, size_seen), violation, rank=2)
            return


def _context() -> multiprocessing.context.BaseContext:
    """Workers forked from a small server process, never from this one: a fork of a process
    holding database connections and threads is unsafe, and a fresh interpreter per pool costs
    its imports every time."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


_POOLS: dict[int, ProcessPoolExecutor] = {}


def _pool(count: int) -> ProcessPoolExecutor:
    """One pool per worker count for the life of the process (a server verifying nightly does
    not start its workers again; `concurrent.futures` ends them at exit)."""
    pool = _POOLS.get(count)
    if pool is None:
        pool = _POOLS[count] = ProcessPoolExecutor(max_workers=count, mp_context=_context())
    return pool


class _SignaturePool:
    """Signatures checked in worker processes, a chunk of raw (position, key, signature,
    message) bytes at a time, at most a few chunks per worker in flight. The Python work around
    each verification (and the reading thread's) holds the GIL, so threads cannot use every
    core; processes can. A log of one chunk is verified here, with no worker started; if the
    workers cannot run (a worker died, or a script that calls verify at import, without the
    `if __name__ == "__main__"` guard the workers' start needs), the rest is verified here."""

    def __init__(self, workers: int | None) -> None:
        self.count = workers if workers is not None else (os.cpu_count() or 1)
        self.executor: ProcessPoolExecutor | None = None
        self.held: tuple[list[SignatureItem], list[tuple[UUID, int]]] | None = None
        self.flying: deque[
            tuple[Future[int | None], list[SignatureItem], list[tuple[UUID, int]]]
        ] = deque()
        self.bad = False

    def submit(
        self, items: list[SignatureItem], ids: list[tuple[UUID, int]], failures: _Failures
    ) -> None:
        if self.count <= 1:
            self._record(first_bad_signature(items), items, ids, failures)
            return
        if self.executor is None:
            if self.held is None:
                self.held = (items, ids)  # one chunk may be the whole log: wait for a second
                return
            self.executor = _pool(self.count)
            first, self.held = self.held, None
            self._send(self.executor, *first, failures)
        self._send(self.executor, items, ids, failures)

    def _send(
        self,
        executor: ProcessPoolExecutor,
        items: list[SignatureItem],
        ids: list[tuple[UUID, int]],
        failures: _Failures,
    ) -> None:
        while len(self.flying) >= self.count * IN_FLIGHT_PER_WORKER:
            self._collect(failures)
        if self.count <= 1:  # the workers failed meanwhile
            self._record(first_bad_signature(items), items, ids, failures)
            return
        try:
            future = executor.submit(first_bad_signature, items)
        except BrokenProcessPool:
            self._broken(failures)
            self._record(first_bad_signature(items), items, ids, failures)
            return
        self.flying.append((future, items, ids))

    def _collect(self, failures: _Failures) -> None:
        future, items, ids = self.flying.popleft()
        try:
            bad = future.result()
        except BrokenProcessPool:
            self.flying.appendleft((future, items, ids))
            self._broken(failures)
            return
        self._record(bad, items, ids, failures)

    def _broken(self, failures: _Failures) -> None:
        """The workers cannot run: forget the pool (a later run starts a fresh one) and check
        every chunk still in flight, and the rest of the log, in this process."""
        _POOLS.pop(self.count, None)
        self.count, self.executor = 1, None
        while self.flying:
            _, items, ids = self.flying.popleft()
            self._record(first_bad_signature(items), items, ids, failures)

    def _record(
        self,
        bad: int | None,
        items: list[SignatureItem],
        ids: list[tuple[UUID, int]],
        failures: _Failures,
    ) -> None:
        if bad is None or self.bad:
            return
        self.bad = True  # the first bad signature in log order is the one to name
        oid, version = ids[bad - items[0][0]]
        failures.add(
            bad,
            IntegrityViolation(
                "signature",
                "the event's signature does not match its content and signer",
                position=bad,
                originator_id=oid,
                originator_version=version,
            ),
            rank=-1,
        )

    def finish(self, failures: _Failures) -> None:
        """Every submitted chunk checked (the one held back, here)."""
        if self.held is not None:
            items, ids = self.held
            self.held = None
            self._record(first_bad_signature(items), items, ids, failures)
        while self.flying:
            self._collect(failures)

    def shutdown(self) -> None:
        """Drop what is still queued (a failure or an error cut the run short)."""
        for future, _, _ in self.flying:
            future.cancel()
        self.flying.clear()
