"""A verification, recorded: `Verification.Completed` says who verified the log up to which tree
size and root, and carries what a later run needs to take up from there (the key registry and
the Merkle frontier at that size), signed by that person as every event is.

`verify --since-last` resumes from the latest such fact: it checks the fact (its signature, as
every event read from the store; that it comes after the size it claims; that its root is the
root of its frontier and is consistent with the latest signed checkpoint), then verifies only
the events after it. What came before is not read again: that is what incremental means, and a
full `verify` still reads every event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from ledger.errors import IntegrityViolation
from ledger.verifier import merkle
from ledger.verifier.registry import KeyRegistry

if TYPE_CHECKING:
    from ledger.verifier.log import Report


class Verification(Aggregate):
    """One recorded verification of the whole log (one event, never contended)."""

    TOPIC = "chartledger/verification"

    class Created(Aggregate.Created):
        TOPIC = "chartledger/verification/created"

    class Completed(Aggregate.Created):
        TOPIC = "chartledger/verification/completed"
        actor: str
        tree_size: int
        """The log was verified from position 0 up to here (exclusive)."""
        root: str
        """The Merkle root of that tree (hex)."""
        since: int
        """Where this run began: 0 for a full verification."""
        events: int
        """Events this run checked (tree_size - since)."""
        checkpoints: int
        """Signed checkpoints this run checked."""
        frontier: list[str]
        """The tree's compact range at tree_size (hex hashes, largest subtree first)."""
        registry: dict[str, Any]
        """The key registry at tree_size (`KeyRegistry.to_state`)."""

    def __init__(
        self,
        actor: str,
        tree_size: int,
        root: str,
        since: int,
        events: int,
        checkpoints: int,
        frontier: list[str],
        registry: dict[str, Any],
    ) -> None:
        self.actor = actor
        self.tree_size = tree_size
        self.root = root
        self.since = since
        self.events = events
        self.checkpoints = checkpoints
        self.frontier = list(frontier)
        self.registry = dict(registry)

    @classmethod
    def completed(cls, actor: str, report: Report) -> Verification:
        return cls._create(
            cls.Completed,
            id=uuid4(),
            actor=actor,
            tree_size=report.tree_size,
            root=report.root.hex(),
            since=report.since,
            events=report.events,
            checkpoints=report.checkpoints,
            frontier=[h.hex() for h in report.frontier.hashes],
            registry=report.registry.to_state(),
        )


@dataclass(frozen=True)
class Resumable:
    """What a recorded verification hands the next one."""

    record: UUID
    tree_size: int
    root: bytes
    frontier: merkle.Frontier
    registry: KeyRegistry


def resumable(record: Verification) -> Resumable:
    """The fact's state, checked to be whole: its frontier hashes to its root."""
    try:
        frontier = merkle.Frontier(record.tree_size, [bytes.fromhex(h) for h in record.frontier])
        registry = KeyRegistry.from_state(record.registry)
        root = bytes.fromhex(record.root)
    except (ValueError, KeyError, TypeError):
        raise IntegrityViolation(
            "verification", f"the recorded verification {record.id} cannot be read"
        ) from None
    if frontier.root() != root:
        raise IntegrityViolation(
            "verification",
            f"the recorded verification {record.id} names a root its frontier does not hash to",
        )
    return Resumable(record.id, record.tree_size, root, frontier, registry)
