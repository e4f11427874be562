"""`chart show --as-of`, `chart history` and the legal package through the CLI: one answer to
the same legal question (issue 17, items 1 and 2)."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from pathlib import Path

from ledger.commands import patients
from ledger.home import LedgerHome
from tests.cli.test_cli import Chartledger

BRAM = {"given_name": "Bram", "family_name": "Visser", "birth_date": date(1950, 7, 9)}


def _file(run: Chartledger, mrn: str, path: Path, text: bytes) -> str:
    path.write_bytes(text)
    out = run("chart", "file", mrn, str(path), "--kind", "consent", actor="tech1").output
    return out.split(" as document ")[1].split()[0]


def _with_bram_and_roi(run: Chartledger) -> str:
    """A second patient (Bram, registered by tech1) and an ROI specialist; returns Bram's MRN."""
    run.enrol("roi1", "roi-specialist")
    with LedgerHome(run.home).open(run.store_url) as ledger:
        return patients.register_patient(
            ledger, BRAM, actor=run.identity("tech1"), likely_matches=[]
        )


def _admit(run: Chartledger, mrn: str) -> str:
    admitted = run(
        "encounter", "admit", mrn, "--attending", "dr1", "--service", "medicine", actor="tech1"
    ).output
    return admitted.split("encounter ")[1].split()[0]


def _moment() -> str:
    time.sleep(0.02)
    moment = datetime.now(UTC).isoformat()
    time.sleep(0.02)
    return moment


def test_chart_show_as_of_the_legal_package_and_history_agree(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, ada = clinic
    bram = _with_bram_and_roi(run)
    encounter = _admit(run, ada)
    kept = run(
        "chart", "add", encounter, "--kind", "diagnosis", "--text", "asthma", actor="dr1"
    ).output.split()[-1]
    wrong = run(
        "chart", "add", encounter, "--kind", "allergy", "--text", "latex", actor="dr1"
    ).output.split()[-1]
    consent = _file(run, ada, tmp_path / "consent.txt", b"I consent.\n")
    misfiled = _file(run, ada, tmp_path / "bram.txt", b"Bram's letter.\n")
    as_of = _moment()
    later = _file(run, ada, tmp_path / "later.txt", b"Filed after the moment.\n")
    run("chart", "retract", wrong, "--reason", "wrong patient", actor="dr1")
    run("chart", "refile", misfiled, "--to", bram, "--reason", "belongs to Bram", actor="tech1")

    show = ("chart", "show", ada, "--purpose", "legal", "--as-of", as_of, "--json")
    shown = json.loads(run(*show, actor="roi1").output)
    assert [d["id"] for d in shown["documents"]] == [consent]  # not `later`, not the misfiled
    [then] = shown["encounters"]
    assert [f"{encounter}:{e['id']}" for e in then["entries"]] == [kept]  # not the retracted
    assert shown["withheld_since"]["entries"] == [wrong]
    assert shown["withheld_since"]["documents"] == [misfiled]
    table = run(*show[:-1], actor="roi1").output
    assert "later.txt" not in table and "bram.txt" not in table and "latex" not in table
    assert "1 entries retracted as entered in error, 1 documents refiled" in table

    package = tmp_path / "package"
    run(
        "legal",
        "package",
        ada,
        "--as-of",
        as_of,
        "--out",
        str(package),
        "--purpose",
        "legal",
        actor="roi1",
    )
    record = json.loads((package / "record.json").read_text())
    for key in ("demographics", "encounters", "documents"):
        assert record[key] == shown[key], key
    assert record["withheld"] == shown["withheld_since"]
    assert sorted(p.name.split("-", 5)[-1] for p in (package / "documents").iterdir()) == [
        "consent.txt"
    ]

    history = json.loads(
        run("chart", "history", ada, "--purpose", "legal", "--json", actor="roi1").output
    )
    lines = {(line["what"], line["event"]): line for line in history}
    assert ("Document.Filed", f"{later}/1") in lines
    refiled = lines[("Document.Refiled", f"{misfiled}/2")]
    assert (refiled["actor"], refiled["reason"]) == ("tech1", "belongs to Bram")
    assert refiled["recorded_at"] > as_of
    assert ("Document.Filed", f"{misfiled}/1") in lines and (
        "Document.Filed",
        f"{consent}/1",
    ) in lines
    in_package = json.loads((package / "history.json").read_text())
    assert [x["event"] for x in in_package] == [x["event"] for x in history]
    assert {x["event"] for x in in_package if x["after_as_of"]} == {
        x["event"] for x in history if x["recorded_at"] > as_of
    }
    then = ("chart", "history", ada, "--purpose", "legal", "--as-of", as_of, "--json")
    redacted = [x.pop("redacted", False) for x in in_package]  # the retracted entry's events
    assert sum(redacted) == 1
    assert json.loads(run(*then, actor="roi1").output) == [
        x for x in in_package if not x.pop("after_as_of")
    ]
    assert (
        "Document.Refiled"
        in run("chart", "history", ada, "--purpose", "legal", actor="roi1").output
    )


def test_merges_and_their_undoing_are_in_the_history_and_the_as_of_chart(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, ada = clinic
    bram = _with_bram_and_roi(run)
    brams = _admit(run, bram)
    before = _moment()
    run("patient", "merge", ada, bram, "--reason", "same person", actor="tech1")
    merged = _moment()
    show = ("chart", "show", ada, "--purpose", "legal", "--json")
    assert json.loads(run(*show, "--as-of", before, actor="roi1").output)["encounters"] == []
    during = json.loads(run(*show, "--as-of", merged, actor="roi1").output)
    assert [e["id"] for e in during["encounters"]] == [brams]
    run("patient", "unmerge", ada, bram, "--reason", "not the same person", actor="tech1")
    after = json.loads(run(*show, "--as-of", merged, actor="roi1").output)
    assert after["encounters"] == []  # Bram's chart is another person's: withheld, and named
    assert after["withheld_since"]["records"] == [bram]
    history = json.loads(
        run("chart", "history", ada, "--purpose", "legal", "--json", actor="roi1").output
    )
    assert [x["what"] for x in history if x["what"].startswith("Patient.")] == [
        "Patient.Registered",
        "Patient.Absorbed",
        "Patient.MergeUndone",
    ]


def test_the_audit_trail_as_of_a_moment_is_the_rows_recorded_by_then(
    clinic: tuple[Chartledger, str],
) -> None:
    run, ada = clinic
    run.enrol("privacy1", "compliance-officer")
    _admit(run, ada)
    run("chart", "show", ada, "--purpose", "treatment", actor="dr1")
    moment = _moment()
    run("chart", "show", ada, "--purpose", "treatment", actor="dr1")
    trail = ("audit", "patient", ada, "--json")
    every = json.loads(run(*trail, actor="privacy1").output)
    then = json.loads(run(*trail, "--as-of", moment, actor="privacy1").output)
    assert then == [row for row in every if row["recorded_at"] <= moment]
    assert 0 < len(then) < len(every)
    future = run(*trail, "--as-of", "2999-01-01T00:00Z", actor="privacy1", ok=False)
    assert "in the future" in future.output
