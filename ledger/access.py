"""Reads are events: every showing of patient data is recorded first (DESIGN.md section 3).

Each access is an aggregate of its own (one event, never contended), so a busy chart's readers
never conflict with its writers or with each other. The events name patients by MRN and
aggregate id only; they are not encrypted, so the audit trail outlives a patient's data key.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from eventsourcing.domain import Aggregate


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
