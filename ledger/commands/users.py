"""The identity commands: invite, enrol, reinstate, rotate and revoke a key.

An administrator invites a person (roles and the hash of a one-time code); the person enrols
their own key with the code, where they work; rotation is by the key's owner only; a revoked
user comes back only by reinstatement and a new key (decisions §22). Each command authenticates
the actor (enrolment is signed by the new key itself), asks `policies.roles`, loads the `User`
(which keeps its own invariants) and saves once. The clock is `Ledger.now`. The genesis is
`Ledger.create`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from ledger.aggregates.user import User, check_user_name, new_enrolment_code
from ledger.errors import NotFound, UsageError, require
from ledger.verifier.identities import KEY_PROTECTIONS, code_hash, user_id
from ledger.verifier.public_keys import fingerprint, public_key_from_raw
from policies.roles import may_manage_identities, may_rotate_key, unknown_roles

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.integrity.keys import Identity

INVITATION_VALIDITY = timedelta(hours=72)
"""How long an enrolment code can be used by default."""


def invite(
    ledger: Ledger,
    name: str,
    roles: list[str],
    *,
    actor: Identity,
    valid_for: timedelta = INVITATION_VALIDITY,
) -> str:
    """Invite a person or interface with ROLES; returns the one-time code (never stored).

    The person enrols their own key with it (`enrol`), where they work: the administrator
    never holds or chooses it."""
    acting = ledger.authenticate(actor)
    require(may_manage_identities(acting.roles))
    check_user_name(name)
    bad = unknown_roles(roles)
    if bad or not roles:
        raise UsageError(f"Unknown role '{bad[0] if bad else ''}'; see 'chartledger user roles'.")
    _check_validity(valid_for)
    if user_id(name) in ledger.repository:
        raise UsageError(f"There is already a user named '{name}'.")
    code = new_enrolment_code()
    expires = ledger.now() + valid_for
    user = User.invite(name, roles, code_hash(user_id(name), code), expires, actor=actor.name)
    ledger.save(user, signer=actor)
    return code


def enrol(ledger: Ledger, identity: Identity, code: str, *, key_protection: str) -> User:
    """Register `identity`'s public key for the invited user of that name, signed by the key
    itself (proof of possession) and revealing the invitation's code (which it uses up)."""
    if key_protection not in KEY_PROTECTIONS:
        raise UsageError("The key protection must be 'passphrase' or 'none'.")
    name = identity.name
    try:
        user = ledger.user(name)
    except NotFound:
        raise NotFound(f"There is no invitation for a user named '{name}'.") from None
    user.enrol(identity.public_raw, code, key_protection, now=ledger.now())
    if fingerprint(identity.public_raw) in ledger.merkle_log.registry().keys:
        raise UsageError("That key already belongs to the ledger; generate a new one.")
    ledger.save(user, signer=identity)
    return user


def reinstate(
    ledger: Ledger,
    name: str,
    reason: str,
    *,
    actor: Identity,
    valid_for: timedelta = INVITATION_VALIDITY,
) -> str:
    """Let a revoked user enrol again, with a new key; returns the one-time code."""
    acting = ledger.authenticate(actor)
    require(may_manage_identities(acting.roles))
    if not reason.strip():
        raise UsageError("Give a reason for the reinstatement.")
    _check_validity(valid_for)
    user = ledger.user(name)
    code = new_enrolment_code()
    user.reinstate(reason, code_hash(user.id, code), ledger.now() + valid_for, actor=actor.name)
    ledger.save(user, signer=actor)
    return code


def rotate_key(ledger: Ledger, name: str, public_key: bytes, *, actor: Identity) -> None:
    """Replace the actor's own key (signed by their current key); events signed with the old
    key from here on are invalid. Nobody rotates another's key."""
    acting = ledger.authenticate(actor)
    require(may_rotate_key(acting.roles, actor=actor.name, subject=name))
    public_key_from_raw(public_key)
    if fingerprint(public_key) in ledger.merkle_log.registry().keys or public_key in (
        acting.public_key,
        *acting.past_keys,
    ):
        raise UsageError("A key can be used once only; generate a new one.")
    acting.rotate_key(public_key, actor=actor.name)
    ledger.save(acting, signer=actor)


def revoke_key(ledger: Ledger, name: str, reason: str, *, actor: Identity) -> None:
    """Withdraw a user's current key (for example when it is lost or the user leaves)."""
    acting = ledger.authenticate(actor)
    require(may_manage_identities(acting.roles))
    if not reason.strip():
        raise UsageError("Give a reason for the revocation.")
    user = ledger.user(name)
    if name == actor.name:
        raise UsageError("An administrator cannot revoke their own key; ask another one.")
    user.revoke_key(reason, actor=actor.name)
    ledger.save(user, signer=actor)


def _check_validity(valid_for: timedelta) -> None:
    if not timedelta(0) < valid_for <= timedelta(days=30):
        raise UsageError("An enrolment code is valid for more than 0 and at most 720 hours.")
