"""Which key was valid for which signer at which position of the log (DESIGN.md section 6).

The registry is rebuilt by replaying `User` events in log order, so a key's validity is defined by
position, not by wall-clock time: an event signed by a key that was rotated out or revoked earlier
in the log is invalid. The first event of a ledger (the genesis) is the self-signed registration
of its first administrator; its fingerprint is the trust anchor.

Every rule about who may change which key lives here, so that the Merkle log (on entry) and
`verify` (from the events alone, also offline) apply exactly the same ones:

- a `Registered` after the genesis only for the node's key, signed by an administrator;
- `Invited` and `Reinstated` only by an administrator's valid key; they open an invitation that
  stores the SHA-256 of a one-time code salted with the user id, and an expiry;
- `Enrolled` only signed by the very key it enrols (proof of possession), revealing the code of
  the user's open invitation before it expires; the invitation is then used up;
- `KeyRotated` only by the subject's own valid key (a revoked key is valid for nothing);
- `KeyRevoked` only by an administrator's valid key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Any
from uuid import UUID

from ledger.errors import IntegrityViolation, Where
from ledger.verifier.identities import (
    ENROLLED,
    INVITED,
    KEY_PROTECTIONS,
    KEY_REVOKED,
    KEY_ROTATED,
    KEY_TOPICS,
    NODE_USER,
    REGISTERED,
    REINSTATED,
    code_hash,
    user_id,
)
from ledger.verifier.public_keys import fingerprint
from policies.roles import ADMINISTRATOR, NODE, may_manage_identities, may_rotate_key


@dataclass
class KeyRecord:
    """One public key the ledger has known, forever."""

    fingerprint: bytes
    public_key: bytes
    user: str
    user_id: UUID
    roles: list[str]
    valid_from: int
    revoked_at: int | None = None

    def valid_at(self, position: int) -> bool:
        """From `valid_from` (inclusive) to `revoked_at` (exclusive), the one rule of
        docs/format.md section 3: a rotation at p ends the old key at p + 1, a revocation at p."""
        return self.valid_from <= position and (
            self.revoked_at is None or position < self.revoked_at
        )


def end_rotated_keys_exclusively(records: list[KeyRecord]) -> list[KeyRecord]:
    """Read key records written under the older rule, where a rotation at p set the old key's
    `revoked_at` to p although that key signed p (an inclusive bound), under today's exclusive
    one: p + 1. A rotation's new key starts at p + 1, while a key after a revocation at p starts
    at p + 2 at the earliest (reinstatement, then enrolment), so the two are told apart by the
    user's next key; records already under the exclusive rule are left as they are."""
    by_user: dict[UUID, list[KeyRecord]] = {}
    for record in records:
        by_user.setdefault(record.user_id, []).append(record)
    for keys in by_user.values():
        keys.sort(key=lambda r: r.valid_from)
        for old, new in pairwise(keys):
            if old.revoked_at is not None and old.revoked_at + 1 == new.valid_from:
                old.revoked_at = new.valid_from
    return records


@dataclass
class Invitation:
    """The latest invitation (or reinstatement) of a user: open until its code is used."""

    user_id: UUID
    user: str
    roles: list[str]
    code_hash: bytes
    expires: datetime
    opened_at: int
    used_at: int | None = None

    @property
    def open(self) -> bool:
        return self.used_at is None


@dataclass
class KeyRegistry:
    """Keys by fingerprint, and each user's current key, as of the last event applied."""

    keys: dict[bytes, KeyRecord] = field(default_factory=dict)
    current: dict[UUID, bytes] = field(default_factory=dict)
    genesis: bytes | None = None
    invitations: dict[UUID, Invitation] = field(default_factory=dict)

    @classmethod
    def from_records(
        cls,
        records: list[KeyRecord],
        genesis: bytes | None,
        invitations: list[Invitation] | None = None,
    ) -> KeyRegistry:
        registry = cls(genesis=genesis)
        for record in sorted(end_rotated_keys_exclusively(records), key=lambda r: r.valid_from):
            registry.keys[record.fingerprint] = record
            registry.current[record.user_id] = record.fingerprint
        for invitation in invitations or []:
            registry.invitations[invitation.user_id] = invitation
        return registry

    def to_state(self) -> dict[str, Any]:
        """The registry as plain values (hex, ISO dates), for a signed fact to carry: what a
        verification resumed from there needs, without replaying the log before it."""
        return {
            "genesis": self.genesis.hex() if self.genesis is not None else None,
            "keys": [
                [
                    r.fingerprint.hex(),
                    r.public_key.hex(),
                    r.user,
                    str(r.user_id),
                    list(r.roles),
                    r.valid_from,
                    r.revoked_at,
                ]
                for r in self.keys.values()
            ],
            "invitations": [
                [
                    str(i.user_id),
                    i.user,
                    list(i.roles),
                    i.code_hash.hex(),
                    i.expires.isoformat(),
                    i.opened_at,
                    i.used_at,
                ]
                for i in self.invitations.values()
            ],
            "current": [[str(uid), fp.hex()] for uid, fp in self.current.items()],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> KeyRegistry:
        """The registry `to_state` wrote (ValueError, KeyError or TypeError if it is not one)."""
        records = [
            KeyRecord(
                fingerprint=bytes.fromhex(f),
                public_key=bytes.fromhex(k),
                user=str(user),
                user_id=UUID(uid),
                roles=[str(role) for role in roles],
                valid_from=int(start),
                revoked_at=None if end is None else int(end),
            )
            for f, k, user, uid, roles, start, end in state["keys"]
        ]
        invitations = [
            Invitation(
                user_id=UUID(uid),
                user=str(user),
                roles=[str(role) for role in roles],
                code_hash=bytes.fromhex(code),
                expires=datetime.fromisoformat(expires),
                opened_at=int(opened),
                used_at=None if used is None else int(used),
            )
            for uid, user, roles, code, expires, opened, used in state["invitations"]
        ]
        genesis = state["genesis"]
        registry = cls(genesis=None if genesis is None else bytes.fromhex(genesis))
        for record in records:
            registry.keys[record.fingerprint] = record
        for uid, fp in state["current"]:
            registry.current[UUID(uid)] = bytes.fromhex(fp)
        for invitation in invitations:
            registry.invitations[invitation.user_id] = invitation
        return registry

    def signing_key(
        self,
        *,
        position: int,
        originator_id: UUID,
        originator_version: int,
        topic: str,
        signer: bytes,
        body: dict[str, Any] | None,
    ) -> bytes:
        """The raw public key that must have signed this event, or `IntegrityViolation`."""
        if self.genesis is not None and topic not in KEY_TOPICS:
            # The common case, kept cheap: an ordinary event by a key valid at this position.
            known = self.keys.get(signer)
            if known is not None and known.valid_at(position):
                return known.public_key
        where: Where = {
            "position": position,
            "originator_id": originator_id,
            "originator_version": originator_version,
        }
        if self.genesis is None:
            if topic != REGISTERED or body is None:
                raise IntegrityViolation(
                    "genesis", "the first event of the log is not a user registration", **where
                )
            _require_fields(
                topic,
                body,
                position=position,
                originator_id=originator_id,
                originator_version=originator_version,
            )
            if fingerprint(body["public_key"]) != signer:
                raise IntegrityViolation(
                    "genesis", "the first user registration is not signed by its own key", **where
                )
            if ADMINISTRATOR not in body["roles"]:
                raise IntegrityViolation(
                    "genesis", "the first user registered is not an administrator", **where
                )
            return bytes(body["public_key"])
        if topic == ENROLLED and body is not None:
            return self._enrolment_key(originator_id, signer, body, where)
        record = self.keys.get(signer)
        if record is None:
            raise IntegrityViolation(
                "signer", f"signed by an unknown key {signer.hex()[:16]}…", **where
            )
        if not record.valid_at(position):
            when = "revoked or replaced" if record.revoked_at is not None else "not yet valid"
            raise IntegrityViolation(
                "signer",
                f"signed by {record.user}'s key {signer.hex()[:16]}…, which was {when} "
                f"at that point of the log",
                **where,
            )
        if topic in KEY_TOPICS:
            self._check_key_change(record, topic, originator_id, body, where)
        return record.public_key

    def _enrolment_key(
        self, originator_id: UUID, signer: bytes, body: dict[str, Any], where: Where
    ) -> bytes:
        """An enrolment is signed by the key it enrols (proof of possession); what it claims
        is checked once that signature is (`_check_enrolment`, from `apply`), so that a changed
        body is named as a bad signature."""
        _require_fields(ENROLLED, body, **where)
        public_key = bytes(body["public_key"])
        if fingerprint(public_key) != signer:
            if signer in self.keys:  # a known key signed someone else's enrolment
                raise IntegrityViolation(
                    "enrolment",
                    f"the enrolment is not signed by the key it enrols but by "
                    f"{self.keys[signer].user}'s",
                    **where,
                )
            raise IntegrityViolation(
                "signature",
                "the enrolment's key is not the one that signed it: its body was changed",
                **where,
            )
        return public_key

    def _check_enrolment(self, originator_id: UUID, body: dict[str, Any], where: Where) -> None:
        """An enrolment reveals the code of the user's open invitation before it expires."""
        signer = fingerprint(bytes(body["public_key"]))
        invitation = self.invitations.get(originator_id)
        if invitation is None:
            raise IntegrityViolation(
                "enrolment", "the enrolment answers no invitation of this user", **where
            )
        if not invitation.open:
            raise IntegrityViolation(
                "enrolment",
                f"the enrolment code of {invitation.user} was already used "
                f"(at log position {invitation.used_at})",
                **where,
            )
        if code_hash(originator_id, str(body["code"])) != invitation.code_hash:
            raise IntegrityViolation(
                "enrolment",
                f"the enrolment code does not match the invitation of {invitation.user}",
                **where,
            )
        stamp = body.get("timestamp")
        if not isinstance(stamp, datetime) or stamp > invitation.expires:
            raise IntegrityViolation(
                "enrolment", f"the invitation of {invitation.user} had expired", **where
            )
        if signer in self.keys:
            raise IntegrityViolation(
                "enrolment", "the enrolled key already belongs to the ledger", **where
            )

    def _check_key_change(
        self,
        record: KeyRecord,
        topic: str,
        originator_id: UUID,
        body: dict[str, Any] | None,
        where: Where,
    ) -> None:
        """Who may sign which key event (the signer's key is known and valid here)."""
        subject = self._subject_name(originator_id, body)
        if topic == KEY_ROTATED:
            decision = may_rotate_key(record.roles, actor=record.user, subject=subject)
            if record.user_id != originator_id or not decision.allowed:
                raise IntegrityViolation(
                    "authority",
                    f"{record.user} signed a rotation of {subject}'s key: {decision.reason}",
                    **where,
                )
            if body is not None:
                _require_fields(topic, body, **where)  # a garbled body is named, never a KeyError
            if body is not None and fingerprint(bytes(body["public_key"])) in self.keys:
                raise IntegrityViolation(
                    "authority", "the rotation names a key the ledger already knew", **where
                )
            return
        decision = may_manage_identities(record.roles)
        if not decision.allowed:
            raise IntegrityViolation(
                "authority", f"{record.user} signed a key change: {decision.reason}", **where
            )
        if body is not None:
            _require_fields(topic, body, **where)
        if topic == REGISTERED:
            if body is None or body.get("name") != NODE_USER or list(body["roles"]) != [NODE]:
                raise IntegrityViolation(
                    "registration",
                    "after the genesis only the node's key is registered directly; a person "
                    "is invited and enrols their own key",
                    **where,
                )
            if originator_id != user_id(NODE_USER) or originator_id in self.current:
                raise IntegrityViolation(
                    "registration", "the node's key is registered once, under its own id", **where
                )
        elif topic == INVITED:
            if body is None or originator_id != user_id(str(body["name"])):
                raise IntegrityViolation(
                    "registration", "the invitation is not filed under its user's id", **where
                )
            if originator_id in self.current or originator_id in self.invitations:
                raise IntegrityViolation(
                    "registration", f"{subject} was invited or enrolled before", **where
                )
        elif topic == REINSTATED:
            current = self.current.get(originator_id)
            if current is None or self.keys[current].revoked_at is None:
                raise IntegrityViolation(
                    "reinstatement", f"{subject} is not a revoked user", **where
                )
            pending = self.invitations.get(originator_id)
            if pending is not None and pending.open:
                raise IntegrityViolation(
                    "reinstatement", f"{subject} already has an open invitation", **where
                )
        elif topic == KEY_REVOKED and originator_id not in self.current:
            raise IntegrityViolation("authority", f"{subject} has no key to revoke", **where)
        elif topic == KEY_REVOKED and record.user_id == originator_id:
            # The key would end before the event it signed (format.md section 3).
            raise IntegrityViolation(
                "authority", f"{record.user} signed the revocation of their own key", **where
            )

    def apply(
        self,
        *,
        position: int,
        originator_id: UUID,
        topic: str,
        body: dict[str, Any],
        originator_version: int | None = None,
    ) -> list[KeyRecord | Invitation]:
        """Record the effect of a key event whose signature verified; returns the records it
        changed. An enrolment's claims are checked here, after its signature."""
        where: Where = {
            "position": position,
            "originator_id": originator_id,
            "originator_version": originator_version,
        }
        _require_fields(topic, body, **where)
        changed: list[KeyRecord | Invitation] = []
        if topic in (INVITED, REINSTATED):
            if topic == INVITED:
                name, roles = str(body["name"]), list(body["roles"])
            else:
                previous = self.keys[self.current[originator_id]]
                name, roles = previous.user, list(previous.roles)
            invitation = Invitation(
                user_id=originator_id,
                user=name,
                roles=roles,
                code_hash=bytes(body["code_hash"]),
                expires=body["expires"],
                opened_at=position,
            )
            self.invitations[originator_id] = invitation
            changed.append(invitation)
        elif topic == ENROLLED:
            self._check_enrolment(originator_id, body, where)
            invitation = self.invitations[originator_id]
            invitation.used_at = position
            record = KeyRecord(
                fingerprint=fingerprint(body["public_key"]),
                public_key=bytes(body["public_key"]),
                user=invitation.user,
                user_id=originator_id,
                roles=list(invitation.roles),
                valid_from=position,
            )
            self.keys[record.fingerprint] = record
            self.current[originator_id] = record.fingerprint
            changed += [invitation, record]
        elif topic == REGISTERED:
            record = KeyRecord(
                fingerprint=fingerprint(body["public_key"]),
                public_key=bytes(body["public_key"]),
                user=str(body["name"]),
                user_id=originator_id,
                roles=list(body["roles"]),
                valid_from=position,
            )
            if self.genesis is None:
                self.genesis = record.fingerprint
            self.keys[record.fingerprint] = record
            self.current[originator_id] = record.fingerprint
            changed.append(record)
        elif topic in (KEY_ROTATED, KEY_REVOKED):
            old = self.keys[self.current[originator_id]]
            if old.revoked_at is None:
                # Exclusive bounds: the rotated key signed its own rotation at p; a revoked key
                # is valid up to the revocation, which another administrator signed.
                old.revoked_at = position + 1 if topic == KEY_ROTATED else position
                changed.append(old)
            if topic == KEY_ROTATED:
                new = KeyRecord(
                    fingerprint=fingerprint(body["public_key"]),
                    public_key=bytes(body["public_key"]),
                    user=old.user,
                    user_id=originator_id,
                    roles=list(old.roles),
                    valid_from=position + 1,
                )
                self.keys[new.fingerprint] = new
                self.current[originator_id] = new.fingerprint
                changed.append(new)
        return changed

    def current_key(self, signer: bytes) -> bytes | None:
        """The raw public key for a signer whose key is valid now, else None."""
        record = self.keys.get(signer)
        if record is None or record.revoked_at is not None:
            return None
        return record.public_key

    def _subject_name(self, originator_id: UUID, body: dict[str, Any] | None) -> str:
        if originator_id in self.current:
            return self.keys[self.current[originator_id]].user
        if originator_id in self.invitations:
            return self.invitations[originator_id].user
        return str(body["name"]) if body is not None and "name" in body else ""


_FIELDS: dict[str, dict[str, type]] = {
    REGISTERED: {"name": str, "roles": list, "public_key": bytes, "key_protection": str},
    INVITED: {"name": str, "roles": list, "code_hash": bytes, "expires": datetime},
    ENROLLED: {"public_key": bytes, "code": str, "key_protection": str},
    REINSTATED: {"reason": str, "code_hash": bytes, "expires": datetime},
    KEY_ROTATED: {"public_key": bytes},
    KEY_REVOKED: {"reason": str},
}


def _require_fields(
    topic: str,
    body: dict[str, Any],
    *,
    position: int | None,
    originator_id: UUID | None,
    originator_version: int | None = None,
) -> None:
    """A key event must carry its fields with their types, or it is not a key event at all."""
    for name, kind in _FIELDS.get(topic, {}).items():
        value = body.get(name)
        if (
            not isinstance(value, kind)
            or (isinstance(value, bytes) and len(value) != 32)
            or (name == "key_protection" and value not in KEY_PROTECTIONS)
        ):
            raise IntegrityViolation(
                "envelope",
                f"the key event lacks a valid '{name}' field",
                position=position,
                originator_id=originator_id,
                originator_version=originator_version,
            )
