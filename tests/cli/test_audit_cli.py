"""`chartledger audit` and `legal package` through the CLI, on every store."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.cli.test_cli import Chartledger


def _with_officer(clinic: tuple[Chartledger, str]) -> tuple[Chartledger, str]:
    run, mrn = clinic
    run.enrol("privacy1", "compliance-officer")
    run.enrol("roi1", "roi-specialist")
    run("patient", "show", mrn, "--purpose", "operations", actor="tech1")
    run("patient", "show", mrn, "--purpose", "legal", actor="coder1", ok=False)
    return run, mrn


def test_audit_patient_as_table_json_and_csv(clinic: tuple[Chartledger, str]) -> None:
    run, mrn = _with_officer(clinic)
    table = run("audit", "patient", mrn, actor="privacy1").output
    assert f"Audit trail of {mrn}: 3 lines" in table
    rows = json.loads(run("audit", "patient", mrn, "--json", actor="privacy1").output)
    assert [(r["actor"], r["action"], r["outcome"]) for r in rows] == [
        ("tech1", "create", "granted"),
        ("tech1", "query", "granted"),
        ("coder1", "query", "denied"),
        ("privacy1", "query", "granted"),  # the table just printed: reading the trail is recorded
    ]
    assert rows[3]["categories"] == ["audit-trail"]
    assert rows[0]["event"] in table  # each line names its event
    proof = run("prove", rows[1]["event"], actor="privacy1", ok=False)  # no checkpoint yet
    assert "checkpoint" in proof.output
    run("checkpoint")
    assert "verified" in run("prove", rows[1]["event"], actor="privacy1").output
    text = run("audit", "patient", mrn, "--csv", "--denied", actor="privacy1").output
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert [(r["actor"], r["purpose"], r["outcome"]) for r in parsed] == [
        ("coder1", "legal", "denied")
    ]


def test_audit_user_and_between_with_filters(clinic: tuple[Chartledger, str]) -> None:
    run, mrn = _with_officer(clinic)
    started = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    run(
        "patient",
        "show",
        mrn,
        "--purpose",
        "research",
        "--break-glass",
        "collapsed in the lobby",
        actor="dr1",
    )
    glass = json.loads(
        run("audit", "user", "dr1", "--break-glass", "--json", actor="privacy1").output
    )
    assert [(r["mrn"], r["break_glass_reason"]) for r in glass] == [(mrn, "collapsed in the lobby")]
    ended = datetime.now(UTC).isoformat()
    window = json.loads(run("audit", "between", started, ended, "--json", actor="privacy1").output)
    assert [r["actor"] for r in window] == ["dr1", "privacy1"]  # the audit read is recorded too


def test_audit_refusals_and_bad_input(clinic: tuple[Chartledger, str]) -> None:
    run, mrn = _with_officer(clinic)
    refused = run("audit", "patient", mrn, actor="dr1", ok=False)
    assert refused.exit_code == 4 and "compliance officer" in refused.output
    assert run("audit", "patient", "MR9999999", actor="privacy1", ok=False).exit_code == 5
    future = run("audit", "patient", mrn, "--from", "2999-01-01T00:00", actor="privacy1", ok=False)
    assert "future" in future.output
    both = run("audit", "patient", mrn, "--json", "--csv", actor="privacy1", ok=False)
    assert "not both" in both.output


def test_legal_package_verifies_offline_and_names_tampering(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, mrn = _with_officer(clinic)
    as_of = datetime.now(UTC).isoformat()
    out = tmp_path / "package"
    made = run(
        "legal",
        "package",
        mrn,
        "--as-of",
        as_of,
        "--out",
        str(out),
        "--purpose",
        "legal",
        actor="roi1",
    )
    assert f"Wrote the legal package of {mrn}" in made.output
    genesis = made.output.split("--genesis ")[1].split()[0]
    checked = run("verify", "--package", str(out), "--genesis", genesis, actor=None)
    assert "Verified the legal package" in checked.output and "(matches)" in checked.output
    (out / "record.json").write_text("{}")
    broken = run("verify", "--package", str(out), actor=None, ok=False)
    assert broken.exit_code == 10 and "manifest" in broken.output
    refused = run(
        "legal",
        "package",
        mrn,
        "--as-of",
        as_of,
        "--out",
        str(tmp_path / "p2"),
        "--purpose",
        "legal",
        actor="coder1",
        ok=False,
    )
    assert refused.exit_code == 4 and not (tmp_path / "p2").exists()
