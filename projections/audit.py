"""The confidentiality audit trail: one row per patient per access, change or disclosure.

(Issue 4; being built.) `AuditRow` is the contract between the audit view, the monitoring rules
and the CLI: every field of ASTM E2147 / ONC 170.210(e) (date and time, patient, user, action,
category of data) plus what the access policy decided, and the event id that `chartledger prove`
takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

ACTIONS = ("create", "query", "change", "print", "copy", "disclose")


@dataclass(frozen=True)
class AuditRow:
    """One line of the audit trail."""

    position: int
    """The notification id of the event (orders the trail)."""
    event: str
    """`ORIGINATOR_ID/VERSION`, as `chartledger prove` takes it."""
    recorded_at: datetime
    """When it happened (the event's timestamp, UTC)."""
    mrn: str
    actor: str
    action: str
    """One of ACTIONS."""
    categories: tuple[str, ...]
    """Category of data: the chart sections shown, changed or disclosed."""
    outcome: str
    """"granted" or "denied" (changes and disclosures are "granted")."""
    purpose: str | None
    break_glass_reason: str | None
    policy_version: str | None
    decision: str | None
    """The policy's reason, as recorded."""
    relationship: str | None
    """The treatment relationship found (attending, care-team, recent-encounter), if any."""
    recipient: str | None = None
    """For a disclosure: to whom."""
