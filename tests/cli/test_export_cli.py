"""`export` ends at a signed checkpoint of everything it holds, and `verify --export` says which.

An export used to end with the events recorded after the latest checkpoint (nothing signed covered
them), so cutting them off could not be seen. Each test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from pathlib import Path
from uuid import UUID

from tests.cli.test_cli import Chartledger

ENDS_AT = re.compile(
    r"(?:ends|ending) at the signed checkpoint of tree size (\d+) \(root ([A-Za-z0-9+/=]{44})\)"
)


def _lines(folder: Path) -> list[str]:
    return (folder / "events.ndjson").read_text(encoding="utf-8").splitlines()


def _checkpoint_sizes(folder: Path) -> list[int]:
    return sorted(int(path.stem) for path in (folder / "checkpoints").glob("*.txt"))


def _root_of(folder: Path, size: int) -> str:
    note = (folder / "checkpoints" / f"{size:012d}.txt").read_text(encoding="utf-8")
    return base64.b64decode(note.split("\n")[2]).hex()


def _offline(tmp_path: Path) -> Chartledger:
    return Chartledger(tmp_path / "elsewhere", "sqlite:////nonexistent/never.db")


def _verify(tmp_path: Path, folder: Path, *, ok: bool = True) -> str:
    return str(_offline(tmp_path)("verify", "--export", str(folder), actor=None, ok=ok).output)


def _latest_checkpoint(run: Chartledger) -> int:
    return int(json.loads(run("log", "status", "--json").output)["latest_checkpoint"])


def _write_lines(folder: Path, lines: list[str]) -> None:
    (folder / "events.ndjson").write_text("".join(line + "\n" for line in lines), "utf-8")


def test_an_export_after_new_events_is_covered_by_a_fresh_checkpoint(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, mrn = clinic
    run("checkpoint")
    old = _latest_checkpoint(run)
    run("patient", "show", mrn, "--purpose", "operations", actor="tech1")  # new events
    folder = tmp_path / "export"
    done = run("export", str(folder), "--purpose", "outside audit")
    lines = _lines(folder)
    sizes = _checkpoint_sizes(folder)
    assert len(lines) > old and sizes[-1] == len(lines) and old in sizes
    announced = ENDS_AT.search(done.output)
    assert announced is not None, done.output
    assert int(announced.group(1)) == len(lines)
    assert base64.b64decode(announced.group(2)).hex() == _root_of(folder, len(lines))
    verified = _verify(tmp_path, folder)
    said = ENDS_AT.search(verified)
    assert said is not None, verified
    assert said.groups() == announced.groups()
    as_json = _offline(tmp_path)("verify", "--export", str(folder), "--json", actor=None)
    ends = json.loads(as_json.output)["ends_at"]
    assert ends == {"tree_size": len(lines), "root": _root_of(folder, len(lines))}


def test_events_past_the_last_checkpoint_are_refused(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, _ = clinic
    first, second = tmp_path / "first", tmp_path / "second"
    run("export", str(first), "--purpose", "audit")
    run("export", str(second), "--purpose", "audit")  # holds the first export's own record
    size = len(_lines(first))
    extra = _lines(second)[size:]
    assert extra and json.loads(extra[0])["topic"] == "chartledger/export/exported"
    _write_lines(first, _lines(first) + extra)  # honest, signed events, under no signed root
    refused = _verify(tmp_path, first, ok=False)
    assert "'coverage'" in refused and f"covers only {size}" in refused
    assert f"log position {size}" in refused and len(refused.strip().splitlines()) == 1


def test_an_export_with_its_last_events_cut_off(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    """A careless cut (events only) is refused. A careful one (events back to an earlier
    checkpoint, and the checkpoints after it deleted) leaves a smaller export that verifies on
    its own; what still tells is the checkpoint it ends at, which `verify --export` prints and
    `export` announced, and the ledger's signed record of the export (tree size, each file's
    SHA-256)."""
    run, mrn = clinic
    run("checkpoint")
    earlier = _latest_checkpoint(run)
    run("patient", "show", mrn, "--purpose", "operations", actor="tech1")
    folder = tmp_path / "export"
    done = run("export", str(folder), "--purpose", "outside audit")
    lines, sizes = _lines(folder), _checkpoint_sizes(folder)
    assert sizes[-1] == len(lines) and earlier in sizes and earlier < len(lines)

    careless = tmp_path / "careless"
    shutil.copytree(folder, careless)
    _write_lines(careless, lines[:-1])
    refused = _verify(tmp_path, careless, ok=False)
    assert "'checkpoint'" in refused and "cut back" in refused

    careful = tmp_path / "careful"
    shutil.copytree(folder, careful)
    _write_lines(careful, lines[:earlier])
    for size in sizes:
        if size > earlier:
            (careful / "checkpoints" / f"{size:012d}.txt").unlink()
    verified = _verify(tmp_path, careful)  # nothing inside the folder betrays the cut …
    said, announced = ENDS_AT.search(verified), ENDS_AT.search(done.output)
    assert said is not None and announced is not None
    assert int(said.group(1)) == earlier != int(announced.group(1))  # … but where it ends does
    assert said.group(2) != announced.group(2)

    from ledger.home import LedgerHome
    from ledger.integrity.export_record import ExportRecord

    record_id = re.search(r"recorded as export ([0-9a-f-]{36})", done.output)
    assert record_id is not None
    with LedgerHome(run.home).open(run.store_url) as ledger:
        record = ledger.repository.get(UUID(record_id.group(1)))
    assert isinstance(record, ExportRecord)
    assert record.tree_size == len(lines) and record.root == _root_of(folder, len(lines))
    cut = hashlib.sha256((careful / "events.ndjson").read_bytes()).hexdigest()
    assert record.files["events.ndjson"] != cut
    whole = hashlib.sha256((folder / "events.ndjson").read_bytes()).hexdigest()
    assert record.files["events.ndjson"] == whole
