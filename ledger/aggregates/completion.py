"""Chart completion, recorded: what each scan found, whom it was assigned to, when the physician
was told, and how each deficiency was closed.

One `EncounterCompletion` per encounter (its id derived from the encounter's) holds the
encounter's deficiency register. `deficiency scan` records what the rules of
`policies.deficiency` find: `Assigned` for a deficiency not seen before, `Completed` for one the
chart no longer lacks. `deficiency notify` records that a physician was told of their open
deficiencies, and how. `deficiency resolve` closes one by hand with a reason: `Completed` when
the chart now satisfies it, otherwise `Waived` (only the HIM director waives; the rules then stop
raising it). The events name kinds, physicians, times and entry references, never clinical
content, so they are not encrypted. The commands are `ledger.commands.completion`; who may run
them is `policies.records`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.aggregates.encounter import Encounter
from ledger.errors import UsageError
from policies.deficiency import (
    Deficiency,
    EncounterFacts,
    EntryFacts,
    QueryFacts,
    is_operative,
)

if TYPE_CHECKING:
    from ledger.application import Ledger

COMPLETION_NAMESPACE = uuid5(NAMESPACE_URL, "https://chartledger.invalid/encounter-completion")


def completion_id(encounter_id: UUID | str) -> UUID:
    return uuid5(COMPLETION_NAMESPACE, str(encounter_id))


@dataclass
class Assignment:
    """One open deficiency in the register."""

    kind: str
    physician: str
    due_at: datetime
    why: str
    entry: str | None
    assigned_at: datetime
    notified_at: datetime | None = None


class EncounterCompletion(Aggregate):
    """The deficiency register of one encounter."""

    TOPIC = "chartledger/encounter-completion"

    class Created(Aggregate.Created):
        TOPIC = "chartledger/encounter-completion/created"

    class Started(Aggregate.Created):
        TOPIC = "chartledger/encounter-completion/started"
        encounter_id: UUID
        mrn: str
        actor: str

    class Assigned(Aggregate.Event):
        TOPIC = "chartledger/encounter-completion/assigned"
        key: str
        kind: str
        physician: str
        due_at: datetime
        why: str
        entry: str | None
        policy: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.open[self.key] = Assignment(
                self.kind, self.physician, self.due_at, self.why, self.entry, self.timestamp
            )

    class Notified(Aggregate.Event):
        TOPIC = "chartledger/encounter-completion/notified"
        physician: str
        keys: list[str]
        method: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            for key in self.keys:
                aggregate.open[key].notified_at = self.timestamp

    class Completed(Aggregate.Event):
        """The rules in force (`policy`) no longer find it missing: the chart has it now, or
        (`note` says which) the rules changed, or a person resolved it by hand."""

        TOPIC = "chartledger/encounter-completion/completed"
        key: str
        note: str
        policy: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            del aggregate.open[self.key]

    class Waived(Aggregate.Event):
        TOPIC = "chartledger/encounter-completion/waived"
        key: str
        reason: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            del aggregate.open[self.key]
            aggregate.waived.add(self.key)

    def __init__(self, encounter_id: UUID, mrn: str, actor: str) -> None:
        self.encounter_id = encounter_id
        self.mrn = mrn
        self.open: dict[str, Assignment] = {}
        self.waived: set[str] = set()

    # -- the register's changes, each one event --------------------------------------------------

    @classmethod
    def start(cls, *, encounter_id: UUID, mrn: str, actor: str) -> EncounterCompletion:
        """The register of an encounter, before its first deficiency."""
        return cls._create(
            cls.Started,
            id=completion_id(encounter_id),
            encounter_id=encounter_id,
            mrn=mrn,
            actor=actor,
        )

    def _is_open(self, key: str) -> None:
        if key not in self.open:
            raise UsageError(f"There is no open deficiency {key} in this encounter's register.")

    def assign(self, found: Deficiency, *, policy: str, actor: str) -> None:
        """A deficiency the rules found, not seen before, assigned to its physician."""
        if found.key in self.open:
            raise UsageError(f"The deficiency {found.key} is already assigned.")
        self.trigger_event(
            self.Assigned,
            key=found.key,
            kind=found.kind,
            physician=found.physician,
            due_at=found.due_at,
            why=found.why,
            entry=found.entry,
            policy=policy,
            actor=actor,
        )

    def complete(self, key: str, *, note: str, policy: str, actor: str) -> None:
        """The rules in force (`policy`) no longer find it missing; `note` says why."""
        self._is_open(key)
        self.trigger_event(self.Completed, key=key, note=note, policy=policy, actor=actor)

    def waive(self, key: str, *, reason: str, actor: str) -> None:
        """Closed although the chart still lacks it: the rules stop raising it."""
        self._is_open(key)
        self.trigger_event(self.Waived, key=key, reason=reason, actor=actor)

    def notify(self, physician: str, *, method: str, actor: str) -> int:
        """The physician was told of every open deficiency assigned to them here; returns how
        many (none: nothing is recorded)."""
        keys = sorted(k for k, a in self.open.items() if a.physician == physician)
        if keys:
            self.trigger_event(
                self.Notified, physician=physician, keys=keys, method=method, actor=actor
            )
        return len(keys)


@dataclass
class Registers:
    """Every encounter's register, by encounter id (as text)."""

    by_encounter: dict[str, EncounterCompletion] = field(default_factory=dict)

    def waived(self, encounter_id: str) -> frozenset[str]:
        register = self.by_encounter.get(encounter_id)
        return frozenset(register.waived) if register else frozenset()

    def assignment(self, deficiency: Deficiency) -> Assignment | None:
        register = self.by_encounter.get(deficiency.encounter)
        return register.open.get(deficiency.key) if register else None


def registers(ledger: Ledger) -> Registers:
    """The deficiency registers (a scan of `Started` notifications; an index view later)."""
    found = Registers()
    for note in ledger.recorder.select_notifications(
        start=None, limit=10_000_000, topics=[EncounterCompletion.Started.TOPIC]
    ):
        register = cast(EncounterCompletion, ledger.repository.get(cast(UUID, note.originator_id)))
        found.by_encounter[str(register.encounter_id)] = register
    return found


def register_of(ledger: Ledger, encounter_id: UUID) -> EncounterCompletion | None:
    """The encounter's register, or None before any deficiency was recorded for it."""
    try:
        return cast(EncounterCompletion, ledger.repository.get(completion_id(encounter_id)))
    except AggregateNotFoundError:
        return None


def registers_of(ledger: Ledger, encounter_ids: Iterable[UUID]) -> Registers:
    """The deficiency registers of these encounters only (those that have one)."""
    found = Registers()
    for encounter_id in encounter_ids:
        register = register_of(ledger, encounter_id)
        if register is not None:
            found.by_encounter[str(register.encounter_id)] = register
    return found


def physicians_of(ledger: Ledger) -> set[str]:
    """The user names with the physician role (whose entries must be signed)."""
    return {u.name for u in ledger.users() if "physician" in u.roles}


def encounter_facts(
    ledger: Ledger,
    waived: Registers | None,
    *,
    queries: Mapping[str, tuple[QueryFacts, ...]],
    only: Sequence[UUID] | None = None,
    physicians: set[str] | None = None,
) -> list[EncounterFacts]:
    """The completion facts of every encounter (or of those `only`, in that order): its entries,
    the kinds of its documents and the physician queries awaiting an answer
    (`ledger.reads.physician_queries.awaiting_by_encounter`, given by the caller: an aggregate
    reads no read model)."""
    if physicians is None:
        physicians = physicians_of(ledger)
    index = ledger.chart_index()
    documents = index.document_kinds_by_encounter()
    return [
        facts_of(
            ledger.encounter(encounter_id),
            documents.get(encounter_id, []),
            physicians,
            waived,
            queries.get(str(encounter_id), ()),
        )
        for encounter_id in (index.all_encounter_ids() if only is None else only)
    ]


def facts_of(
    encounter: Encounter,
    documents: list[str],
    physicians: set[str],
    waived: Registers | None,
    queries: tuple[QueryFacts, ...],
) -> EncounterFacts:
    return EncounterFacts(
        id=str(encounter.id),
        mrn=encounter.mrn,
        encounter_class=encounter.encounter_class,
        attending=encounter.attending,
        admitted_at=encounter.admitted_at,
        discharged_at=encounter.discharged_at,
        entries=tuple(
            EntryFacts(
                id=f"{encounter.id}:{entry.id}",
                kind=entry.kind,
                author=entry.author,
                effective_at=entry.effective_at,
                physician_entry=entry.author in physicians,
                operative=entry.kind == "procedure" and is_operative(entry.fields),
                signers=tuple(
                    s.physician for s in entry.signatures if s.version == len(entry.versions)
                ),
            )
            for entry in encounter.entries.values()
            if not entry.retracted
        ),
        documents=tuple(documents),
        waived=waived.waived(str(encounter.id)) if waived else frozenset(),
        queries=queries,
    )


def parse_reference(reference: str) -> tuple[UUID, str | None]:
    """ENCOUNTER or ENCOUNTER:ENTRY, as `chart add` prints them."""
    encounter, _, entry = reference.strip().partition(":")
    try:
        return UUID(encounter), (str(UUID(entry)) if entry else None)
    except ValueError:
        raise UsageError(
            f"'{reference}' is not a chart reference: give ENCOUNTER or ENCOUNTER:ENTRY."
        ) from None
