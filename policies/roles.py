"""Roles a user can hold, and who may manage identities. Pure: plain inputs, a decision out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

POLICY_VERSION = "roles/2"

ADMINISTRATOR = "administrator"
NODE = "node"
INTERFACE = "interface"

ROLES = frozenset(
    {
        "technician",
        "coder",
        "physician",
        "nurse",
        "roi-specialist",
        "compliance-officer",
        "him-director",
        ADMINISTRATOR,
        INTERFACE,
    }
)
"""Roles a person or interface can be given; `node` is the ledger's own and is never given."""


@dataclass(frozen=True)
class Decision:
    """A yes or no with the reason and the policy version that gave it."""

    allowed: bool
    reason: str
    policy_version: str = POLICY_VERSION


def unknown_roles(roles: Iterable[str]) -> list[str]:
    """The roles in `roles` that the ledger does not know, in the order given."""
    return [role for role in roles if role not in ROLES]


def may_manage_identities(actor_roles: Iterable[str]) -> Decision:
    """Only an administrator invites users, revokes keys and reinstates revoked users."""
    if ADMINISTRATOR in set(actor_roles):
        return Decision(True, "administrators manage identities")
    return Decision(False, "only an administrator may manage users and keys")


def may_rotate_key(actor_roles: Iterable[str], *, actor: str, subject: str) -> Decision:
    """Only a user replaces their own key, made where they work: nobody else, an administrator
    included, may hold or choose it (a lost key is revoked, and the user reinstated)."""
    if actor == subject:
        return Decision(True, "a user may rotate their own key")
    return Decision(
        False,
        "only a user may rotate their own key; an administrator revokes it and reinstates them",
    )


INDEX_ROLES = frozenset({"technician", "him-director", "interface"})


def may_maintain_index(actor_roles: Iterable[str]) -> Decision:
    """Registering, correcting and merging patients is health-information work."""
    if INDEX_ROLES & set(actor_roles):
        return Decision(True, "health information staff maintain the patient index")
    return Decision(False, "only technicians, the HIM director or an interface maintain the index")


def may_import_records(actor_roles: Iterable[str]) -> Decision:
    """Only an interface user imports: what it imports is signed as its own, so a person's key
    never vouches for records that person did not write."""
    if INTERFACE in set(actor_roles):
        return Decision(True, "an interface imports records from other systems")
    return Decision(
        False, "only an interface user may import records (what it imports is signed as theirs)"
    )


VERIFICATION_ROLES = frozenset({ADMINISTRATOR, "compliance-officer", "him-director"})


def may_record_verification(actor_roles: Iterable[str]) -> Decision:
    """A recorded verification is an attestation the next `verify --since-last` builds on:
    only those who answer for the ledger's integrity sign one."""
    if VERIFICATION_ROLES & set(actor_roles):
        return Decision(True, "those who answer for the ledger's integrity record verifications")
    return Decision(
        False,
        "only an administrator, a compliance officer or the HIM director may record a verification",
    )
