"""Reads are events: every showing of patient data is recorded first (DESIGN.md section 3).

Each access is an aggregate of its own (one event, never contended), so a busy chart's readers
never conflict with its writers or with each other. The events name patients by MRN and
aggregate id only; they are not encrypted, so the audit trail outlives a patient's data key.
They are recorded by the one access gate, `ledger.commands.access`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import uuid4

from eventsourcing.domain import Aggregate

from policies.access import AccessDecision


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
