"""The `User` aggregate: a person or interface, their roles and the history of their keys."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from ledger.keys import fingerprint

USER_NAMESPACE = uuid5(NAMESPACE_URL, "https://chartledger.invalid/user")
NODE_USER = "node"


def check_user_name(name: str) -> None:
    """A user name is one word (it names a key file too): letters, digits, '.', '-', '_'."""
    from ledger.errors import UsageError

    plain = name.replace("-", "").replace(".", "").replace("_", "")
    if not name or not plain.isascii() or not plain.isalnum() or name.startswith("."):
        raise UsageError("A user name must be letters, digits, '.', '-' or '_' (no spaces).")
    if name == NODE_USER:
        raise UsageError(f"The name '{NODE_USER}' is reserved for the ledger's own key.")
    if len(name) > 64:  # it names a key file: file systems stop at 255 bytes
        raise UsageError("A user name must be at most 64 characters.")


def user_id(name: str) -> UUID:
    """Users are found by name: the aggregate id is derived from it, so a name is never reused."""
    return uuid5(USER_NAMESPACE, name)


class User(Aggregate):
    """One identity. Keys are never deleted: rotation and revocation are new events."""

    TOPIC = "chartledger/user"

    class Created(Aggregate.Created):
        TOPIC = "chartledger/user/created"

    class Registered(Aggregate.Created):
        """A user was enrolled with a first key (the genesis event when self-signed)."""

        TOPIC = "chartledger/user/registered"
        name: str
        roles: list[str]
        public_key: bytes
        actor: str

    class KeyRotated(Aggregate.Event):
        """The user's key was replaced; the old one stops being valid at this point of the log."""

        TOPIC = "chartledger/user/key-rotated"
        public_key: bytes
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.past_keys.append(aggregate.public_key)
            aggregate.public_key = self.public_key
            aggregate.revoked = False

    class KeyRevoked(Aggregate.Event):
        """The user's current key was withdrawn: nothing they sign from here on is valid."""

        TOPIC = "chartledger/user/key-revoked"
        reason: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.revoked = True
            aggregate.revocation_reason = self.reason

    def __init__(self, name: str, roles: list[str], public_key: bytes, actor: str) -> None:
        self.name = name
        self.roles = list(roles)
        self.public_key = public_key
        self.registered_by = actor
        self.past_keys: list[bytes] = []
        self.revoked = False
        self.revocation_reason = ""

    @classmethod
    def register(cls, name: str, roles: list[str], public_key: bytes, *, actor: str) -> User:
        return cls._create(
            cls.Registered,
            id=user_id(name),
            name=name,
            roles=list(roles),
            public_key=public_key,
            actor=actor,
        )

    def rotate_key(self, public_key: bytes, *, actor: str) -> None:
        self.trigger_event(self.KeyRotated, public_key=public_key, actor=actor)

    def revoke_key(self, reason: str, *, actor: str) -> None:
        self.trigger_event(self.KeyRevoked, reason=reason, actor=actor)

    @property
    def fingerprint(self) -> bytes:
        return fingerprint(self.public_key)


KEY_TOPICS = frozenset({User.Registered.TOPIC, User.KeyRotated.TOPIC, User.KeyRevoked.TOPIC})
