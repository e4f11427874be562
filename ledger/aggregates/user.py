"""The `User` aggregate: a person or interface, their roles and the history of their keys."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate

from ledger.errors import ConflictError, NotAuthorised, UsageError
from ledger.verifier.identities import NODE_USER, code_hash, normalise_code, user_id
from ledger.verifier.public_keys import fingerprint


def check_user_name(name: str) -> None:
    """A user name is one word (it names a key file too): letters, digits, '.', '-', '_'."""
    plain = name.replace("-", "").replace(".", "").replace("_", "")
    if not name or not plain.isascii() or not plain.isalnum() or name.startswith("."):
        raise UsageError("A user name must be letters, digits, '.', '-' or '_' (no spaces).")
    if name == NODE_USER:
        raise UsageError(f"The name '{NODE_USER}' is reserved for the ledger's own key.")
    if len(name) > 64:  # it names a key file: file systems stop at 255 bytes
        raise UsageError("A user name must be at most 64 characters.")


def new_enrolment_code() -> str:
    """A one-time code: 100 random bits as 4 groups of 5 base32 characters, easy to read aloud."""
    text = base64.b32encode(secrets.token_bytes(15)).decode("ascii")[:20]
    return "-".join(text[i : i + 5] for i in range(0, 20, 5))


class User(Aggregate):
    """One identity. Keys are never deleted: rotation and revocation are new events."""

    TOPIC = "chartledger/user"

    class Created(Aggregate.Created):
        TOPIC = "chartledger/user/created"

    class Registered(Aggregate.Created):
        """The genesis administrator (self-signed, the trust anchor) or the node's key (signed
        by that administrator); every person after them is invited and enrols themself."""

        TOPIC = "chartledger/user/registered"
        name: str
        roles: list[str]
        public_key: bytes
        actor: str
        key_protection: str

    class Invited(Aggregate.Created):
        """An administrator invited a person: their roles and the hash of a one-time code."""

        TOPIC = "chartledger/user/invited"
        name: str
        roles: list[str]
        code_hash: bytes
        expires: datetime
        actor: str

    class Enrolled(Aggregate.Event):
        """The user made their key and proved it: signed by that key, revealing the code."""

        TOPIC = "chartledger/user/enrolled"
        public_key: bytes
        code: str
        key_protection: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            if aggregate.public_key is not None:
                aggregate.past_keys.append(aggregate.public_key)
            aggregate.public_key = self.public_key
            aggregate.key_protection = self.key_protection
            aggregate.revoked = False
            aggregate.invitation = None

    class Reinstated(Aggregate.Event):
        """A revoked user may enrol again, with a new key, by a new one-time code."""

        TOPIC = "chartledger/user/reinstated"
        reason: str
        code_hash: bytes
        expires: datetime
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.invitation = (self.code_hash, self.expires)
            aggregate.reinstatements.append(self.reason)

    class KeyRotated(Aggregate.Event):
        """The user's key was replaced; the old one stops being valid at this point of the log."""

        TOPIC = "chartledger/user/key-rotated"
        public_key: bytes
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.past_keys.append(aggregate.public_key)
            aggregate.public_key = self.public_key

    class KeyRevoked(Aggregate.Event):
        """The user's current key was withdrawn: nothing they sign from here on is valid."""

        TOPIC = "chartledger/user/key-revoked"
        reason: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.revoked = True
            aggregate.revocation_reason = self.reason

    def __init__(
        self,
        name: str,
        roles: list[str],
        actor: str,
        public_key: bytes | None = None,
        key_protection: str = "",
        code_hash: bytes | None = None,
        expires: datetime | None = None,
    ) -> None:
        self.name = name
        self.roles = list(roles)
        self.public_key: bytes | None = public_key
        self.key_protection = key_protection
        self.registered_by = actor
        self.past_keys: list[bytes] = []
        self.revoked = False
        self.revocation_reason = ""
        self.reinstatements: list[str] = []
        self.invitation: tuple[bytes, datetime] | None = (
            (code_hash, expires) if code_hash is not None and expires is not None else None
        )

    @classmethod
    def register(
        cls,
        name: str,
        roles: list[str],
        public_key: bytes,
        *,
        actor: str,
        key_protection: str = "none",
    ) -> User:
        """The genesis administrator (self-signed) and the node: the only direct registrations."""
        return cls._create(
            cls.Registered,
            id=user_id(name),
            name=name,
            roles=list(roles),
            public_key=public_key,
            actor=actor,
            key_protection=key_protection,
        )

    @classmethod
    def invite(
        cls, name: str, roles: list[str], code_hash: bytes, expires: datetime, *, actor: str
    ) -> User:
        return cls._create(
            cls.Invited,
            id=user_id(name),
            name=name,
            roles=list(roles),
            code_hash=code_hash,
            expires=expires,
            actor=actor,
        )

    def enrol(self, public_key: bytes, code: str, key_protection: str, *, now: datetime) -> None:
        """Take the invited (or reinstated) user's own key: only with the code of an invitation
        not yet used, before it expires."""
        if self.invitation is None:
            if self.revoked:
                raise NotAuthorised(
                    f"User '{self.name}' is revoked; an administrator must reinstate them first."
                )
            raise ConflictError(
                f"The enrolment code for user '{self.name}' was already used; if that was not "
                "you, tell an administrator at once."
            )
        expected, expires = self.invitation
        if code_hash(self.id, code) != expected:
            raise NotAuthorised(f"That is not the enrolment code issued for user '{self.name}'.")
        if now > expires:
            raise NotAuthorised(
                f"The enrolment code for user '{self.name}' has expired; ask an administrator "
                "for a new one."
            )
        self.trigger_event(
            self.Enrolled,
            public_key=public_key,
            code=normalise_code(code),
            key_protection=key_protection,
            actor=self.name,
        )

    def reinstate(self, reason: str, code_hash: bytes, expires: datetime, *, actor: str) -> None:
        """Let a revoked user enrol again (once: until they enrol, no second reinstatement)."""
        if not self.revoked:
            raise UsageError(
                f"User '{self.name}' is not revoked; only a revoked user is reinstated."
            )
        if self.invitation is not None:
            raise UsageError(f"User '{self.name}' was reinstated already and has not enrolled yet.")
        self.trigger_event(
            self.Reinstated, reason=reason, code_hash=code_hash, expires=expires, actor=actor
        )

    def rotate_key(self, public_key: bytes, *, actor: str) -> None:
        self.trigger_event(self.KeyRotated, public_key=public_key, actor=actor)

    def revoke_key(self, reason: str, *, actor: str) -> None:
        """Withdraw the current key: there must be one, not revoked already."""
        if self.revoked:
            raise UsageError(f"The key of user '{self.name}' is already revoked.")
        if self.public_key is None:
            raise UsageError(f"User '{self.name}' has not enrolled yet; there is no key to revoke.")
        self.trigger_event(self.KeyRevoked, reason=reason, actor=actor)

    @property
    def enrolled(self) -> bool:
        return self.public_key is not None

    @property
    def fingerprint(self) -> bytes:
        return fingerprint(self.public_key) if self.public_key is not None else b""


KEY_TOPICS = frozenset(
    {
        User.Registered.TOPIC,
        User.Invited.TOPIC,
        User.Enrolled.TOPIC,
        User.Reinstated.TOPIC,
        User.KeyRotated.TOPIC,
        User.KeyRevoked.TOPIC,
    }
)
