"""Who may see patient data, for what purpose (a first rule set; issue 4 refines it).

Pure: roles, purpose and the break-the-glass reason in, a decision with its reason and policy
version out. The ledger records the decision in the `RecordAccessed` or `AccessDenied` event it
writes before anything is shown. An empty or unknown purpose is denied.
"""

from __future__ import annotations

from collections.abc import Iterable

from policies.roles import ADMINISTRATOR, Decision

POLICY_VERSION = "access/0"

PURPOSES = frozenset(
    {
        "treatment",
        "payment",
        "operations",
        "legal",
        "patient-request",
        "research",
        "public-health",
    }
)

CLINICAL_ROLES = frozenset({"physician", "nurse"})

# Which purposes each role may declare without breaking the glass.
_ALLOWED: dict[str, frozenset[str]] = {
    "physician": frozenset({"treatment", "operations"}),
    "nurse": frozenset({"treatment", "operations"}),
    "technician": frozenset({"operations", "treatment", "payment"}),
    "coder": frozenset({"payment", "operations"}),
    "roi-specialist": frozenset({"legal", "patient-request", "payment", "public-health"}),
    "compliance-officer": frozenset({"operations", "legal"}),
    "him-director": frozenset({"operations", "legal", "payment"}),
    "interface": frozenset({"treatment", "operations"}),
}


def decide(
    roles: Iterable[str], purpose: str, *, break_glass_reason: str | None = None
) -> Decision:
    """May someone with these roles see a chart for this purpose?"""
    held = set(roles)
    if purpose not in PURPOSES:
        return Decision(False, f"'{purpose}' is not a purpose of use", POLICY_VERSION)
    if any(purpose in _ALLOWED.get(role, frozenset()) for role in held):
        return Decision(True, f"{purpose} is a purpose of the user's role", POLICY_VERSION)
    if break_glass_reason is not None:
        if not break_glass_reason.strip():
            return Decision(False, "breaking the glass needs a reason", POLICY_VERSION)
        if held & CLINICAL_ROLES:
            return Decision(True, "emergency access (break the glass), for review", POLICY_VERSION)
        return Decision(False, "only clinical roles may break the glass", POLICY_VERSION)
    if ADMINISTRATOR in held:
        return Decision(False, "administrators manage the ledger, not charts", POLICY_VERSION)
    return Decision(False, f"the user's role does not allow {purpose}", POLICY_VERSION)


AUDIT_READERS = frozenset({"compliance-officer", "him-director"})


def may_read_audit_trail(roles: Iterable[str]) -> Decision:
    """The audit trail says who looked at whom: compliance and HIM leadership read it."""
    if AUDIT_READERS & set(roles):
        return Decision(True, "compliance and HIM leadership read the audit trail", POLICY_VERSION)
    return Decision(
        False,
        "only a compliance officer or the HIM director may read the audit trail",
        POLICY_VERSION,
    )
