"""Chart completion, the commands: scan every chart, notify a physician, resolve a deficiency.

Each authenticates the actor, asks `policies.records` whether they may, runs the rules of
`policies.deficiency` on the charts as they are at `ledger.now()`, calls the change on each
encounter's register (`EncounterCompletion` keeps which deficiencies are
open), and saves every changed register at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from ledger.aggregates.access_policy import current_access_config, current_completion_rules
from ledger.aggregates.completion import (
    EncounterCompletion,
    encounter_facts,
    facts_of,
    parse_reference,
    register_of,
    registers,
)
from ledger.errors import UsageError, require
from ledger.reads.physician_queries import awaiting_by_encounter
from policies.deficiency import POLICY_VERSION, CompletionRules, deficiencies
from policies.records import DEFICIENCIES, NOTICE_METHODS, may_track_completion, may_waive

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.integrity.keys import Identity


@dataclass(frozen=True)
class ScanResult:
    assigned: int
    completed: int
    open: int
    encounters: int


def _policy(ledger: Ledger) -> str:
    """The rules in force, as the events record them: the deficiency rules and the loaded policy."""
    return f"{POLICY_VERSION}+{current_access_config(ledger).version}"


def scan(ledger: Ledger, *, actor: Identity) -> ScanResult:
    """Record what the rules find on every chart now, in one transaction."""
    require(may_track_completion(ledger.authenticate(actor).roles))
    now = ledger.now()
    rules = current_completion_rules(ledger)
    policy = _policy(ledger)
    known = registers(ledger)
    changed: list[EncounterCompletion] = []
    assigned = completed = still_open = 0
    for facts in encounter_facts(ledger, known, queries=awaiting_by_encounter(ledger)):
        found = {d.key: d for d in deficiencies(facts, now=now, rules=rules)}
        register = known.by_encounter.get(facts.id)
        if register is None and not found:
            continue
        if register is None:
            register = EncounterCompletion.start(
                encounter_id=UUID(facts.id), mrn=facts.mrn, actor=actor.name
            )
        for key in sorted(set(register.open) - set(found)):
            register.complete(
                key,
                note="the rules in force no longer find it missing",
                policy=policy,
                actor=actor.name,
            )
            completed += 1
        for key in sorted(set(found) - set(register.open)):
            register.assign(found[key], policy=policy, actor=actor.name)
            assigned += 1
        still_open += len(register.open)
        if register.pending_events:
            changed.append(register)
    if changed:
        ledger.save(*changed, signer=actor)
    return ScanResult(assigned, completed, still_open, len(changed))


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
        told = register.notify(physician, method=method, actor=actor.name)
        if told:
            changed.append(register)
            count += told
    if not changed:
        raise UsageError(
            f"{physician} has no open deficiencies assigned; run 'deficiency scan' first."
        )
    ledger.save(*changed, signer=actor)
    return count, len(changed)


def resolve(
    ledger: Ledger,
    reference: str,
    kind: str,
    *,
    reason: str,
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
    register = register_of(ledger, encounter_id)
    if register is None or key not in register.open:
        raise UsageError(
            f"There is no open {kind} deficiency recorded for {reference.strip()} "
            "('deficiency scan' records new ones)."
        )
    encounter = ledger.encounter(encounter_id)
    documents = ledger.chart_index().document_kinds_by_encounter().get(encounter.id, [])
    physicians = {u.name for u in ledger.users() if "physician" in u.roles}
    queries = awaiting_by_encounter(ledger).get(str(encounter.id), ())
    facts = facts_of(encounter, documents, physicians, None, queries)
    in_force = rules or current_completion_rules(ledger)
    if key in {d.key for d in deficiencies(facts, now=ledger.now(), rules=in_force)}:
        if kind == "query":
            raise UsageError(
                "A query stays open until its physician answers it or it is withdrawn "
                "('query withdraw'); it is not waived."
            )
        require(may_waive(acting.roles))
        register.waive(key, reason=reason.strip(), actor=actor.name)
        outcome = "waived"
    else:
        register.complete(key, note=reason.strip(), policy=_policy(ledger), actor=actor.name)
        outcome = "completed"
    ledger.save(register, signer=actor)
    return outcome
