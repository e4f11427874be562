"""The export folder (contract: docs/format.md section 4) and its offline verification.

An export holds the stored bytes of every event in log order, every signed checkpoint and every
public key the ledger has known. Verifying it needs this project and nothing else: no database,
no patient-data key (signatures cover the stored, possibly encrypted, bytes).
`ledger.integrity.export` writes one.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Transcoder

from ledger.errors import IntegrityViolation, UsageError
from ledger.verifier.identities import NODE_USER, user_id
from ledger.verifier.log import LogEvent, Report, verify_log
from ledger.verifier.registry import KeyRecord, KeyRegistry, end_rotated_keys_exclusively

FORMAT = "chartledger-export/3"
"""/3 (issue 17): in keys.json every key is valid from `valid_from` (inclusive) to `revoked_at`
(exclusive), so a key rotated at p has `revoked_at` p + 1 (docs/format.md sections 3 and 4).
/2 (issue 10) had the same key rules but wrote p for a rotated key (an inclusive bound there):
a /2 export is still verified, its keys.json read under that rule. A /1 export was made under
the earlier key rules and is refused."""
FORMAT_2 = "chartledger-export/2"


def key_document(registry: KeyRegistry, origin: str, node_public_key: bytes) -> dict[str, Any]:
    """keys.json: every signer, the node key and the genesis fingerprint."""
    return {
        "format": FORMAT,
        "origin": origin,
        "genesis": registry.genesis.hex() if registry.genesis else None,
        "node": {"name": origin, "public_key": b64(node_public_key)},
        "signers": {
            record.fingerprint.hex(): {
                "public_key": b64(record.public_key),
                "user": record.user,
                "user_id": str(record.user_id),
                "roles": record.roles,
                "valid_from": record.valid_from,
                "revoked_at": record.revoked_at,
            }
            for record in sorted(registry.keys.values(), key=lambda r: r.valid_from)
        },
    }


def verify_export(
    folder: Path,
    *,
    transcoder: Transcoder,
    expected_genesis: bytes | None = None,
    workers: int | None = None,
) -> Report:
    """Verify an export folder offline; raise `IntegrityViolation` naming the first failure."""
    if not (folder / "events.ndjson").is_file() or not (folder / "keys.json").is_file():
        raise UsageError(f"{folder} is not a Chartledger export (no events.ndjson or keys.json).")
    keys = _read_keys(folder / "keys.json")
    origin = str(keys["origin"])
    checkpoints = _read_checkpoints(folder / "checkpoints")
    report = verify_log(
        _read_events(folder / "events.ndjson"),
        checkpoints,
        origin=origin,
        transcoder=transcoder,
        expected_genesis=expected_genesis,
        workers=workers,
    )
    _check_keys_match(report.registry, keys)
    _check_covered(report, checkpoints)
    return report


def _check_covered(report: Report, checkpoints: list[tuple[int, str]]) -> None:
    """Every exported event must be under the last signed root: events past it could be cut off
    (or added) and nothing signed would tell. `verify_log` has already checked each checkpoint
    against the events, so the last one's root is the report's root when the sizes agree."""
    last = max((size for size, _ in checkpoints), default=None)
    if last is None:
        raise IntegrityViolation(
            "coverage", "the export holds no signed checkpoint, so no event in it is covered"
        )
    if last != report.tree_size:
        raise IntegrityViolation(
            "coverage",
            f"the export holds {report.tree_size} events but its last signed checkpoint covers "
            f"only {last}: the events from log position {last} on are under no signed root",
            position=last,
        )


def _read_keys(path: Path) -> dict[str, Any]:
    try:
        keys = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise IntegrityViolation("export format", "keys.json is not readable JSON") from None
    if isinstance(keys, dict) and keys.get("format") == "chartledger-export/1":
        raise IntegrityViolation(
            "export format",
            "keys.json is of format chartledger-export/1, made under the key rules before "
            f"{FORMAT_2} (an administrator enrolled keys); this verifier checks {FORMAT_2} and "
            f"{FORMAT} only",
        )
    if not isinstance(keys, dict) or keys.get("format") not in (FORMAT, FORMAT_2):
        raise IntegrityViolation(
            "export format", f"keys.json is not of format {FORMAT} (or {FORMAT_2})"
        )
    if not isinstance(keys.get("origin"), str) or not isinstance(keys.get("signers"), dict):
        raise IntegrityViolation("export format", "keys.json lacks its origin or signers")
    return keys


def _read_checkpoints(folder: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.txt")):
        if not path.stem.isdigit():
            raise IntegrityViolation("export format", f"checkpoint file {path.name} is misnamed")
        try:
            found.append((int(path.stem), path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError):
            raise IntegrityViolation(
                "export format", f"checkpoint file {path.name} is not readable text"
            ) from None
    return found


def _read_events(path: Path) -> Iterator[LogEvent]:
    with path.open("rb") as lines:  # bytes: invalid UTF-8 is a bad line, not a traceback
        for number, line in enumerate(lines, start=1):
            try:
                obj = json.loads(line)
                yield LogEvent(
                    position=int(obj["position"]),
                    originator_id=UUID(obj["originator_id"]),
                    originator_version=int(obj["originator_version"]),
                    topic=str(obj["topic"]),
                    state=base64.b64decode(obj["state"], validate=True),
                )
            except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
                raise IntegrityViolation(
                    "export format", f"events.ndjson line {number} is not a valid event line"
                ) from None


def _check_keys_match(registry: KeyRegistry, keys: dict[str, Any]) -> None:
    """keys.json must say exactly what the log itself establishes about every key."""
    derived = key_document(registry, str(keys["origin"]), b"")["signers"]
    listed = keys["signers"]
    if keys["format"] == FORMAT_2:
        listed = _under_exclusive_bounds(listed)
    for fp, record in derived.items():
        if listed.get(fp) != record:
            raise IntegrityViolation(
                "keys", f"keys.json does not match the log for signer {fp[:16]}…"
            )
    extra = set(listed) - set(derived)
    if extra:
        raise IntegrityViolation(
            "keys", f"keys.json lists a signer the log never enrolled: {sorted(extra)[0][:16]}…"
        )
    if keys.get("genesis") != (registry.genesis.hex() if registry.genesis else None):
        raise IntegrityViolation("keys", "keys.json names a different genesis key than the log")
    node = registry.current.get(user_id(NODE_USER))
    listed_node = keys.get("node")
    if (
        node is None
        or not isinstance(listed_node, dict)
        or listed_node.get("name") != keys["origin"]
        or listed_node.get("public_key") != b64(registry.keys[node].public_key)
    ):
        raise IntegrityViolation("keys", "keys.json does not name the log's node key")


def _under_exclusive_bounds(listed: dict[str, Any]) -> dict[str, Any]:
    """A /2 keys.json's signers as /3 writes them: a rotated key's `revoked_at` one later."""
    try:
        records = {
            fp: KeyRecord(
                fingerprint=b"",
                public_key=b"",
                user="",
                user_id=UUID(str(item["user_id"])),
                roles=[],
                valid_from=int(item["valid_from"]),
                revoked_at=None if item["revoked_at"] is None else int(item["revoked_at"]),
            )
            for fp, item in listed.items()
        }
    except (KeyError, TypeError, ValueError, AttributeError):
        raise IntegrityViolation("keys", "keys.json lists a signer without its bounds") from None
    end_rotated_keys_exclusively(list(records.values()))
    return {fp: {**item, "revoked_at": records[fp].revoked_at} for fp, item in listed.items()}


def records_from_document(keys: dict[str, Any]) -> list[KeyRecord]:
    """The key records listed in a keys.json document (for display)."""
    return [
        KeyRecord(
            fingerprint=bytes.fromhex(fp),
            public_key=base64.b64decode(item["public_key"]),
            user=item["user"],
            user_id=UUID(item["user_id"]),
            roles=list(item["roles"]),
            valid_from=int(item["valid_from"]),
            revoked_at=item["revoked_at"],
        )
        for fp, item in keys["signers"].items()
    ]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
