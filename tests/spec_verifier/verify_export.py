"""An export verifier written from docs/format.md alone (sections 1 to 5).

It imports nothing of this project: only the standard library, `cryptography` and `msgpack`
(`tests/unit/test_architecture.py` holds it to that by walking its syntax tree). If it and
`chartledger verify --export` ever disagree, the document is not the contract it claims to be.

    python tests/spec_verifier/verify_export.py EXPORT-FOLDER [GENESIS-HEX]
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import msgpack
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

# section 1.3
DOMAIN = b"chartledger/event/v1\n"
ZERO = bytes(32)
# section 3
USER_NAMESPACE = uuid5(NAMESPACE_URL, "https://chartledger.invalid/user")
REGISTERED = "chartledger/user/registered"
INVITED = "chartledger/user/invited"
ENROLLED = "chartledger/user/enrolled"
REINSTATED = "chartledger/user/reinstated"
ROTATED = "chartledger/user/key-rotated"
REVOKED = "chartledger/user/key-revoked"
KEY_TOPICS = {REGISTERED, INVITED, ENROLLED, REINSTATED, ROTATED, REVOKED}
ADMINISTRATOR = "administrator"
# section 4
FORMATS = ("chartledger-export/2", "chartledger-export/3")
CHECKPOINT_NAME = re.compile(r"[0-9]{12}\.txt")


class SpecViolation(Exception):
    """The export breaks the document: which check, and at which log position if any."""

    def __init__(self, check: str, detail: str, position: int | None = None) -> None:
        self.check, self.detail, self.position = check, detail, position
        where = f" at log position {position}" if position is not None else ""
        super().__init__(f"{check}{where}: {detail}")


# -- section 1.2: bodies (only User events are decoded) ----------------------------------------


def _ext(code: int, data: bytes) -> Any:
    if code == 1:
        return UUID(bytes=data)
    text = data.decode("utf-8")
    if code == 2:
        stamp = datetime.fromisoformat(text)
        if stamp.tzinfo is None:
            raise ValueError("a date and time without its UTC offset")
        return stamp
    if code == 3:
        return date.fromisoformat(text)
    if code == 4:
        return Decimal(text)
    raise ValueError(f"unknown ext type {code}")


def _body(raw: bytes, position: int) -> dict[str, Any]:
    try:
        body = msgpack.unpackb(raw, raw=False, ext_hook=_ext, strict_map_key=False)
    except Exception:
        raise SpecViolation("envelope", "a User event's body is not msgpack", position) from None
    if not isinstance(body, dict):
        raise SpecViolation("envelope", "a User event's body is not a map", position)
    return body


# -- section 1.1: the envelope -----------------------------------------------------------------


@dataclass
class Envelope:
    body: bytes
    enc: dict[str, Any] | None
    prev: bytes
    signer: bytes
    sig: bytes


def _envelope(state: bytes, position: int) -> Envelope:
    def bad(why: str) -> SpecViolation:
        return SpecViolation("envelope", why, position)

    try:
        decoded = msgpack.unpackb(state, raw=False, strict_map_key=False)
    except Exception:
        raise bad("the state is not msgpack") from None
    if not isinstance(decoded, dict) or list(decoded) != [
        "v",
        "body",
        "enc",
        "prev",
        "signer",
        "sig",
    ]:
        raise bad("the state is not a map of exactly v, body, enc, prev, signer, sig in order")
    if type(decoded["v"]) is not int or decoded["v"] != 1:
        raise bad("the envelope is not version 1")
    for name, size in (("body", None), ("prev", 32), ("signer", 32), ("sig", 64)):
        value = decoded[name]
        if not isinstance(value, bytes) or (size is not None and len(value) != size):
            raise bad(f"'{name}' is not bin" + (f" of {size} bytes" if size else ""))
    enc = decoded["enc"]
    if enc is not None:
        kid = enc.get("kid") if isinstance(enc, dict) else None
        if (
            not isinstance(enc, dict)
            or set(enc) != {"alg", "kid"}
            or enc["alg"] != "A256GCM"
            or not isinstance(kid, str)
            or re.fullmatch(r"subject:[0-9a-f]{32}", kid) is None
        ):
            raise bad("'enc' is neither nil nor the map of section 1.2.1")
    if msgpack.packb(decoded, use_bin_type=True) != state:
        raise bad("the state is not in its canonical encoding")
    return Envelope(decoded["body"], enc, decoded["prev"], decoded["signer"], decoded["sig"])


def _preimage(oid: UUID, version: int, topic: str, env: Envelope) -> bytes:
    topic_bytes = topic.encode("utf-8")
    return b"".join(
        (
            DOMAIN,
            oid.bytes,
            version.to_bytes(8, "big"),
            len(topic_bytes).to_bytes(2, "big"),
            topic_bytes,
            hashlib.sha256(env.body).digest(),
            env.prev,
            env.signer,
        )
    )


# -- section 2: the Merkle tree (RFC 9162 section 2.1) -------------------------------------------


def merkle_root(leaves: list[bytes]) -> bytes:
    """MTH over leaf hashes already computed as SHA-256(0x00 || event hash)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    split = 1 << ((len(leaves) - 1).bit_length() - 1)  # the largest power of two below n
    return hashlib.sha256(
        b"\x01" + merkle_root(leaves[:split]) + merkle_root(leaves[split:])
    ).digest()


# -- section 3: keys ---------------------------------------------------------------------------


@dataclass
class Key:
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
class Invitation:
    user: str
    roles: list[str]
    code_hash: bytes
    expires: datetime
    used: bool = False


@dataclass
class Registry:
    keys: dict[bytes, Key] = field(default_factory=dict)
    current: dict[UUID, bytes] = field(default_factory=dict)
    invitations: dict[UUID, Invitation] = field(default_factory=dict)
    genesis: bytes | None = None


def user_id(name: str) -> UUID:
    return uuid5(USER_NAMESPACE, name)


def fingerprint(public_key: bytes) -> bytes:
    return hashlib.sha256(public_key).digest()


def _code_hash(uid: UUID, code: str) -> bytes:
    normal = "".join(code.split()).replace("-", "").upper()
    return hashlib.sha256(uid.bytes + normal.encode("utf-8")).digest()


def _field(body: dict[str, Any], name: str, kind: type, position: int) -> Any:
    value = body.get(name)
    if not isinstance(value, kind) or (kind is bytes and len(value) != 32):
        raise SpecViolation("envelope", f"the key event lacks a valid '{name}'", position)
    return value


def _signing_key(
    registry: Registry,
    position: int,
    oid: UUID,
    topic: str,
    env: Envelope,
    body: dict[str, Any] | None,
) -> bytes:
    """The raw key that must have signed the event at `position`, checking section 3's rules
    against the registry as the events before it left it."""

    def fail(check: str, why: str) -> SpecViolation:
        return SpecViolation(check, why, position)

    if registry.genesis is None:
        if topic != REGISTERED or body is None:
            raise fail("genesis", "the first event is not a user registration")
        key = _field(body, "public_key", bytes, position)
        if fingerprint(key) != env.signer or ADMINISTRATOR not in _field(
            body, "roles", list, position
        ):
            raise fail("genesis", "not a self-signed administrator's registration")
        return bytes(key)
    if topic == ENROLLED and body is not None:
        key = _field(body, "public_key", bytes, position)
        if fingerprint(key) != env.signer:
            raise fail("enrolment", "an enrolment not signed by the key it enrols")
        return bytes(key)
    signer = registry.keys.get(env.signer)
    if signer is None or not signer.valid_at(position):
        raise fail("signer", "signed by a key not valid at this position")
    if topic not in KEY_TOPICS:
        return signer.public_key
    if body is None:
        raise fail("envelope", "a key event without its body")
    if topic == ROTATED:
        new = _field(body, "public_key", bytes, position)
        if signer.user_id != oid or registry.current.get(oid) != env.signer:
            raise fail("authority", "a rotation not signed by the subject's own current key")
        if fingerprint(new) in registry.keys:
            raise fail("authority", "a rotation to a key the ledger already knew")
        return signer.public_key
    if ADMINISTRATOR not in signer.roles:
        raise fail("authority", "a key change signed by someone who is not an administrator")
    if topic == REGISTERED:
        if (
            body.get("name") != "node"
            or body.get("roles") != ["node"]
            or oid != user_id("node")
            or oid in registry.current
        ):
            raise fail("registration", "after the genesis only the node is registered, once")
        _field(body, "public_key", bytes, position)
    elif topic == INVITED:
        name = _field(body, "name", str, position)
        if oid != user_id(name) or oid in registry.current or oid in registry.invitations:
            raise fail("registration", "an invitation of a user known before, or misfiled")
    elif topic == REINSTATED:
        current = registry.current.get(oid)
        pending = registry.invitations.get(oid)
        if current is None or registry.keys[current].revoked_at is None:
            raise fail("reinstatement", "the user is not revoked")
        if pending is not None and not pending.used:
            raise fail("reinstatement", "the user has an open invitation")
    elif topic == REVOKED:
        if oid not in registry.current:
            raise fail("authority", "a revocation of a user without a key")
        if signer.user_id == oid:
            raise fail("authority", "a key signed its own revocation")
    return signer.public_key


def _apply(registry: Registry, position: int, oid: UUID, topic: str, body: dict[str, Any]) -> None:
    """The effect of a key event at `position` (its signature verified)."""
    if topic == REGISTERED:
        key = bytes(body["public_key"])
        record = Key(key, str(body["name"]), oid, list(body["roles"]), valid_from=position)
        if registry.genesis is None:
            registry.genesis = fingerprint(key)
        registry.keys[fingerprint(key)] = record
        registry.current[oid] = fingerprint(key)
    elif topic in (INVITED, REINSTATED):
        _field(body, "code_hash", bytes, position)
        expires = _field(body, "expires", datetime, position)
        if topic == INVITED:
            name, roles = str(body["name"]), list(_field(body, "roles", list, position))
        else:
            revoked = registry.keys[registry.current[oid]]
            name, roles = revoked.user, list(revoked.roles)
        registry.invitations[oid] = Invitation(name, roles, bytes(body["code_hash"]), expires)
    elif topic == ENROLLED:
        invitation = registry.invitations.get(oid)
        key = bytes(body["public_key"])
        stamp = body.get("timestamp")
        code = _field(body, "code", str, position)
        if invitation is None or invitation.used:
            raise SpecViolation("enrolment", "no open invitation (a code enrols once)", position)
        if _code_hash(oid, code) != invitation.code_hash:
            raise SpecViolation("enrolment", "the code does not match the invitation", position)
        if not isinstance(stamp, datetime) or stamp > invitation.expires:
            raise SpecViolation("enrolment", "the invitation had expired", position)
        if fingerprint(key) in registry.keys:
            raise SpecViolation("enrolment", "the key was known to the ledger before", position)
        invitation.used = True
        registry.keys[fingerprint(key)] = Key(
            key, invitation.user, oid, list(invitation.roles), valid_from=position
        )
        registry.current[oid] = fingerprint(key)
    elif topic in (ROTATED, REVOKED):
        old = registry.keys[registry.current[oid]]
        if old.revoked_at is None:
            old.revoked_at = position + 1 if topic == ROTATED else position
        if topic == ROTATED:
            key = bytes(body["public_key"])
            registry.keys[fingerprint(key)] = Key(
                key, old.user, oid, list(old.roles), valid_from=position + 1
            )
            registry.current[oid] = fingerprint(key)


# -- section 2.1: checkpoints ------------------------------------------------------------------


def _open_checkpoint(text: str, origin: str, node_keys: list[bytes]) -> tuple[int, bytes]:
    """(tree size, root) of a signed note that a node key signed under the origin's name."""
    body, blank, signatures = text.partition("\n\n")
    lines = body.split("\n")
    if (
        not blank
        or len(lines) != 3
        or lines[0] != origin
        or not re.fullmatch(r"0|[1-9][0-9]*", lines[1])
    ):
        raise SpecViolation("checkpoint", "not a checkpoint note of this origin")
    try:
        root = base64.b64decode(lines[2], validate=True)
    except binascii.Error:
        raise SpecViolation("checkpoint", "the root is not base64") from None
    if len(root) != 32:
        raise SpecViolation("checkpoint", "the root is not 32 bytes")
    signed = (body + "\n").encode("utf-8")
    ids = {
        hashlib.sha256(origin.encode("utf-8") + b"\n\x01" + key).digest()[:4]: key
        for key in node_keys
    }
    for line in signatures.split("\n"):
        if not line:
            continue
        name, _, blob = line.removeprefix("\u2014 ").partition(" ")
        if not line.startswith("\u2014 ") or name != origin:
            continue
        try:
            raw = base64.b64decode(blob, validate=True)
        except binascii.Error:
            continue
        key = ids.get(raw[:4])
        if key is None:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(key).verify(raw[4:], signed)
        except InvalidSignature:
            raise SpecViolation("checkpoint", "a node key's signature does not verify") from None
        return int(lines[1]), root
    raise SpecViolation("checkpoint", "no signature by the node key")


# -- section 4: the export folder, and section 5: what verify checks ---------------------------


@dataclass
class Result:
    events: int
    tree_size: int
    root: bytes
    genesis: bytes


def _rotations_exclusive(signers: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A /2 keys.json read under its rule (section 4): +1 on a rotated key's `revoked_at`."""
    out = {fp: dict(item) for fp, item in signers.items()}
    by_user: dict[str, list[dict[str, Any]]] = {}
    for item in out.values():
        by_user.setdefault(str(item.get("user_id")), []).append(item)
    for keys in by_user.values():
        keys.sort(key=lambda item: item["valid_from"])
        for old, new in pairwise(keys):
            if old["revoked_at"] is not None and old["revoked_at"] + 1 == new["valid_from"]:
                old["revoked_at"] = new["valid_from"]
    return out


def _events(folder: Path) -> list[dict[str, Any]]:
    lines = []
    with (folder / "events.ndjson").open("rb") as data:
        for number, line in enumerate(data):
            try:
                item = json.loads(line)
                event = {
                    "position": item["position"],
                    "oid": UUID(item["originator_id"]),
                    "version": item["originator_version"],
                    "topic": item["topic"],
                    "state": base64.b64decode(item["state"], validate=True),
                }
            except (ValueError, KeyError, TypeError, binascii.Error):
                raise SpecViolation("export format", f"line {number + 1} is no event") from None
            if event["position"] != number or type(event["version"]) is not int:
                raise SpecViolation("export format", "positions do not run 0, 1, 2 …", number)
            lines.append(event)
    return lines


def verify_export(folder: Path, genesis: bytes | None = None) -> Result:
    """Check an export folder as docs/format.md says; raise `SpecViolation` at the first failure."""
    try:
        keys = json.loads((folder / "keys.json").read_text(encoding="utf-8"))
        events = _events(folder)
    except (OSError, ValueError) as error:
        if isinstance(error, SpecViolation):
            raise
        raise SpecViolation("export format", "no readable events.ndjson and keys.json") from None
    if not isinstance(keys, dict) or keys.get("format") not in FORMATS:
        raise SpecViolation("export format", "keys.json is not of a format this page describes")
    origin = keys.get("origin")
    if not isinstance(origin, str):
        raise SpecViolation("export format", "keys.json has no origin")

    registry = Registry()
    heads: dict[UUID, tuple[int, bytes]] = {}
    leaves: list[bytes] = []
    for event in events:
        position, oid, version, topic = (event[k] for k in ("position", "oid", "version", "topic"))
        env = _envelope(event["state"], position)
        body = _body(env.body, position) if topic in KEY_TOPICS else None
        if body is not None and env.enc is not None:
            raise SpecViolation("envelope", "a User event is encrypted", position)
        raw_key = _signing_key(registry, position, oid, topic, env, body)
        head = heads.get(oid)
        if (head is None and version != 1) or (head is not None and version != head[0] + 1):
            raise SpecViolation("chain", "the aggregate's versions do not run 1, 2, 3 …", position)
        if env.prev != (ZERO if head is None else head[1]):
            raise SpecViolation("chain", "prev is not the previous event's hash", position)
        pre = _preimage(oid, version, topic, env)
        try:
            Ed25519PublicKey.from_public_bytes(raw_key).verify(env.sig, pre)
        except InvalidSignature:
            raise SpecViolation("signature", "the signature does not verify", position) from None
        if body is not None:
            _apply(registry, position, oid, topic, body)
        digest = hashlib.sha256(pre + env.sig).digest()
        heads[oid] = (version, digest)
        leaves.append(hashlib.sha256(b"\x00" + digest).digest())

    if registry.genesis is None:
        raise SpecViolation("genesis", "the export holds no events", 0)
    if genesis is not None and registry.genesis != genesis:
        raise SpecViolation("genesis", "the genesis key is not the trust anchor", 0)

    node_keys = [k.public_key for k in registry.keys.values() if k.user == "node"]
    sizes = []
    for path in sorted((folder / "checkpoints").glob("*")):
        if not CHECKPOINT_NAME.fullmatch(path.name):
            raise SpecViolation("export format", f"checkpoints/{path.name} is misnamed")
        size, root = _open_checkpoint(path.read_text(encoding="utf-8"), origin, node_keys)
        if size != int(path.stem):
            raise SpecViolation("checkpoint", f"{path.name} holds the checkpoint of size {size}")
        if size > len(leaves):
            raise SpecViolation(
                "checkpoint", "a checkpoint covers more events than the log", len(leaves)
            )
        if merkle_root(leaves[:size]) != root:
            raise SpecViolation("checkpoint", f"the events do not hash to the root of {size}")
        sizes.append(size)
    derived = {
        fp.hex(): {
            "public_key": base64.b64encode(k.public_key).decode("ascii"),
            "user": k.user,
            "user_id": str(k.user_id),
            "roles": k.roles,
            "valid_from": k.valid_from,
            "revoked_at": k.revoked_at,
        }
        for fp, k in registry.keys.items()
    }
    listed = keys.get("signers")
    if not isinstance(listed, dict):
        raise SpecViolation("keys", "keys.json has no signers")
    if keys["format"] == "chartledger-export/2":
        listed = _rotations_exclusive(listed)
    node_fp = registry.current.get(user_id("node"))
    node = keys.get("node")
    if (
        listed != derived
        or keys.get("genesis") != registry.genesis.hex()
        or node_fp is None
        or not isinstance(node, dict)
        or node.get("name") != origin
        or node.get("public_key") != derived[node_fp.hex()]["public_key"]
    ):
        raise SpecViolation("keys", "keys.json does not say what the User events establish")

    if not sizes or max(sizes) != len(leaves):
        last = max(sizes, default=0)
        raise SpecViolation("coverage", "events run past the last signed checkpoint", last)
    return Result(len(leaves), len(leaves), merkle_root(leaves), registry.genesis)


def main(argv: list[str]) -> int:
    anchor = bytes.fromhex(argv[2]) if len(argv) > 2 else None
    try:
        result = verify_export(Path(argv[1]), anchor)
    except SpecViolation as failure:
        print(f"refused: {failure}")
        return 1
    print(f"verified {result.events} events; root {result.root.hex()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
