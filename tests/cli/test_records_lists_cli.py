"""The records workers' lists (locations, completion, discrepancies) decide row by row: one
restricted patient is left out of a technician's list and counted, never blocking it (issue 10,
item 4), and every row shown is recorded."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.cli.test_cli import Chartledger

OTHER = ("--given", "Bo", "--family", "Lindqvist", "--born", "1950-07-09", "--sex", "male")


def _two_lost_volumes(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> tuple[Chartledger, str, str]:
    run, restricted = clinic
    registered = run("patient", "register", *OTHER, actor="tech1").output
    other = re.findall(r"MR\d{7}", registered)[0]
    for mrn, barcode in ((restricted, "V-0001"), (other, "V-0002")):
        run("location", "add", mrn, "--barcode", barcode, actor="tech1")
        run("location", "lost", barcode, "--note", "not on the shelf", actor="tech1")
    run.enrol("privacy1", "compliance-officer")
    policy = tmp_path / "policy.toml"
    policy.write_text(f'version = "guard.2"\n[patients]\nrestricted = ["{restricted}"]\n')
    run("policy", "load", str(policy), actor="privacy1")
    return run, restricted, other


def test_a_restricted_patient_is_withheld_from_a_list_not_blocking_it(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, restricted, other = _two_lost_volumes(clinic, tmp_path)
    listed = run("location", "missing", actor="tech1")
    assert other in listed.stdout and restricted not in listed.stdout
    assert "1 volume withheld: the access policy does not show them to you." in listed.stderr
    # Asking for the restricted chart's volumes by name is a refusal, recorded, not an empty list.
    refused = run("location", "where", restricted, actor="tech1", ok=False)
    assert refused.exit_code == 4 and restricted not in refused.stdout
    trail = json.loads(run("audit", "patient", restricted, "--json", actor="privacy1").output)
    denied = [r for r in trail if r["outcome"] == "denied" and r["actor"] == "tech1"]
    assert len(denied) >= 2  # the withheld row of the list, and the refused where
    shown = json.loads(run("audit", "patient", other, "--json", actor="privacy1").output)
    assert any(r["actor"] == "tech1" and r["categories"] == ["locations"] for r in shown)


def test_the_compliance_officer_still_sees_the_restricted_patients_audit_rows(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, restricted, _ = _two_lost_volumes(clinic, tmp_path)
    run("location", "missing", actor="tech1")
    table = run("audit", "patient", restricted, actor="privacy1").output
    assert restricted in table and "withheld" not in table


def test_a_place_the_reader_made_themself_does_not_open_a_restricted_row(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, restricted, other = _two_lost_volumes(clinic, tmp_path)
    # tech1 admits the restricted patient: a place on the care team they made themself.
    run(
        "encounter",
        "admit",
        restricted,
        "--attending",
        "dr1",
        "--service",
        "medicine",
        actor="tech1",
    )
    listed = run("location", "missing", actor="tech1")
    assert other in listed.stdout and restricted not in listed.stdout
    assert "1 volume withheld" in listed.stderr
