"""Hostile input ends cleanly (issue 10, item 8): one sentence, nothing written, escaped output."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tests.cli.test_cli import Chartledger
from tests.rawdb import RawDB


def _events(run: Chartledger) -> int:
    return len(RawDB(run.store_url).rows())


def _admit(run: Chartledger, mrn: str) -> str:
    run.enrol("drx", "physician")
    out = run(
        "encounter", "admit", mrn, "--attending", "drx", "--service", "medicine", actor="tech1"
    ).output
    return out.split(" encounter ")[1].split()[0]


def test_invalid_utf8_and_nul_in_any_argument_are_one_sentence(
    clinic: tuple[Chartledger, str],
) -> None:
    run, _ = clinic
    before = _events(run)
    for bad in ("\udcff", "Ada\x00", "x\x1b[2J"):
        result = run("patient", "find", "--name", bad, "--purpose", "operations", ok=False)
        assert result.exit_code == 2
        assert "control character" in result.output or "UTF-8" in result.output
    assert _events(run) == before


def test_a_newline_in_a_name_is_refused_and_cannot_forge_a_line(
    clinic: tuple[Chartledger, str],
) -> None:
    run, _ = clinic
    before = _events(run)
    forged = run(
        "patient",
        "register",
        "--given",
        "Eve\nMRN: MR0000001",
        "--family",
        "X",
        "--born",
        "1970-01-01",
        actor="tech1",
        ok=False,
    )
    assert forged.exit_code == 2 and "The given name contains a control character" in forged.output
    long = run(
        "patient",
        "register",
        "--given",
        "E" * 5000,
        "--family",
        "X",
        "--born",
        "1970-01-01",
        actor="tech1",
        ok=False,
    )
    assert long.exit_code == 2 and "longer than 200 characters" in long.output
    assert _events(run) == before


def test_a_stored_newline_is_escaped_in_the_output(clinic: tuple[Chartledger, str]) -> None:
    run, mrn = clinic
    encounter = _admit(run, mrn)
    run(
        "chart",
        "add",
        encounter,
        "--kind",
        "history",
        "--text",
        "line one\nMR0000099  Fake, Row",
        actor="drx",
    )
    shown = run("chart", "show", mrn, "--purpose", "treatment", actor="drx").output
    assert "line one\\nMR0000099  Fake, Row" in shown
    assert not any(line.startswith("MR0000099") for line in shown.splitlines())


def test_a_huge_or_escape_laden_entry_text_is_refused(clinic: tuple[Chartledger, str]) -> None:
    run, mrn = clinic
    encounter = _admit(run, mrn)
    before = _events(run)
    huge = run(
        "chart",
        "add",
        encounter,
        "--kind",
        "history",
        "--text",
        "x" * 200_000,
        actor="drx",
        ok=False,
    )
    assert huge.exit_code == 2 and "longer than 100000 characters" in huge.output
    assert _events(run) == before


def test_dispositions_are_a_closed_list(clinic: tuple[Chartledger, str]) -> None:
    run, mrn = clinic
    encounter = _admit(run, mrn)
    moon = run(
        "encounter", "discharge", encounter, "--disposition", "moon", actor="tech1", ok=False
    )
    assert moon.exit_code == 2 and "discharge status code" in moon.output
    run("encounter", "discharge", encounter, "--disposition", "01", actor="tech1")
    shown = json.loads(
        run("chart", "show", mrn, "--purpose", "treatment", "--json", actor="drx").output
    )
    assert shown["encounters"][0]["disposition"] == "home"


def test_csv_neutralises_formula_cells(clinic: tuple[Chartledger, str]) -> None:
    run, mrn = clinic
    run.enrol("privacy1", "compliance-officer")
    run(
        "patient",
        "show",
        mrn,
        "--purpose",
        "treatment",
        "--break-glass",
        "=cmd|' /C calc'!A0",
        actor="dr1",
    )
    text = run("audit", "patient", mrn, "--csv", actor="privacy1").output
    rows = list(csv.DictReader(io.StringIO(text)))
    reasons = [r["break_glass_reason"] for r in rows if r["break_glass_reason"]]
    assert reasons == ["'=cmd|' /C calc'!A0"]


def test_a_policy_limit_is_loaded_and_applied(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, mrn = clinic
    run.enrol("privacy2", "compliance-officer")
    policy = tmp_path / "policy.toml"
    policy.write_text('version = "t.1"\n[limits]\ntext_chars = 20\n')
    run("policy", "load", str(policy), actor="privacy2")
    encounter = _admit(run, mrn)
    refused = run(
        "chart", "add", encounter, "--kind", "history", "--text", "x" * 21, actor="drx", ok=False
    )
    assert "longer than 20 characters" in refused.output
    bad = tmp_path / "bad.toml"
    bad.write_text('version = "t.2"\n[limits]\ntext_chars = -1\n')
    wrong = run("policy", "load", str(bad), actor="privacy2", ok=False)
    assert wrong.exit_code == 2 and "[limits] text_chars" in wrong.output
