"""Which key was valid for which signer at which position of the log (DESIGN.md section 6).

The registry is rebuilt by replaying `User` events in log order, so a key's validity is defined by
position, not by wall-clock time: an event signed by a key that was rotated out or revoked earlier
in the log is invalid. The first event of a ledger (the genesis) is the self-signed registration
of its first administrator; its fingerprint is the trust anchor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from ledger.errors import IntegrityViolation, Where
from ledger.keys import fingerprint
from ledger.user import KEY_TOPICS, User
from policies.roles import ADMINISTRATOR, may_manage_identities, may_rotate_key


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
        return self.valid_from <= position and (
            self.revoked_at is None or position < self.revoked_at
        )


@dataclass
class KeyRegistry:
    """Keys by fingerprint, and each user's current key, as of the last event applied."""

    keys: dict[bytes, KeyRecord] = field(default_factory=dict)
    current: dict[UUID, bytes] = field(default_factory=dict)
    genesis: bytes | None = None

    @classmethod
    def from_records(cls, records: list[KeyRecord], genesis: bytes | None) -> KeyRegistry:
        registry = cls(genesis=genesis)
        for record in sorted(records, key=lambda r: r.valid_from):
            registry.keys[record.fingerprint] = record
            registry.current[record.user_id] = record.fingerprint
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
            if topic != User.Registered.TOPIC or body is None:
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
            subject = self._subject_name(originator_id, body)
            decision = (
                may_rotate_key(record.roles, actor=record.user, subject=subject)
                if topic == User.KeyRotated.TOPIC
                else may_manage_identities(record.roles)
            )
            if not decision.allowed:
                raise IntegrityViolation(
                    "authority", f"{record.user} signed a key change: {decision.reason}", **where
                )
        return record.public_key

    def apply(
        self, *, position: int, originator_id: UUID, topic: str, body: dict[str, Any]
    ) -> list[KeyRecord]:
        """Record the effect of a key event (already checked); returns the records it changed."""
        _require_fields(topic, body, position=position, originator_id=originator_id)
        changed: list[KeyRecord] = []
        if topic == User.Registered.TOPIC:
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
        elif topic in (User.KeyRotated.TOPIC, User.KeyRevoked.TOPIC):
            old = self.keys[self.current[originator_id]]
            if old.revoked_at is None:
                old.revoked_at = position
                changed.append(old)
            if topic == User.KeyRotated.TOPIC:
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
        return str(body["name"]) if body is not None and "name" in body else ""


_FIELDS: dict[str, dict[str, type]] = {
    User.Registered.TOPIC: {"name": str, "roles": list, "public_key": bytes},
    User.KeyRotated.TOPIC: {"public_key": bytes},
    User.KeyRevoked.TOPIC: {"reason": str},
}


def _require_fields(
    topic: str,
    body: dict[str, Any],
    *,
    position: int,
    originator_id: UUID,
    originator_version: int | None = None,
) -> None:
    """A key event must carry its fields with their types, or it is not a key event at all."""
    for name, kind in _FIELDS.get(topic, {}).items():
        value = body.get(name)
        if not isinstance(value, kind) or (isinstance(value, bytes) and len(value) != 32):
            raise IntegrityViolation(
                "envelope",
                f"the key event lacks a valid '{name}' field",
                position=position,
                originator_id=originator_id,
                originator_version=originator_version,
            )
