"""The verifier written from docs/format.md alone agrees with `chartledger verify --export`.

An honest ledger is made through the command line (self-rotations, a revocation, a reinstated
user who enrols again, a patient's encrypted events, several checkpoints) on SQLite and
PostgreSQL and exported; each case below is that export, honest or tampered. Both verifiers must
accept the same ones, refuse the same ones, and name the same log position when both name one.
The tampered events are made here with this project's envelope and checkpoint code, the way an
attacker holding stolen keys would; only the verdicts come from the two verifiers.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cli.main import cli as chartledger
from ledger.integrity.keys import Identity, load_identity
from ledger.verifier import checkpoint as notes
from ledger.verifier import envelope, merkle
from ledger.verifier.identities import user_id
from ledger.verifier.transcoder import packb
from tests.cli.test_cli import Chartledger
from tests.spec_verifier.verify_export import SpecViolation, verify_export

FIXTURE_2 = Path(__file__).resolve().parents[1] / "data" / "export-2"
POSITION = re.compile(r"log position (\d+)")


def _lines(folder: Path) -> list[dict[str, object]]:
    text = (folder / "events.ndjson").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def _write(folder: Path, lines: list[dict[str, object]]) -> None:
    text = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
    (folder / "events.ndjson").write_text(text, encoding="utf-8")


def _digest(line: dict[str, object]) -> bytes:
    """The event hash of an export line (section 1.3)."""
    _, _, digest = envelope.opened_hash(_Row(line), int(str(line["position"])))
    return digest


class _Row:
    """An export line as the envelope module reads a stored row."""

    def __init__(self, line: dict[str, object]) -> None:
        from uuid import UUID

        self.originator_id = UUID(str(line["originator_id"]))
        self.originator_version = int(str(line["originator_version"]))
        self.topic = str(line["topic"])
        self.state = base64.b64decode(str(line["state"]))


def _sign_checkpoint(folder: Path, node: Identity) -> None:
    """A checkpoint of every line, signed with the (stolen) node key, as the last one."""
    lines = _lines(folder)
    tree = merkle.MemoryTree()
    tree.extend([merkle.leaf_hash(_digest(line)) for line in lines])
    origin = json.loads((folder / "keys.json").read_text())["origin"]
    note = notes.sign_checkpoint(
        notes.Checkpoint(origin=origin, size=len(lines), root=tree.root()),
        name=origin,
        private_key=node.private_key,
    )
    (folder / "checkpoints" / f"{len(lines):012d}.txt").write_text(note, encoding="utf-8")


def _event(
    after: dict[str, object], topic: str, body: dict[str, object], signer: Identity
) -> dict[str, object]:
    """The next event of `after`'s aggregate, signed by `signer`."""
    from uuid import UUID

    oid, version = UUID(str(after["originator_id"])), int(str(after["originator_version"])) + 1
    raw = packb(body)
    prev = _digest(after)
    pre = envelope.preimage(oid, version, topic, raw, prev, signer.fingerprint)
    state = envelope.pack(envelope.Envelope(raw, None, prev, signer.fingerprint, signer.sign(pre)))
    return {
        "position": 0,
        "originator_id": str(oid),
        "originator_version": version,
        "topic": topic,
        "state": base64.b64encode(state).decode(),
    }


@pytest.fixture
def honest(clinic: tuple[Chartledger, str], tmp_path: Path) -> tuple[Chartledger, Path]:
    """An export of a ledger with self-rotations, a revocation and a reinstated user."""
    run, mrn = clinic
    run("checkpoint")
    run("patient", "show", mrn, "--purpose", "operations", actor="tech1")
    run("user", "rotate-key", "dr1", "--no-passphrase", actor="dr1")
    run("user", "rotate-key", "dr1", "--no-passphrase", actor="dr1")  # twice in a row
    run.enrol("admin2", "administrator")
    run("user", "revoke", "coder1", "--reason", "left", actor="admin2")
    run("checkpoint")
    printed = run("user", "reinstate", "coder1", "--reason", "back", actor="admin").output
    code = re.search(r"\b[A-Z2-7]{5}(?:-[A-Z2-7]{5}){3}\b", printed)
    assert code is not None
    shutil.rmtree(run.homes / "coder1")
    keys = run.home / "keys"
    run(
        "user", "enroll", "coder1", "--code", code.group(0), "--no-passphrase",
        "--master-key", str(keys / "master.key"), "--node-key", str(keys / "node.key"),
        actor="coder1", home=run.homes / "coder1",
    )  # fmt: skip
    run("user", "rotate-key", "admin", "--no-passphrase", actor="admin")
    run("patient", "show", mrn, "--purpose", "operations", actor="dr1")
    folder = tmp_path / "export"
    run("export", str(folder), "--purpose", "outside audit")
    return run, folder


def _verdicts(folder: Path, tmp_path: Path, genesis: str | None = None) -> tuple[dict, dict]:
    """What `chartledger verify --export` and the spec verifier say of FOLDER."""
    offline = Chartledger(tmp_path / "elsewhere", "sqlite:////nonexistent/never.db")
    args = ["verify", "--export", str(folder), "--json"] + (
        ["--genesis", genesis] if genesis else []
    )
    result = offline.runner.invoke(
        chartledger,
        args,
        env={"CHARTLEDGER_HOME": str(offline.home), "CHARTLEDGER_USER": ""},
        catch_exceptions=False,
    )
    assert "Traceback" not in result.output
    if result.exit_code == 0:
        report = json.loads(result.output)
        cli = {"ok": True, "tree_size": report["tree_size"], "root": report["root"]}
    else:
        found = POSITION.search(result.output)
        cli = {"ok": False, "position": int(found.group(1)) if found else None}
        cli["message"] = result.output.strip()
        assert result.exit_code == 10, result.output
    try:
        done = verify_export(folder, bytes.fromhex(genesis) if genesis else None)
        spec = {
            "ok": True,
            "tree_size": done.tree_size,
            "root": base64.b64encode(done.root).decode(),
        }
    except SpecViolation as failure:
        spec = {"ok": False, "position": failure.position, "message": str(failure)}
    return cli, spec


def _agree(cli: dict, spec: dict) -> None:
    assert cli["ok"] == spec["ok"], (cli, spec)
    if cli["ok"]:
        assert cli == spec
    elif cli["position"] is not None and spec["position"] is not None:
        assert cli["position"] == spec["position"], (cli, spec)


def test_both_accept_an_honest_export_with_rotations_a_revocation_and_a_reinstatement(
    honest: tuple[Chartledger, Path], tmp_path: Path
) -> None:
    _, folder = honest
    keys = json.loads((folder / "keys.json").read_text())
    assert keys["format"] == "chartledger-export/3"
    by_user: dict[str, list[dict]] = {}
    for item in keys["signers"].values():
        by_user.setdefault(item["user"], []).append(item)
    # the shapes the document describes: dr1 rotated twice, coder1 revoked and enrolled again
    dr1 = sorted(by_user["dr1"], key=lambda item: item["valid_from"])
    assert len(dr1) == 3 and dr1[0]["revoked_at"] == dr1[1]["valid_from"]
    assert dr1[1]["revoked_at"] == dr1[2]["valid_from"] == dr1[1]["valid_from"] + 1
    coder1 = sorted(by_user["coder1"], key=lambda item: item["valid_from"])
    assert len(coder1) == 2 and coder1[1]["valid_from"] >= coder1[0]["revoked_at"] + 2
    lines = _lines(folder)
    rotation = next(
        line
        for line in lines
        if line["topic"] == "chartledger/user/key-rotated"
        and line["originator_id"] == str(user_id("dr1"))
    )
    assert rotation["position"] == dr1[0]["revoked_at"] - 1  # signed at p, valid until p + 1
    genesis = keys["genesis"]
    cli, spec = _verdicts(folder, tmp_path, genesis)
    _agree(cli, spec)
    assert cli["ok"] and cli["tree_size"] == len(lines)
    assert not _verdicts(folder, tmp_path, "00" * 32)[1]["ok"]  # the wrong trust anchor


def test_both_accept_an_export_2_made_by_the_old_code(tmp_path: Path) -> None:
    genesis = (FIXTURE_2 / "genesis.txt").read_text().strip()
    cli, spec = _verdicts(FIXTURE_2 / "export", tmp_path, genesis)
    _agree(cli, spec)
    assert cli["ok"] and cli["tree_size"] == 12
    # Read under the /3 rule instead, its rotations would end a key before the rotation it signed
    copy = tmp_path / "relabelled"
    shutil.copytree(FIXTURE_2 / "export", copy)
    keys = json.loads((copy / "keys.json").read_text())
    keys["format"] = "chartledger-export/3"
    (copy / "keys.json").write_text(json.dumps(keys))
    cli, spec = _verdicts(copy, tmp_path, genesis)
    _agree(cli, spec)
    assert not cli["ok"] and "'keys'" in cli["message"]


def _flip_a_byte_in_a_state(folder: Path, run: Chartledger) -> int:
    lines = _lines(folder)
    target = next(
        i for i, line in enumerate(lines) if line["topic"].startswith("chartledger/patient")
    )
    state = bytearray(base64.b64decode(str(lines[target]["state"])))
    state[len(state) // 2] ^= 0x01
    lines[target]["state"] = base64.b64encode(bytes(state)).decode()
    _write(folder, lines)
    return target


def _remove_an_event(folder: Path, run: Chartledger) -> int:
    """A careful removal: the positions after it are renumbered."""
    lines = _lines(folder)
    target = next(
        i for i, line in enumerate(lines) if line["topic"].startswith("chartledger/access")
    )
    del lines[target]
    for number, line in enumerate(lines):
        line["position"] = number
    _write(folder, lines)
    return target


def _events_past_the_last_checkpoint(folder: Path, run: Chartledger) -> int:
    later = folder.parent / "later"
    run("export", str(later), "--purpose", "again")  # holds the first export's own record
    lines = _lines(folder)
    _write(folder, lines + _lines(later)[len(lines) :])
    return len(lines)


def _forged_signature(folder: Path, run: Chartledger) -> int:
    """An event re-signed by a key that is not its signer's (the signer field kept)."""
    lines = _lines(folder)
    target = len(lines) // 2
    row = _Row(lines[target])
    opened = envelope.unpack(row.state)
    pre = envelope.preimage(
        row.originator_id,
        row.originator_version,
        row.topic,
        opened.body,
        opened.prev,
        opened.signer,
    )
    forged = opened._replace(sig=Identity.generate("mallory").sign(pre))
    lines[target]["state"] = base64.b64encode(envelope.pack(forged)).decode()
    _write(folder, lines)
    return target


def _rotation_signed_by_another(folder: Path, run: Chartledger) -> int:
    """admin (a valid administrator's key) rotates tech1's key, and the node key signs it in."""
    lines = _lines(folder)
    last = max(
        (line for line in lines if line["originator_id"] == str(user_id("tech1"))),
        key=lambda line: int(str(line["originator_version"])),
    )
    body = {
        "public_key": Identity.generate("tech1").public_raw,
        "actor": "admin",
        "timestamp": datetime.now(UTC),
    }
    event = _event(last, "chartledger/user/key-rotated", body, run.identity("admin"))
    event["position"] = len(lines)
    _write(folder, [*lines, event])
    _sign_checkpoint(folder, load_identity("node", run.home / "keys" / "node.key"))
    return len(lines)


@pytest.mark.parametrize(
    "tamper",
    [
        _flip_a_byte_in_a_state,
        _remove_an_event,
        _events_past_the_last_checkpoint,
        _forged_signature,
        _rotation_signed_by_another,
    ],
    ids=lambda tamper: tamper.__name__.strip("_"),
)
def test_both_refuse_a_tampered_export_at_the_same_position(
    honest: tuple[Chartledger, Path],
    tmp_path: Path,
    tamper: Callable[[Path, Chartledger], int],
) -> None:
    run, folder = honest
    genesis = json.loads((folder / "keys.json").read_text())["genesis"]
    assert _verdicts(folder, tmp_path, genesis)[0]["ok"]
    where = tamper(folder, run)
    cli, spec = _verdicts(folder, tmp_path, genesis)
    _agree(cli, spec)
    assert not cli["ok"] and not spec["ok"]
    assert cli["position"] == spec["position"], (cli, spec)
    if spec["position"] is None:  # a root that no longer matches names a checkpoint, not a row
        assert "'checkpoint'" in cli["message"] and spec["message"].startswith("checkpoint")
    else:
        assert spec["position"] >= where


def test_the_rotation_signed_by_another_is_named_for_its_authority(
    honest: tuple[Chartledger, Path], tmp_path: Path
) -> None:
    run, folder = honest
    where = _rotation_signed_by_another(folder, run)
    cli, spec = _verdicts(folder, tmp_path)
    assert "'authority'" in cli["message"] and spec["message"].startswith("authority")
    assert cli["position"] == spec["position"] == where
