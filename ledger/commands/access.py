"""The access gate: every read that shows patient data records its access here first.

`record_access` decides a read of whole records (a chart, a document, a release) for every MRN
it names and records one event: granted, or denied and then raised. `record_shown` decides a
list that names patients row by row and records what is shown and what is withheld, so one
restricted row never blocks the list. Both authenticate the reader, read the clock once
(`Ledger.now`) and ask `policies.access`. `record_refusal` records a read that a rule of its own
(who may read a stay's coding) refused before the access policy was asked. `relationship_to`
is the treatment relationship that policy weighs, from the patient's encounters. The events
are `ledger.aggregates.access.Access`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, NoReturn

from ledger.aggregates.access import Access, Listed
from ledger.aggregates.access_policy import current_access_config
from ledger.errors import AccessDenied, PatientNotFound
from policies import access as policy
from policies.access import AccessConfig, AccessDecision
from policies.roles import Decision

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.integrity.keys import Identity


def record_access(
    ledger: Ledger,
    mrns: list[str],
    *,
    actor: Identity,
    action: str,
    sections: list[str],
    purpose: str,
    break_glass_reason: str | None = None,
    demographics_alone: bool = False,
) -> AccessDecision:
    """Record an access before anything is shown; a refusal is recorded, then raised.

    The relationship is found from each patient's encounters when the rule needs it (treatment,
    or a restricted record). `demographics_alone`: the caller shows only the returned decision's
    sections (`policies.access.decide`), the ones recorded: those allowed for every MRN.
    """
    acting = ledger.authenticate(actor)
    config = current_access_config(ledger)
    now = ledger.now()
    wanted = sorted({m.strip().upper() for m in mrns})
    decisions = [
        policy.decide(
            acting.roles,
            purpose,
            break_glass_reason=break_glass_reason,
            actor=actor.name,
            patient=policy.PatientFacts(
                mrn, _relationship(ledger, mrn, actor.name, purpose, config, now=now)
            ),
            sections=sections,
            config=config,
            demographics_alone=demographics_alone,
        )
        for mrn in wanted
    ]
    if not decisions:
        decisions.append(
            policy.decide(
                acting.roles,
                purpose,
                break_glass_reason=break_glass_reason,
                actor=actor.name,
                sections=sections,
                config=config,
            )
        )
    decision = next((d for d in decisions if not d.allowed), decisions[0])
    if decision.allowed:  # a restricted row may have been cut to its demographics
        common = [s for s in decision.sections if all(s in d.sections for d in decisions)]
        decision = replace(decision, sections=tuple(common))
    record = Access.decided(
        decision,
        actor=actor.name,
        mrns=wanted,
        action=action,
        sections=list(decision.sections if decision.allowed else sections),
        purpose=purpose,
        break_glass_reason=break_glass_reason,
        flagged=any(d.flagged for d in decisions),
    )
    ledger.save(record, signer=actor)
    if not decision.allowed:
        raise AccessDenied(f"Access refused: {decision.reason}.")
    return decision


def record_shown(
    ledger: Ledger,
    mrns: Iterable[str],
    *,
    actor: Identity,
    section: str,
    action: str = "query",
    purpose: str = "operations",
) -> Listed:
    """Record a list that names patients before it is shown, deciding row by row (the lists of
    the audit trail, alerts, locations, deficiencies, discrepancies, the release queue).

    One `RecordAccessed` names the MRNs the reader may see; one `AccessDenied` the MRNs the
    policy withholds from them (saved together, so both or neither). A refusal of the reader
    (not of one row) is recorded and raised, as `record_access` does. The caller shows only
    the MRNs `Listed.allows`, and says how many it left out.
    """
    acting = ledger.authenticate(actor)
    config = current_access_config(ledger)
    now = ledger.now()
    wanted = sorted({m.strip().upper() for m in mrns})
    sections = [section]
    general = policy.decide(
        acting.roles, purpose, actor=actor.name, sections=sections, config=config
    )
    if not general.allowed:
        refusal = _record(actor, wanted, action, sections, purpose, general, False, False)
        ledger.save(refusal, signer=actor)
        raise AccessDenied(f"Access refused: {general.reason}.")
    shown: dict[str, AccessDecision] = {}
    withheld: dict[str, AccessDecision] = {}
    for mrn in wanted:
        decision = policy.decide(
            acting.roles,
            purpose,
            actor=actor.name,
            patient=policy.PatientFacts(
                mrn, _relationship(ledger, mrn, actor.name, purpose, config, now=now)
            ),
            sections=sections,
            config=config,
        )
        (shown if decision.allowed else withheld)[mrn] = decision
    records = []
    if shown or not withheld:
        first = next(iter(shown.values()), general)
        flagged = any(d.flagged for d in shown.values())
        records.append(
            _record(actor, sorted(shown), action, sections, purpose, first, True, flagged)
        )
    if withheld:
        first = next(iter(withheld.values()))
        records.append(
            _record(actor, sorted(withheld), action, sections, purpose, first, False, False)
        )
    ledger.save(*records, signer=actor)
    return Listed(frozenset(shown), frozenset(withheld))


def record_refusal(
    ledger: Ledger,
    mrns: list[str],
    *,
    actor: Identity,
    action: str,
    sections: list[str],
    purpose: str,
    refusal: Decision,
) -> NoReturn:
    """Record a read that a rule of its own refused before the access policy was asked (who
    may read a stay's coding, `policies.coding`), then raise: every refusal is in the trail."""
    ledger.authenticate(actor)  # a refusal is recorded for a real user only
    config = current_access_config(ledger)
    decision = AccessDecision(
        False, refusal.reason, f"{refusal.policy_version}+{config.policy_version}"
    )
    record = _record(
        actor, sorted({m.strip().upper() for m in mrns}), action, sections, purpose, decision,
        False, False,
    )  # fmt: skip
    ledger.save(record, signer=actor)
    raise AccessDenied(f"Access refused: {refusal.reason}.")


def relationship_to(
    ledger: Ledger,
    mrn: str,
    actor: str,
    *,
    now: datetime,
    window_days: int,
    restricted: bool = False,
) -> str | None:
    """The reader's treatment relationship to a patient, from the patient's encounters (for
    a restricted patient, an encounter the reader made themself attending of is no close
    relationship)."""
    from ledger.reads import charts  # the chart's reads (which record nothing themselves)

    try:
        encounters = charts.encounters(ledger, mrn)
    except PatientNotFound:
        return None
    return policy.treatment_relationship(
        actor,
        [
            policy.EncounterFacts(
                attending=e.attending,
                care_team=e.care_team,
                admitted_at=e.admitted_at,
                discharged_at=e.discharged_at,
                self_assigned=e.self_assigned,
            )
            for e in encounters
        ],
        now=now,
        window_days=window_days,
        restricted=restricted,
    )


def _relationship(
    ledger: Ledger, mrn: str, actor: str, purpose: str, config: AccessConfig, *, now: datetime
) -> str | None:
    """The relationship the policy needs to weigh (treatment, or a restricted record), else
    None without reading the patient's encounters."""
    if purpose != "treatment" and mrn not in config.restricted:
        return None
    restricted = mrn in config.restricted
    return relationship_to(
        ledger, mrn, actor, now=now, window_days=config.window_days, restricted=restricted
    )


def _record(
    actor: Identity,
    mrns: list[str],
    action: str,
    sections: list[str],
    purpose: str,
    decision: AccessDecision,
    granted: bool,
    flagged: bool,
) -> Access:
    return Access.decided(
        decision,
        actor=actor.name,
        mrns=mrns,
        action=action,
        sections=sections,
        purpose=purpose,
        granted=granted,
        flagged=flagged,
    )
