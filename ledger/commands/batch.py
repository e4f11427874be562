"""A unit of work for commands: several command calls, one save.

Every command saves once (§0). A caller that must write what several commands do in one
transaction (the FHIR import: a patient with its import record, an encounter with its entries,
documents and records; HL7 next) gives them the same `Batch` (`batch=`): each command then
checks exactly as it does alone, and instead of saving adds the aggregates it made or changed to
the batch; `Batch.save` saves them all in one `ledger.save(..., signer=actor)`, so they commit
together or not at all.

A later call in the batch sees what an earlier one made or changed: the batch's loaders
(`patient`, `encounter`, `user`, `document_info`, `get`) look at its pending aggregates first,
else the ledger's. So do the checks that read the ledger: the one open stay per chart
(`ledger.commands.encounters.check_no_open_stay`, through `pending`), the attending, the MRN
registry and the next free MRN (`ledger.commands.patients`). Documents' bytes are stored when
the batch saves, just before its events (`store`).

A batch planned ahead (`next`): the batch to save after this one sees what this one and those
before it hold, before any of them is saved, and saves only its own; an aggregate pending in one
unsaved batch cannot be changed in another. A command that fails in a batch spoils it (`batched`):
the batch then refuses to save, so nothing of it is written. A batch saves once.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast
from uuid import UUID

from ledger.aggregates.documents import Document
from ledger.aggregates.encounter import Encounter
from ledger.aggregates.patient import Patient, patient_id
from ledger.aggregates.user import User
from ledger.errors import UsageError
from ledger.verifier.identities import user_id

if TYPE_CHECKING:
    from eventsourcing.domain import MutableOrImmutableAggregate
    from eventsourcing.persistence import Recording

    from ledger.application import Ledger
    from ledger.integrity.keys import Identity

    Aggregate = MutableOrImmutableAggregate[UUID]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


class Batch:
    """The aggregates several command calls made or changed, saved together (see the module)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._own: dict[UUID, Aggregate] = {}
        """What this batch saves, in the order first added."""
        self._owner: dict[UUID, Batch] = {}
        """Every aggregate pending in this batch or one planned before it, and its batch
        (shared along `next`)."""
        self._by_type: dict[type, dict[UUID, Batch]] = {}
        """The same, by the aggregate's class (for `pending`)."""
        self._blobs: dict[tuple[UUID, str], bytes] = {}
        self._spoiled: str | None = None
        self._saved = False

    def next(self) -> Batch:
        """The batch to save after this one: it sees what this one (and every batch planned
        before it) holds, and saves only what is added to it."""
        following = Batch(self.ledger)
        following._owner, following._by_type = self._owner, self._by_type
        return following

    # -- what the commands add ------------------------------------------------------------------
    def add(self, *aggregates: Aggregate | None) -> None:
        """Aggregates to save with the batch (None is skipped: a command's "no flagged access")."""
        self._check_open()
        for aggregate in aggregates:
            if aggregate is None:
                continue
            owner = self._owner.get(aggregate.id)
            if owner is not None and owner is not self and not owner._saved:
                raise ValueError(
                    f"Aggregate {aggregate.id} is pending in an earlier batch not saved yet."
                )
            self._owner[aggregate.id] = self
            self._by_type.setdefault(type(aggregate), {})[aggregate.id] = self
            self._own.setdefault(aggregate.id, aggregate)

    def store(self, subject: UUID, content: bytes) -> str:
        """Bytes to store under `subject`'s data key when the batch saves (before its events,
        as a command alone stores them before its save); returns their SHA-256."""
        self._check_open()
        digest = hashlib.sha256(content).hexdigest()
        self._blobs.setdefault((subject, digest), content)
        return digest

    @property
    def aggregates(self) -> list[Aggregate]:
        """What this batch saves, in order."""
        return list(self._own.values())

    def events(self) -> Iterator[tuple[UUID, Any]]:
        """Each event this batch would save, with its aggregate's id, in order."""
        for aggregate_id, aggregate in self._own.items():
            for event in getattr(aggregate, "pending_events", ()):
                yield aggregate_id, event

    def holds(self, aggregate_id: UUID) -> bool:
        """Whether the aggregate is pending in this batch or one planned before it."""
        owner = self._owner.get(aggregate_id)
        return owner is not None and not owner._saved

    def pending(self, kind: type[T]) -> list[T]:
        """The aggregates of `kind` pending in this batch and those planned before it."""
        return [
            cast(T, batch._own[aid])
            for cls, held in self._by_type.items()
            if issubclass(cls, kind)
            for aid, batch in held.items()
            if not batch._saved
        ]

    # -- the loaders: pending first, else the ledger's ------------------------------------------
    def get(self, aggregate_id: UUID) -> Any:
        """An aggregate as this batch leaves it (`AggregateNotFoundError` if there is none)."""
        owner = self._owner.get(aggregate_id)
        if owner is not None:
            return owner._own[aggregate_id]
        return self.ledger.repository.get(aggregate_id)

    def __contains__(self, aggregate_id: object) -> bool:
        if not isinstance(aggregate_id, UUID):
            return False
        return aggregate_id in self._owner or aggregate_id in self.ledger.repository

    def _pending_one(self, aggregate_id: UUID, kind: type[T]) -> T | None:
        owner = self._owner.get(aggregate_id)
        found = owner._own[aggregate_id] if owner is not None else None
        return found if isinstance(found, kind) else None

    def patient(self, mrn: str) -> Patient:
        found = self._pending_one(patient_id(mrn), Patient)
        return found if found is not None else self.ledger.patient(mrn)

    def encounter(self, encounter_id: UUID) -> Encounter:
        found = self._pending_one(encounter_id, Encounter)
        return found if found is not None else self.ledger.encounter(encounter_id)

    def user(self, name: str) -> User:
        found = self._pending_one(user_id(name), User)
        return found if found is not None else self.ledger.user(name)

    def document_info(self, document_id: UUID) -> Document:
        found = self._pending_one(document_id, Document)
        return found if found is not None else self.ledger.document_info(document_id)

    # -- saving ---------------------------------------------------------------------------------
    def spoil(self, reason: str) -> None:
        """A command in the batch failed: the batch will not save (nothing of it is written)."""
        if self._spoiled is None:
            self._spoiled = reason

    def save(self, *, signer: Identity) -> list[Recording[UUID]]:
        """Store the documents' bytes, then save every aggregate in one `ledger.save`: all of
        them or (a conflict, a refusal) none. A batch saves once."""
        self._check_open()
        self._saved = True  # spent, whatever happens: a failed save took the pending events
        for (subject, _), content in self._blobs.items():
            self.ledger.blobs.put(subject, content)
        return self.ledger.save(*self._own.values(), signer=signer)

    def _check_open(self) -> None:
        if self._spoiled is not None:
            raise UsageError(
                f"This batch cannot be saved: one of its commands failed ({self._spoiled}), so "
                "none of it is."
            )
        if self._saved:
            raise UsageError("This batch was saved already; start another.")


def batched(command: Callable[P, R]) -> Callable[P, R]:
    """A command that may run in a batch (`batch=`): if it fails there, the batch is spoiled."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except BaseException as error:
            batch = kwargs.get("batch")
            if isinstance(batch, Batch):
                batch.spoil(str(error).rstrip(".") or type(error).__name__)
            raise

    return run


def save_or_add(
    ledger: Ledger, batch: Batch | None, *aggregates: Aggregate | None, signer: Identity
) -> None:
    """A command's one save: now, or with the batch it runs in (whose caller saves it)."""
    if batch is not None:
        batch.add(*aggregates)
    else:
        ledger.save(*aggregates, signer=signer)


def loads_from(ledger: Ledger, batch: Batch | None) -> Ledger | Batch:
    """Where a command loads its aggregates: the batch (pending first), else the ledger."""
    return batch if batch is not None else ledger
