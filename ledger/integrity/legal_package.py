"""The proof part of a legal request package (format.md section 6), written for the package.

A legal package (`chartledger legal package`) holds one patient's record as it stood on a date,
its history, its access and disclosure trail and its documents, written by `projections.legal`.
This module writes what makes it provable: `events.ndjson` (the stored bytes of every event the
package rests on, each with its inclusion proof), `checkpoint.txt` (signed by the node key),
`subject-keys.json` (the patient's data keys) and `MANIFEST.json` (signed by the maker).
`ledger.verifier.package` says what each holds and verifies a package offline.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ledger.aggregates.user import KEY_TOPICS
from ledger.files import open_text, write_text
from ledger.verifier import envelope
from ledger.verifier.package import FORMAT, MANIFEST, canonical

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.integrity.keys import Identity


def write_proofs(
    ledger: Ledger,
    folder: Path,
    *,
    aggregate_ids: Iterable[UUID],
    subjects: Iterable[UUID],
    node: Identity,
    redact: Iterable[tuple[UUID, int]] = (),
) -> tuple[int, int]:
    """Sign a checkpoint and write every version of these aggregates (and of every user) with
    its inclusion proof, and the subjects' data keys. Returns (events written, tree size).

    The events named in `redact` (aggregate id, version) are written without their body: the
    envelope's other fields and the body's SHA-256, which is all the signature, the event hash,
    the chain and the inclusion proof need (format.md section 6)."""
    size, note = ledger.checkpoint(node)
    log = ledger.merkle_log
    wanted = set(aggregate_ids) | _user_ids(ledger)
    hidden = set(redact)
    lines: list[tuple[int, dict[str, Any]]] = []
    for oid in wanted:
        for stored in ledger.recorder.select_events(oid):
            leaf = log.find(oid, stored.originator_version)
            if leaf.position >= size:
                continue  # recorded after the checkpoint (not possible while one writer signs)
            line: dict[str, Any] = {
                "position": leaf.position,
                "originator_id": str(oid),
                "originator_version": stored.originator_version,
                "topic": stored.topic,
            }
            if (oid, stored.originator_version) in hidden and stored.topic not in KEY_TOPICS:
                line.update(_redacted(stored.state))
            else:
                line["state"] = _b64(stored.state)
            line["proof"] = [_b64(h) for h in log.inclusion_proof(leaf.position, size)]
            lines.append((leaf.position, line))
    lines.sort(key=lambda item: item[0])
    with open_text(folder / "events.ndjson", force=True) as out:
        for _, line in lines:
            out.write(json.dumps(line, separators=(",", ":")) + "\n")
    write_text(folder / "checkpoint.txt", note, force=True)
    keys: dict[str, str] = {}
    if ledger.data_keys.available:
        from ledger.integrity.data_keys import key_id_for

        for subject in subjects:
            kid = key_id_for(subject)
            try:
                keys[kid] = _b64(ledger.data_keys.key(kid))
            except KeyError:
                continue  # nothing of this subject was ever encrypted
    write_text(
        folder / "subject-keys.json",
        json.dumps({"format": FORMAT, "keys": keys}, indent=2) + "\n",
        force=True,
    )
    return len(lines), size


def _redacted(state: bytes) -> dict[str, Any]:
    """An event line without its body: the envelope's fields and the body's SHA-256."""
    opened = envelope.unpack(state)
    return {
        "redacted": True,
        "body_sha256": _b64(hashlib.sha256(opened.body).digest()),
        "enc": opened.enc,
        "prev": _b64(opened.prev),
        "signer": _b64(opened.signer),
        "sig": _b64(opened.sig),
    }


def _user_ids(ledger: Ledger) -> set[UUID]:
    """Every user the log has known, the node included (their events make keys valid)."""
    return {record.user_id for record in ledger.merkle_log.registry().keys.values()}


def sign_manifest(folder: Path, signer: Identity, *, origin: str, made_at: datetime) -> None:
    """MANIFEST.json: the SHA-256 of every file in the package, signed by its maker."""
    files = {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }
    body = {
        "format": FORMAT,
        "origin": origin,
        "made_at": made_at.isoformat(),
        "made_by": signer.name,
        "signer": signer.fingerprint.hex(),
        "files": files,
    }
    signature = signer.sign(canonical(body))
    manifest = {**body, "signature": _b64(signature)}
    write_text(folder / MANIFEST, json.dumps(manifest, indent=2) + "\n", force=True)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
