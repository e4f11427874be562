"""Files are written safely (issue 10, item 7): no overwrite without --force, no link followed,
owner-only modes, and a refusal writes nothing."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_cli import Chartledger
from tests.rawdb import RawDB


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _approved_request(run: Chartledger, mrn: str, tmp_path: Path) -> str:
    run.enrol("roi1", "roi-specialist")
    scan = tmp_path / "discharge.txt"
    scan.write_text("Discharge summary: recovered well.\n")
    run("chart", "file", mrn, str(scan), "--kind", "discharge-summary", actor="tech1")
    out = run(
        "roi",
        "request",
        mrn,
        "--requester-kind",
        "patient",
        "--requester",
        "the patient",
        "--asks",
        "my discharge summary",
        "--purpose",
        "patient-request",
        actor="roi1",
    ).output
    request = out.split("release request ")[1].split()[0]
    run("roi", "validate", request, "--basis", "patient-access", actor="roi1")
    run("roi", "approve", request, actor="roi1")
    return request


def test_accounting_html_never_overwrites_without_force_nor_follows_a_link(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, mrn = clinic
    run.enrol("roi1", "roi-specialist")
    existing = tmp_path / "passwd"
    existing.write_text("root:x:0:0\n")
    before = len(RawDB(run.store_url).rows())
    refused = run("roi", "accounting", mrn, "--html", str(existing), actor="roi1", ok=False)
    assert refused.exit_code == 2 and "already exists; give a new file name or --force" in (
        refused.output
    )
    assert existing.read_text() == "root:x:0:0\n"
    assert len(RawDB(run.store_url).rows()) == before  # refused before the access was recorded
    link = tmp_path / "letter.html"
    link.symlink_to(existing)
    linked = run("roi", "accounting", mrn, "--html", str(link), "--force", actor="roi1", ok=False)
    assert "symbolic link" in linked.output and existing.read_text() == "root:x:0:0\n"
    device = run("roi", "accounting", mrn, "--html", "/dev/null", "--force", actor="roi1", ok=False)
    assert "device or special file" in device.output
    run("roi", "accounting", mrn, "--html", str(existing), "--force", actor="roi1")
    assert "<html" in existing.read_text().lower() and _mode(existing) == 0o600


def test_a_release_folder_must_be_new_or_forced_and_is_owner_only(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, mrn = clinic
    request = _approved_request(run, mrn, tmp_path)
    out = tmp_path / "release"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    refused = run(
        "roi", "release", request, "--method", "portal", "--out", str(out), actor="roi1", ok=False
    )
    assert refused.exit_code == 2 and "not empty; give a new folder or --force" in refused.output
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    fresh = tmp_path / "fresh"
    run("roi", "release", request, "--method", "portal", "--out", str(fresh), actor="roi1")
    assert _mode(fresh) == 0o700
    files = [p for p in fresh.rglob("*") if p.is_file()]
    assert files and all(_mode(p) == 0o600 for p in files)


def test_a_forced_release_writes_into_a_folder_that_is_not_empty(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, mrn = clinic
    request = _approved_request(run, mrn, tmp_path)
    out = tmp_path / "release"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    run("roi", "release", request, "--method", "portal", "--out", str(out), "--force", actor="roi1")
    written = [p for p in out.rglob("*") if p.is_file() and p.name != "keep.txt"]
    assert written and all(_mode(p) == 0o600 for p in written)
    assert (out / "keep.txt").read_text() == "mine"


def test_chart_document_out_needs_force_to_replace(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, mrn = clinic
    scan = tmp_path / "note.txt"
    scan.write_text("a note\n")
    filed = run("chart", "file", mrn, str(scan), "--kind", "other", actor="tech1").output
    document = filed.split("document ")[1].split()[0]
    target = tmp_path / "copy.txt"
    target.write_text("other")
    args = ("chart", "document", document, "--out", str(target), "--purpose", "operations")
    refused = run(*args, actor="tech1", ok=False)
    assert "already exists" in refused.output and target.read_text() == "other"
    run(*args, "--force", actor="tech1")
    assert target.read_text() == "a note\n" and _mode(target) == 0o600


def test_export_and_the_database_are_owner_only(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    ready, _ = clinic
    if ready.store_url.startswith("sqlite"):  # file modes of the database: a SQLite matter
        database = Path(ready.store_url[len("sqlite:///") :])
        assert _mode(database) == 0o600
        for extra in ("-wal", "-shm"):
            side = Path(f"{database}{extra}")
            if side.exists():
                assert _mode(side) == 0o600
    out = tmp_path / "export"
    out.mkdir()
    (out / "x").write_text("x")
    refused = ready("export", str(out), "--purpose", "audit", ok=False)
    assert "not empty" in refused.output
    ready("export", str(out), "--purpose", "audit", "--force")
    assert not (out / "x").exists(), "a forced export replaces the folder whole"
    assert (out / "events.ndjson").exists() and _mode(out / "events.ndjson") == 0o600
    assert _mode(out) == 0o700
    assert "verified" in ready("verify", "--export", str(out)).output.lower()


def test_chart_file_refuses_a_device_in_one_sentence(clinic: tuple[Chartledger, str]) -> None:
    run, mrn = clinic
    before = len(RawDB(run.store_url).rows())
    refused = run("chart", "file", mrn, "/dev/zero", "--kind", "other", actor="tech1", ok=False)
    assert refused.exit_code == 2 and "not a regular file" in refused.output
    assert len(RawDB(run.store_url).rows()) == before


def test_a_fee_that_is_not_a_finite_number_is_one_sentence(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, mrn = clinic
    request = _approved_request(run, mrn, tmp_path)
    before = len(RawDB(run.store_url).rows())
    for fee in ("NaN", "Infinity", "-inf", "sNaN", "1e999999", "twelve"):
        out = tmp_path / f"release-{fee}"
        refused = run(
            "roi",
            "release",
            request,
            "--method",
            "mail",
            "--fee",
            fee,
            "--out",
            str(out),
            actor="roi1",
            ok=False,
        )
        assert refused.exit_code == 2, refused.output
        assert "The fee must be" in refused.output or "larger than any" in refused.output
        assert not out.exists()
    assert len(RawDB(run.store_url).rows()) == before
