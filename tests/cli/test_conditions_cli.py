"""Hostile conditions through the command line: one sentence, a non-zero exit, nothing changed.

The read-only home and the full disk are real: a tmpfs mounted in the test (as root; tests run as
root here, where chmod does not stop a write), remounted read-only, or filled to the last byte.
"""

from __future__ import annotations

import errno
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.home import LedgerHome
from ledger.stores.database import parse_store_url
from tests.cli.test_cli import Chartledger

PATIENT = ["patient", "register", "--given", "Ada", "--family", "Okafor", "--born", "1961-04-02"]
OTHER = ["patient", "register", "--given", "Bea", "--family", "Tamm", "--born", "1972-09-13"]


def _one_sentence(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("Error: "), output
    assert "Traceback" not in output
    return lines[0]


@pytest.fixture
def blank(store_url: str, tmp_path: Path) -> Chartledger:
    """The runner over a store that holds no ledger yet, with no home."""
    return Chartledger(tmp_path / "home", store_url)


def test_verify_on_a_mistyped_path_refuses_and_creates_no_file(tmp_path: Path) -> None:
    run = Chartledger(tmp_path / "home", f"sqlite:///{tmp_path / 'typo' / 'ledger.db'}")
    for command in (["verify"], ["user", "list"], ["checkpoint"]):
        result = run(*command, ok=False)
        assert "There is no ledger at" in _one_sentence(result.output)
        assert result.exit_code == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_verify_on_a_store_without_a_ledger_refuses_on_both_stores(blank: Chartledger) -> None:
    run = blank
    result = run("verify", ok=False)
    assert "There is no ledger at" in _one_sentence(result.output)
    store = parse_store_url(run.store_url)
    if store.kind == "sqlite":
        assert store.sqlite_path is not None and not store.sqlite_path.exists()
    else:
        import psycopg

        with psycopg.connect(run.store_url.split("?")[0]) as conn:
            found = conn.execute(
                "SELECT 1 FROM pg_namespace WHERE nspname=%s", (store.schema,)
            ).fetchone()
        assert found is None
    assert not run.home.exists()


def test_upgrade_is_idempotent_and_refuses_a_store_without_a_ledger(blank: Chartledger) -> None:
    run = blank
    refused = run("upgrade", ok=False)
    assert "There is no ledger at" in _one_sentence(refused.output)
    run("init", "--no-passphrase")
    assert "nothing to do" in run("upgrade").output
    assert "nothing to do" in run("upgrade").output
    run("verify")


@pytest.mark.parametrize("content", [b"PATIENT LIST\nnot a database\n" * 50, bytes(range(256)) * 8])
def test_a_file_that_is_not_a_database_gives_one_sentence(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "ledger.db"
    path.write_bytes(content)
    run = Chartledger(tmp_path / "home", f"sqlite:///{path}")
    for command in (["verify"], ["upgrade"], ["init", "--no-passphrase"]):
        result = run(*command, ok=False)
        assert "is not a ledger database" in _one_sentence(result.output)
        assert "PATIENT" not in result.output
    assert path.read_bytes() == content


# -- a read-only home and a full disk: a tmpfs of the test's own ---------------------------


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A small tmpfs mounted for this test only (skipped where mounting is not allowed)."""
    mount = tmp_path / "mnt"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({made.stderr.decode().strip()})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _ledger_in(mount: Path) -> Chartledger:
    run = Chartledger(mount / "home", f"sqlite:///{mount / 'home' / 'ledger.db'}")
    run("init", "--no-passphrase")
    run.enrol("tech1", "technician")
    run(*PATIENT, actor="tech1")
    return run


def _events(run: Chartledger) -> int:
    with LedgerHome(run.home).open(run.store_url) as ledger:
        return len(list(ledger.log_events()))


def test_a_read_only_home_gives_one_sentence_and_leaves_the_ledger_as_it_was(
    tmpfs: Path,
) -> None:
    run = _ledger_in(tmpfs)
    before = _events(run)
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    try:
        with pytest.raises(OSError) as really:
            (tmpfs / "probe").write_text("x")
        assert really.value.errno == errno.EROFS  # the home really is read-only, even to root
        result = run(*OTHER, actor="tech1", ok=False)
        sentence = _one_sentence(result.output)
        assert "read-only file system" in sentence, sentence
        assert "Bea" not in sentence and "Tamm" not in sentence
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(tmpfs)], check=True)
    assert _events(run) == before
    run("verify")
    run(*OTHER, actor="tech1")  # once writable again, the same command works
    assert _events(run) > before


def test_a_full_disk_gives_one_sentence_and_leaves_the_ledger_as_it_was(tmpfs: Path) -> None:
    run = _ledger_in(tmpfs)
    before = _events(run)
    filler = tmpfs / "filler"
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 4096)
        except OSError as error:
            assert error.errno == errno.ENOSPC
    result = run(*OTHER, actor="tech1", ok=False)
    sentence = _one_sentence(result.output)
    assert "is full (no space left" in sentence, sentence
    assert "Bea" not in sentence
    filler.unlink()
    assert _events(run) == before
    run("verify")
    run(*OTHER, actor="tech1")
    assert _events(run) > before


def test_a_reader_that_stops_early_is_no_store_failure(tmp_path: Path) -> None:
    """`chartledger … | head`: the reader is gone before the command prints (the pipe is
    closed at once); the command must not blame the store, nor print a traceback."""
    import os
    import sys

    env = {**os.environ, "CHARTLEDGER_HOME": str(tmp_path / "home"), "CHARTLEDGER_USER": "admin"}
    env["CHARTLEDGER_DB"] = f"sqlite:///{tmp_path / 'ledger.db'}"
    init = [sys.executable, "-m", "cli", "init", "--no-passphrase"]
    subprocess.run(init, env=env, check=True, capture_output=True)
    command = subprocess.Popen(
        [sys.executable, "-m", "cli", "log", "status"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert command.stdout is not None and command.stderr is not None
    command.stdout.close()  # the reader is gone before the command has printed anything
    said = command.stderr.read().decode()
    command.wait(timeout=60)
    assert said == ""
