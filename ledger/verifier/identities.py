"""What the key rules need to know of users, without the `User` aggregate that writes them.

The verifier names the key events by their stored topics; `tests/unit/test_architecture.py`
checks that these stay the topics of the `User` event classes (`ledger/aggregates/user.py`).
"""

from __future__ import annotations

import hashlib
from uuid import NAMESPACE_URL, UUID, uuid5

USER_NAMESPACE = uuid5(NAMESPACE_URL, "https://chartledger.invalid/user")
NODE_USER = "node"


def user_id(name: str) -> UUID:
    """Users are found by name: the aggregate id is derived from it, so a name is never reused."""
    return uuid5(USER_NAMESPACE, name)


KEY_PROTECTIONS = ("passphrase", "none")
"""How a private key is kept where its user works: encrypted with a passphrase, or not at all."""


def normalise_code(code: str) -> str:
    """The code as typed, without dashes and spaces, in capitals (what is hashed and revealed)."""
    return "".join(code.split()).replace("-", "").upper()


def code_hash(subject: UUID, code: str) -> bytes:
    """SHA-256 of the code salted with the user id: what an invitation stores instead of it."""
    return hashlib.sha256(subject.bytes + normalise_code(code).encode("utf-8")).digest()


REGISTERED = "chartledger/user/registered"
INVITED = "chartledger/user/invited"
ENROLLED = "chartledger/user/enrolled"
REINSTATED = "chartledger/user/reinstated"
KEY_ROTATED = "chartledger/user/key-rotated"
KEY_REVOKED = "chartledger/user/key-revoked"
KEY_TOPICS = frozenset({REGISTERED, INVITED, ENROLLED, REINSTATED, KEY_ROTATED, KEY_REVOKED})
"""The events that change which key is valid: the only bodies a verifier must decode."""
