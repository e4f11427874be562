"""The offline verification of a legal request package (format.md section 6).

A legal package (`chartledger legal package`) holds one patient's record as it stood on a date,
its history, its access and disclosure trail and its documents, written by
`projections.legal`, with its proofs written by `ledger.integrity.legal_package`. This module
checks it with nothing but the package and this project:

- `events.ndjson`: the stored bytes of every event the package rests on (every version of the
  patient's aggregates, of the accesses and disclosures in its trail, and of every user, whose
  events establish which key was valid where), each with its log position and its RFC 9162
  inclusion proof against
- `checkpoint.txt`: a checkpoint signed by the node key when the package was made;
- `subject-keys.json`: the data keys of this patient's encrypted events, so the verifier can read
  them and compare them with what the package says (the package discloses this record anyway; the
  keys open nothing else);
- `MANIFEST.json`: the SHA-256 of every other file, signed by whoever made the package.

`verify_package` replays the events in log order as `verify` does (key validity by position,
each aggregate's hash chain from its first version, every signature), checks every inclusion
proof against the signed root, the genesis key against the trust anchor, the manifest, each
document's bytes against the SHA-256 its signed `Filed` event holds, and that every event the
record, history and trail files cite is among the proven ones, and each entry's text in the
record is the text its last proven version (up to the as-of time) holds.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import Transcoder

from ledger.errors import IntegrityViolation, UsageError, Where
from ledger.verifier import checkpoint as notes
from ledger.verifier import envelope, merkle
from ledger.verifier.identities import KEY_TOPICS, NODE_USER
from ledger.verifier.log import LogEvent
from ledger.verifier.log_entry import admit
from ledger.verifier.public_keys import public_key_from_raw
from ledger.verifier.registry import KeyRegistry
from ledger.verifier.sealed import ALGORITHM, open_body

FORMAT = "chartledger-legal-package/2"
"""/2 adds redacted event lines (format.md section 6); /1 packages (none) still verify."""
FORMATS = ("chartledger-legal-package/1", FORMAT)
MANIFEST = "MANIFEST.json"
PROOF_FILES = ("events.ndjson", "checkpoint.txt", "subject-keys.json")
DOCUMENT_FILED_TOPIC = "chartledger/document/filed"
DOCUMENT_REFILED_TOPIC = "chartledger/document/refiled"
ENTRY_TOPICS = ("chartledger/encounter/entry-recorded", "chartledger/encounter/entry-amended")


@dataclass
class PackageReport:
    """What a successful package verification covered."""

    events: int = 0
    aggregates: int = 0
    tree_size: int = 0
    root: bytes = merkle.EMPTY_ROOT
    genesis: bytes | None = None
    documents: int = 0
    entries: int = 0
    cited: int = 0
    redacted: int = 0
    signed_by: str = ""
    files: int = 0


def canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


@dataclass
class _Proven:
    """The events of a package that passed every check, by id, with their opened bodies."""

    ids: set[str] = field(default_factory=set)
    bodies: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    """`ID/VERSION` -> (topic, decoded body) for the events the verifier could read."""
    redacted: set[str] = field(default_factory=set)
    """`ID/VERSION` of the events proven without their body (withheld from the recipient)."""


def verify_package(
    folder: Path, *, transcoder: Transcoder, expected_genesis: bytes | None = None
) -> PackageReport:
    """Verify a legal package offline; raise `IntegrityViolation` naming the first failure."""
    folder = Path(folder)
    if not (folder / MANIFEST).is_file() or not (folder / "events.ndjson").is_file():
        raise UsageError(f"{folder} is not a Chartledger legal package (no {MANIFEST}).")
    report = PackageReport()
    checkpoint_note = _read_text(folder / "checkpoint.txt")
    subject_keys = _subject_keys(folder / "subject-keys.json")
    registry = KeyRegistry()
    heads: dict[UUID, tuple[int, bytes]] = {}
    proven = _Proven()
    pending: list[tuple[LogEvent, bytes, list[bytes]]] = []
    last = -1
    for event, proof, redacted in _read_events(folder / "events.ndjson"):
        if event.position <= last:
            raise _package("events.ndjson is not in log order", event.position)
        last = event.position
        head = heads.get(event.originator_id)
        expected: bytes | None = envelope.GENESIS_PREV if head is None else head[1]
        problem = ""
        if head is None and event.originator_version != 1:
            expected, problem = None, "the package omits the aggregate's earlier events"
        elif head is not None and event.originator_version != head[0] + 1:
            expected, problem = None, "the package omits some of the aggregate's events"
        ref = f"{event.originator_id}/{event.originator_version}"
        if redacted is not None:
            digest = _admit_redacted(event, redacted, registry, expected, problem)
            proven.redacted.add(ref)
        else:
            digest = admit(
                event,
                event.position,
                registry,
                transcoder,
                expected,
                check_signature=True,
                chain_problem=problem,
            ).digest
        heads[event.originator_id] = (event.originator_version, digest)
        pending.append((event, digest, proof))
        proven.ids.add(ref)
        body = None if redacted is not None else _readable_body(event, subject_keys, transcoder)
        if body is not None:
            proven.bodies[ref] = (event.topic, body)
    report.genesis = registry.genesis
    if expected_genesis is not None and registry.genesis != expected_genesis:
        raise IntegrityViolation(
            "genesis",
            f"the package's genesis key is not the trust anchor you gave "
            f"({expected_genesis.hex()[:16]}…)",
        )
    checkpoint = _open_checkpoint(checkpoint_note, registry)
    for event, digest, proof in pending:
        if event.position >= checkpoint.size:
            raise _package("an event lies beyond the signed checkpoint", event.position)
        try:
            merkle.verify_inclusion(
                merkle.leaf_hash(digest), event.position, checkpoint.size, proof, checkpoint.root
            )
        except IntegrityViolation:
            raise IntegrityViolation(
                "inclusion",
                "the event's inclusion proof does not lead to the signed root",
                position=event.position,
                originator_id=event.originator_id,
                originator_version=event.originator_version,
            ) from None
    report.events, report.aggregates = len(pending), len(heads)
    report.tree_size, report.root = checkpoint.size, checkpoint.root
    report.signed_by, report.files = _check_manifest(folder, registry, checkpoint.size)
    report.documents = _check_documents(folder, proven)
    report.cited = _check_citations(folder, proven)
    report.entries = _check_entries(folder, proven)
    report.redacted = len(proven.redacted)
    return report


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise IntegrityViolation("package", f"{path.name} is missing or unreadable") from None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise IntegrityViolation("package", f"{path.name} is missing or not JSON") from None


def _package(detail: str, position: int | None = None) -> IntegrityViolation:
    return IntegrityViolation("package", detail, position=position)


def _subject_keys(path: Path) -> dict[str, bytes]:
    document = _read_json(path)
    if not isinstance(document, dict) or not isinstance(document.get("keys"), dict):
        raise _package("subject-keys.json lacks its keys")
    try:
        return {str(k): base64.b64decode(v, validate=True) for k, v in document["keys"].items()}
    except (binascii.Error, ValueError, TypeError):
        raise _package("subject-keys.json holds a key that is not base64") from None


@dataclass(frozen=True)
class _Redacted:
    """A redacted event's envelope fields: what its signature and hash need, without its body."""

    body_sha256: bytes
    prev: bytes
    signer: bytes
    sig: bytes


def _read_events(path: Path) -> Iterator[tuple[LogEvent, list[bytes], _Redacted | None]]:
    with path.open("rb") as lines:  # bytes: invalid UTF-8 is a bad line, not a traceback
        for number, line in enumerate(lines, start=1):
            try:
                obj = json.loads(line)
                redacted = None
                if obj.get("redacted") is True:
                    redacted = _Redacted(
                        *(
                            base64.b64decode(obj[k], validate=True)
                            for k in ("body_sha256", "prev", "signer", "sig")
                        )
                    )
                    if obj.get("enc") is not None and not isinstance(obj["enc"], dict):
                        raise TypeError
                event = LogEvent(
                    position=int(obj["position"]),
                    originator_id=UUID(obj["originator_id"]),
                    originator_version=int(obj["originator_version"]),
                    topic=str(obj["topic"]),
                    state=b"" if redacted else base64.b64decode(obj["state"], validate=True),
                )
                proof = [base64.b64decode(h, validate=True) for h in obj["proof"]]
            except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
                raise _package(f"events.ndjson line {number} is not a valid event line") from None
            yield event, proof, redacted


def _admit_redacted(
    event: LogEvent,
    redacted: _Redacted,
    registry: KeyRegistry,
    expected_prev: bytes | None,
    chain_problem: str,
) -> bytes:
    """Check a redacted event as `admit` checks a whole one (signer's key valid at its position,
    chain, signature) from its body's SHA-256; return its event hash."""
    where: Where = {
        "position": event.position,
        "originator_id": event.originator_id,
        "originator_version": event.originator_version,
    }
    if event.topic in KEY_TOPICS:
        raise IntegrityViolation("package", "a key event cannot be redacted", **where)
    sizes = (len(redacted.body_sha256), len(redacted.prev), len(redacted.signer), len(redacted.sig))
    if sizes != (32, 32, 32, 64):
        raise IntegrityViolation(
            "envelope", "a redacted event's fields have wrong lengths", **where
        )
    raw_key = registry.signing_key(
        position=event.position,
        originator_id=event.originator_id,
        originator_version=event.originator_version,
        topic=event.topic,
        signer=redacted.signer,
        body=None,
    )
    if expected_prev is None:
        raise IntegrityViolation("chain", chain_problem, **where)
    if redacted.prev != expected_prev:
        raise IntegrityViolation(
            "chain", "the event does not follow the aggregate's previous event", **where
        )
    pre = envelope.preimage_of_digest(
        event.originator_id,
        event.originator_version,
        event.topic,
        redacted.body_sha256,
        redacted.prev,
        redacted.signer,
    )
    envelope.verify_signature(public_key_from_raw(raw_key), pre, redacted.sig, **where)
    return envelope.event_hash(pre, redacted.sig)


def _readable_body(
    event: LogEvent, keys: dict[str, bytes], transcoder: Transcoder
) -> dict[str, Any] | None:
    """The event's decoded body, decrypted with the package's subject keys; None if not held."""
    opened = envelope.unpack(
        event.state, originator_id=event.originator_id, originator_version=event.originator_version
    )
    body = opened.body
    if opened.enc is not None:
        kid = str(opened.enc.get("kid", ""))
        if opened.enc.get("alg") != ALGORITHM or kid not in keys:
            return None
        try:
            body = open_body(keys[kid], kid, body)
        except IntegrityViolation:  # the key in the package is not this event's key
            raise IntegrityViolation(
                "decryption",
                "the package's subject key does not open this event",
                position=event.position,
                originator_id=event.originator_id,
                originator_version=event.originator_version,
            ) from None
    decoded = transcoder.decode(body)
    return cast(dict[str, Any], decoded) if isinstance(decoded, dict) else None


def _open_checkpoint(note: str, registry: KeyRegistry) -> notes.Checkpoint:
    origin = note.split("\n", 1)[0]
    node_keys = [
        notes.NoteVerifier(origin, public_key_from_raw(record.public_key))
        for record in registry.keys.values()
        if record.user == NODE_USER
    ]
    if not node_keys:
        raise _package("the package holds no node key to check its checkpoint with")
    return notes.open_checkpoint(note, node_keys)


def _check_manifest(folder: Path, registry: KeyRegistry, size: int) -> tuple[str, int]:
    manifest = _read_json(folder / MANIFEST)
    if not isinstance(manifest, dict) or manifest.get("format") not in FORMATS:
        raise _package(f"{MANIFEST} is not of format {FORMAT}")
    try:
        signature = base64.b64decode(manifest.pop("signature"), validate=True)
        signer = bytes.fromhex(manifest["signer"])
        files: dict[str, str] = dict(manifest["files"])
    except (KeyError, ValueError, TypeError, binascii.Error):
        raise _package(f"{MANIFEST} lacks its signer, signature or files") from None
    record = registry.keys.get(signer)
    if record is None or not record.valid_at(size - 1):
        raise IntegrityViolation(
            "manifest", "the manifest is signed by a key not valid when the package was made"
        )
    if record.user != manifest.get("made_by"):
        raise IntegrityViolation("manifest", "the manifest names another maker than its key")
    from cryptography.exceptions import InvalidSignature

    try:
        public_key_from_raw(record.public_key).verify(signature, canonical(manifest))
    except InvalidSignature:
        raise IntegrityViolation("manifest", "the manifest's signature does not match") from None
    present = {
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and path.name != MANIFEST
    }
    if present != set(files):
        extra = sorted(present - set(files)) or sorted(set(files) - present)
        raise IntegrityViolation(
            "manifest", f"the files differ from the manifest (first: {extra[0]})"
        )
    for name, digest in files.items():
        if hashlib.sha256((folder / name).read_bytes()).hexdigest() != digest:
            raise IntegrityViolation("manifest", f"{name} is not the file the manifest signed")
    return record.user, len(files)


def _check_documents(folder: Path, proven: _Proven) -> int:
    """Each file in documents/ is named `ID-…` and hashes to the SHA-256 of its proven `Filed`
    event, or of its `Refiled` event when it was moved from another chart (whose key, and so
    whose `Filed` event, the package does not hold)."""
    filed = {
        ref.split("/")[0]: str(body.get("sha256", ""))
        for ref, (topic, body) in proven.bodies.items()
        if topic in (DOCUMENT_FILED_TOPIC, DOCUMENT_REFILED_TOPIC)
    }
    count = 0
    documents = folder / "documents"
    for path in sorted(documents.iterdir()) if documents.is_dir() else []:
        document_id = path.name[:36]
        expected = filed.get(document_id)
        if expected is None:
            raise IntegrityViolation(
                "document", f"documents/{path.name} has no proven filing event in the package"
            )
        if hashlib.sha256(path.read_bytes()).hexdigest() != expected:
            raise IntegrityViolation(
                "document",
                f"documents/{path.name} is not the document whose SHA-256 was signed when filed",
            )
        count += 1
    return count


def _cited(value: Any) -> Iterator[str]:
    """Every event id (`UUID/VERSION`) cited under an "event" key anywhere in a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "event" and isinstance(item, str) and "/" in item:
                yield item
            else:
                yield from _cited(item)
    elif isinstance(value, list):
        for item in value:
            yield from _cited(item)


def _check_citations(folder: Path, proven: _Proven) -> int:
    count = 0
    for name in ("record.json", "history.json", "audit-trail.json"):
        path = folder / name
        if not path.is_file():
            raise _package(f"{name} is missing")
        for ref in _cited(_read_json(path)):
            if ref not in proven.ids:
                raise IntegrityViolation(
                    "citation", f"{name} cites event {ref}, which the package does not prove"
                )
            count += 1
    return count


def _check_entries(folder: Path, proven: _Proven) -> int:
    """Each entry's text in record.json is its last proven version's text up to the as-of time."""
    record = _read_json(folder / "record.json")
    as_of = record.get("as_of") if isinstance(record, dict) else None
    limit = datetime.fromisoformat(as_of) if isinstance(as_of, str) else None
    latest: dict[str, tuple[datetime, str]] = {}
    for _, (topic, body) in proven.bodies.items():
        if topic not in ENTRY_TOPICS or "entry_id" not in body:
            continue
        stamp = body.get("timestamp")
        if not isinstance(stamp, datetime) or (limit is not None and stamp > limit):
            continue
        key = str(body["entry_id"])
        if key not in latest or stamp >= latest[key][0]:
            latest[key] = (stamp, str(body.get("text", "")))
    withheld = record.get("withheld") if isinstance(record, dict) else None
    hidden = withheld.get("entries", []) if isinstance(withheld, dict) else []
    readable = {
        str(body["entry_id"])
        for topic, body in proven.bodies.values()
        if topic in ENTRY_TOPICS and "entry_id" in body
    }
    for ref in hidden if isinstance(hidden, list) else []:
        if str(ref).rsplit(":", 1)[-1] in readable:
            raise IntegrityViolation(
                "record", f"record.json withholds entry {ref}, but the package discloses its text"
            )
    count = 0
    for encounter in record.get("encounters", []) if isinstance(record, dict) else []:
        for entry in encounter.get("entries", []):
            found = latest.get(str(entry.get("id")))
            if found is None:
                raise IntegrityViolation(
                    "record", f"record.json shows entry {entry.get('id')}, which no event proves"
                )
            if found[1] != entry.get("text"):
                raise IntegrityViolation(
                    "record",
                    f"record.json's text of entry {entry.get('id')} is not the text its proven "
                    "events hold",
                )
            count += 1
    return count
