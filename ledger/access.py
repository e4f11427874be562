"""Reads are events: every showing of patient data is recorded first (DESIGN.md section 3).

Each access is an aggregate of its own (one event, never contended), so a busy chart's readers
never conflict with its writers or with each other. The events name patients by MRN and
aggregate id only; they are not encrypted, so the audit trail outlives a patient's data key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import uuid4

from eventsourcing.domain import Aggregate

from policies.access import AccessDecision

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.keys import Identity


class Access(Aggregate):
    """One attempt to see patient data: granted or denied, with the policy's decision."""

    TOPIC = "chartledger/access"

    class Created(Aggregate.Created):
        TOPIC = "chartledger/access/created"

    class RecordAccessed(Aggregate.Created):
        TOPIC = "chartledger/access/record-accessed"
        actor: str
        mrns: list[str]
        action: str
        sections: list[str]
        purpose: str
        break_glass_reason: str | None
        decision: str
        policy_version: str
        relationship: str | None
        """The treatment relationship the policy found (absent in events before access/1)."""
        flagged: bool
        """Allowed but for review: break-the-glass, a VIP's or a co-worker's record."""

    class AccessDenied(Aggregate.Created):
        TOPIC = "chartledger/access/access-denied"
        actor: str
        mrns: list[str]
        action: str
        sections: list[str]
        purpose: str
        break_glass_reason: str | None
        decision: str
        policy_version: str
        relationship: str | None
        """The treatment relationship the policy found (absent in events before access/1)."""
        flagged: bool
        """Allowed but for review: break-the-glass, a VIP's or a co-worker's record."""

    def __init__(
        self,
        actor: str,
        mrns: list[str],
        action: str,
        sections: list[str],
        purpose: str,
        break_glass_reason: str | None,
        decision: str,
        policy_version: str,
        relationship: str | None = None,
        flagged: bool = False,
    ) -> None:
        self.facts: dict[str, Any] = {
            "actor": actor,
            "mrns": list(mrns),
            "action": action,
            "sections": list(sections),
            "purpose": purpose,
            "break_glass_reason": break_glass_reason,
            "decision": decision,
            "policy_version": policy_version,
            "relationship": relationship,
            "flagged": flagged,
        }

    @classmethod
    def granted(cls, **facts: Any) -> Access:
        return cls._create(cls.RecordAccessed, id=uuid4(), **facts)

    @classmethod
    def denied(cls, **facts: Any) -> Access:
        return cls._create(cls.AccessDenied, id=uuid4(), **facts)

    @classmethod
    def decided(
        cls,
        decision: AccessDecision,
        *,
        actor: str,
        mrns: list[str],
        action: str,
        sections: list[str],
        purpose: str,
        break_glass_reason: str | None = None,
        granted: bool | None = None,
        flagged: bool | None = None,
    ) -> Access:
        """The event that records a policy's decision on an access: granted if it allowed it
        (unless `granted` says otherwise), with its reason, version and relationship."""
        facts = {
            "actor": actor,
            "mrns": list(mrns),
            "action": action,
            "sections": list(sections),
            "purpose": purpose,
            "break_glass_reason": break_glass_reason,
            "decision": decision.reason,
            "policy_version": decision.policy_version,
            "relationship": decision.relationship if len(mrns) == 1 else None,
            "flagged": decision.flagged if flagged is None else flagged,
        }
        allowed = decision.allowed if granted is None else granted
        return cls.granted(**facts) if allowed else cls.denied(**facts)


T = TypeVar("T")


class Shown(list[T]):
    """The rows a reader may see, and how many the policy withheld from them."""

    def __init__(self, rows: Iterable[T], *, withheld: int = 0) -> None:
        super().__init__(rows)
        self.withheld = withheld

    def withheld_line(self, what: str = "line") -> str | None:
        """The sentence a listing prints under its rows when some were left out."""
        if not self.withheld:
            return None
        plural = "" if self.withheld == 1 else "s"
        return (
            f"{self.withheld} {what}{plural} withheld: the access policy does not show them to you."
        )


@dataclass(frozen=True)
class Listed:
    """What a list may show: the MRNs the reader may see, and those withheld from them."""

    shown: frozenset[str]
    withheld: frozenset[str]

    def allows(self, mrn: str) -> bool:
        return mrn.strip().upper() in self.shown


def record_listed(
    ledger: Ledger,
    mrns: Iterable[str],
    *,
    actor: Identity,
    action: str = "query",
    section: str,
    purpose: str = "operations",
    now: datetime | None = None,
) -> Listed:
    """Record a list that names patients before it is shown, deciding row by row.

    One `RecordAccessed` names the MRNs the reader may see; one `AccessDenied` the MRNs the
    policy withholds from them (saved together, so both or neither). A refusal of the reader
    (not of one row) is recorded and raised, as `record_access` does. One restricted row never
    blocks the list: it is left out, and the caller says how many were.
    """
    from ledger.access_policy import current_access_config
    from ledger.errors import AccessDenied
    from policies import access as policy

    acting = ledger.authenticate(actor)
    config = current_access_config(ledger)
    moment = now or datetime.now(UTC)
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
        relationship = None
        if purpose == "treatment" or mrn in config.restricted:
            relationship = ledger.relationship_to(
                mrn,
                actor.name,
                now=moment,
                window_days=config.window_days,
                restricted=mrn in config.restricted,
            )
        decision = policy.decide(
            acting.roles,
            purpose,
            actor=actor.name,
            patient=policy.PatientFacts(mrn, relationship),
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
