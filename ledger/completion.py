"""Chart completion, recorded: what each scan found, whom it was assigned to, when the physician
was told, and how each deficiency was closed.

One `EncounterCompletion` per encounter (its id derived from the encounter's) holds the
encounter's deficiency register. `deficiency scan` records what the rules of
`policies.deficiency` find: `Assigned` for a deficiency not seen before, `Completed` for one the
chart no longer lacks. `deficiency notify` records that a physician was told of their open
deficiencies, and how. `deficiency resolve` closes one by hand with a reason: `Completed` when
the chart now satisfies it, otherwise `Waived` (only the HIM director waives; the rules then stop
raising it). The events name kinds, physicians, times and entry references, never clinical
content, so they are not encrypted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.access_policy import current_access_config, current_completion_rules
from ledger.encounter import Encounter
from ledger.errors import UsageError, require
from policies.deficiency import (
    DEFICIENCIES,
    POLICY_VERSION,
    CompletionRules,
    Deficiency,
    EncounterFacts,
    EntryFacts,
    deficiencies,
    is_operative,
)
from policies.roles import Decision

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.keys import Identity

COMPLETION_NAMESPACE = uuid5(NAMESPACE_URL, "https://chartledger.invalid/encounter-completion")
TRACKING_ROLES = frozenset({"technician", "him-director"})
WAIVING_ROLES = frozenset({"him-director"})
NOTICE_METHODS = ("in-person", "letter", "email", "phone", "inbox")


def may_track_completion(roles: Iterable[str]) -> Decision:
    if TRACKING_ROLES & set(roles):
        return Decision(True, "the records department tracks chart completion")
    return Decision(False, "only technicians or the HIM director track chart completion")


def may_waive(roles: Iterable[str]) -> Decision:
    if WAIVING_ROLES & set(roles):
        return Decision(True, "the HIM director may waive a deficiency")
    return Decision(False, "only the HIM director may waive a deficiency the chart still has")


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


def encounter_facts(ledger: Ledger, waived: Registers | None = None) -> list[EncounterFacts]:
    """The completion facts of every encounter: its entries and the kinds of its documents."""
    physicians = {u.name for u in ledger.users() if "physician" in u.roles}
    index = ledger.chart_index()
    documents = index.document_kinds_by_encounter()
    return [
        _facts(ledger.encounter(encounter_id), documents.get(encounter_id, []), physicians, waived)
        for encounter_id in index.all_encounter_ids()
    ]


def _facts(
    encounter: Encounter, documents: list[str], physicians: set[str], waived: Registers | None
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
    )


@dataclass(frozen=True)
class ScanResult:
    assigned: int
    completed: int
    open: int
    encounters: int


def scan(ledger: Ledger, *, now: datetime, actor: Identity) -> ScanResult:
    """Record what the rules find on every chart now, in one transaction."""
    require(may_track_completion(ledger.authenticate(actor).roles))
    rules = current_completion_rules(ledger)
    policy = f"{POLICY_VERSION}+{current_access_config(ledger).version}"
    known = registers(ledger)
    changed: list[EncounterCompletion] = []
    assigned = completed = still_open = 0
    for facts in encounter_facts(ledger, known):
        found = {d.key: d for d in deficiencies(facts, now=now, rules=rules)}
        register = known.by_encounter.get(facts.id)
        if register is None and not found:
            continue
        if register is None:
            register = EncounterCompletion._create(
                EncounterCompletion.Started,
                id=completion_id(facts.id),
                encounter_id=UUID(facts.id),
                mrn=facts.mrn,
                actor=actor.name,
            )
        for key in sorted(set(register.open) - set(found)):
            register.trigger_event(
                EncounterCompletion.Completed,
                key=key,
                note="the rules in force no longer find it missing",
                policy=policy,
                actor=actor.name,
            )
            completed += 1
        for key in sorted(set(found) - set(register.open)):
            _assign(register, found[key], policy=policy, actor=actor.name)
            assigned += 1
        still_open += len(register.open)
        if register.pending_events:
            changed.append(register)
    if changed:
        ledger.save(*changed, signer=actor)
    return ScanResult(assigned, completed, still_open, len(changed))


def _assign(register: EncounterCompletion, found: Deficiency, *, policy: str, actor: str) -> None:
    register.trigger_event(
        EncounterCompletion.Assigned,
        key=found.key,
        kind=found.kind,
        physician=found.physician,
        due_at=found.due_at,
        why=found.why,
        entry=found.entry,
        policy=policy,
        actor=actor,
    )


def notify(ledger: Ledger, physician: str, *, method: str, actor: Identity) -> tuple[int, int]:
    """Record that a physician was told of every open deficiency assigned to them; returns
    (deficiencies, encounters)."""
    require(may_track_completion(ledger.authenticate(actor).roles))
    if method not in NOTICE_METHODS:
        raise UsageError(f"The method must be one of: {', '.join(NOTICE_METHODS)}.")
    ledger.user(physician)
    changed = []
    count = 0
    for register in registers(ledger).by_encounter.values():
        keys = sorted(k for k, a in register.open.items() if a.physician == physician)
        if keys:
            register.trigger_event(
                EncounterCompletion.Notified,
                physician=physician,
                keys=keys,
                method=method,
                actor=actor.name,
            )
            changed.append(register)
            count += len(keys)
    if not changed:
        raise UsageError(
            f"{physician} has no open deficiencies assigned; run 'deficiency scan' first."
        )
    ledger.save(*changed, signer=actor)
    return count, len(changed)


def parse_reference(reference: str) -> tuple[UUID, str | None]:
    """ENCOUNTER or ENCOUNTER:ENTRY, as `chart add` prints them."""
    encounter, _, entry = reference.strip().partition(":")
    try:
        return UUID(encounter), (str(UUID(entry)) if entry else None)
    except ValueError:
        raise UsageError(
            f"'{reference}' is not a chart reference: give ENCOUNTER or ENCOUNTER:ENTRY."
        ) from None


def resolve(
    ledger: Ledger,
    reference: str,
    kind: str,
    *,
    reason: str,
    now: datetime,
    actor: Identity,
    rules: CompletionRules | None = None,
) -> str:
    """Close one open deficiency by hand: 'completed' if the chart now satisfies it, else
    'waived' (HIM director only). Returns which."""
    acting = ledger.authenticate(actor)
    require(may_track_completion(acting.roles))
    if kind not in DEFICIENCIES:
        raise UsageError(f"The deficiency must be one of: {', '.join(DEFICIENCIES)}.")
    if not reason.strip():
        raise UsageError("Give the reason the deficiency is resolved.")
    encounter_id, entry = parse_reference(reference)
    key = kind if entry is None else f"{kind}:{encounter_id}:{entry}"
    try:
        register = cast(EncounterCompletion, ledger.repository.get(completion_id(encounter_id)))
    except AggregateNotFoundError:
        register = None
    if register is None or key not in register.open:
        raise UsageError(
            f"There is no open {kind} deficiency recorded for {reference.strip()} "
            "('deficiency scan' records new ones)."
        )
    encounter = ledger.encounter(encounter_id)
    documents = ledger.chart_index().document_kinds_by_encounter().get(encounter.id, [])
    physicians = {u.name for u in ledger.users() if "physician" in u.roles}
    facts = _facts(encounter, documents, physicians, None)
    in_force = rules or current_completion_rules(ledger)
    if key in {d.key for d in deficiencies(facts, now=now, rules=in_force)}:
        require(may_waive(acting.roles))
        register.trigger_event(
            EncounterCompletion.Waived, key=key, reason=reason.strip(), actor=actor.name
        )
        outcome = "waived"
    else:
        register.trigger_event(
            EncounterCompletion.Completed,
            key=key,
            note=reason.strip(),
            policy=f"{POLICY_VERSION}+{current_access_config(ledger).version}",
            actor=actor.name,
        )
        outcome = "completed"
    ledger.save(register, signer=actor)
    return outcome
