"""Patient and chart commands through the CLI: reads are recorded first, errors write nothing."""

from __future__ import annotations

import json
from pathlib import Path

from ledger.aggregates.access import Access
from ledger.commands import patients
from ledger.home import LedgerHome
from tests.cli.conftest import ADA
from tests.cli.test_cli import Chartledger
from tests.rawdb import RawDB


def topics(run: Chartledger) -> list[str]:
    return [row[3] for row in RawDB(run.store_url).rows()]


def test_show_records_the_access_before_it_shows(clinic: tuple[Chartledger, str]) -> None:
    run, mrn = clinic
    shown = run("patient", "show", mrn, "--purpose", "operations", actor="tech1")
    assert "Okafor, Ada" in shown.output and "birth date: 1961-04-02" in shown.output
    assert topics(run)[-1] == Access.RecordAccessed.TOPIC
    data = json.loads(
        run(
            "patient", "show", mrn.lower(), "--purpose", "operations", "--json", actor="tech1"
        ).output
    )
    assert data["mrn"] == mrn and data["demographics"]["family_name"] == "Okafor"


def test_a_refused_read_shows_nothing_and_is_recorded(clinic: tuple[Chartledger, str]) -> None:
    run, mrn = clinic
    refused = run("patient", "show", mrn, "--purpose", "treatment", actor="coder1", ok=False)
    assert refused.exit_code == 4 and "Access refused" in refused.output
    assert "Okafor" not in refused.output
    assert topics(run)[-1] == Access.AccessDenied.TOPIC


def test_a_wrong_mrn_or_no_purpose_writes_nothing(clinic: tuple[Chartledger, str]) -> None:
    run, _ = clinic
    before = topics(run)
    wrong = run("patient", "show", "MR9999999", "--purpose", "operations", actor="tech1", ok=False)
    assert wrong.exit_code == 5 and "There is no patient with MRN MR9999999." in wrong.output
    missing = run("patient", "show", "MR0000001", actor="tech1", ok=False)
    assert missing.exit_code == 2 and "--purpose" in missing.output
    assert topics(run) == before


def test_a_document_is_filed_and_copied_out_byte_for_byte(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, mrn = clinic
    scan = tmp_path / "consent.pdf"
    scan.write_bytes(b"%PDF-1.4 " + bytes(range(256)) * 10)
    filed = run("chart", "file", mrn, str(scan), "--kind", "consent", actor="tech1")
    document_id = filed.output.split("as document ")[1].split()[0]
    out = tmp_path / "copy.pdf"
    run(
        "chart",
        "document",
        document_id,
        "--out",
        str(out),
        "--purpose",
        "operations",
        actor="tech1",
    )
    assert out.read_bytes() == scan.read_bytes()
    assert topics(run)[-1] == Access.RecordAccessed.TOPIC
    again = run(
        "chart",
        "document",
        document_id,
        "--out",
        str(out),
        "--purpose",
        "operations",
        actor="tech1",
        ok=False,
    )
    assert "already exists" in again.output
    missing = run(
        "chart",
        "file",
        mrn,
        str(tmp_path / "nope.pdf"),
        "--kind",
        "consent",
        actor="tech1",
        ok=False,
    )
    assert "There is no file at" in missing.output
    listed = json.loads(
        run("patient", "show", mrn, "--purpose", "operations", "--json", actor="tech1").output
    )
    assert listed["documents"][0]["id"] == document_id
    assert "Re-hashed 1 filed documents" in run("verify").output


def test_merge_and_unmerge(clinic: tuple[Chartledger, str]) -> None:
    run, mrn = clinic
    home = LedgerHome(run.home)
    tech = run.identity("tech1")
    with home.open(run.store_url) as ledger:
        other = patients.register_patient(
            ledger,
            {**ADA, "given_name": "Adah"},
            actor=tech,
            likely_matches=[mrn],
            override="unsure",
        )
    run("patient", "merge", mrn, other, "--reason", "same person", actor="tech1")
    shown = run("patient", "show", other, "--purpose", "operations", actor="tech1")
    assert f"MERGED into {mrn}" in shown.output
    run("patient", "unmerge", mrn, other, "--reason", "twins", actor="tech1")
    refused = run("patient", "merge", mrn, mrn, "--reason", "x", actor="tech1", ok=False)
    assert "cannot be merged into itself" in refused.output


def test_a_restricted_patients_demographics_stay_visible_and_the_rest_is_withheld(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    """Issue 17, item 5 (policies/access.py rule 6): a technician sees a restricted patient's
    demographics, not their documents; the access is recorded with what was shown."""
    run, mrn = clinic
    run.enrol("privacy1", "compliance-officer")
    scan = tmp_path / "consent.pdf"
    scan.write_bytes(b"%PDF-1.4 consent")
    filed = run("chart", "file", mrn, str(scan), "--kind", "consent", actor="tech1").output
    document = filed.split("document ")[1].split()[0]
    policy = tmp_path / "policy.toml"
    policy.write_text(f'version = "r1"\n[patients]\nrestricted = ["{mrn}"]\n')
    run("policy", "load", str(policy), actor="privacy1")

    shown = run("patient", "show", mrn, "--purpose", "operations", actor="tech1").output
    assert "Okafor, Ada" in shown and "birth date: 1961-04-02" in shown
    assert "withheld by the access policy: documents" in shown and document not in shown
    data = json.loads(
        run("patient", "show", mrn, "--purpose", "operations", "--json", actor="tech1").output
    )
    assert data["demographics"]["family_name"] == "Okafor"
    assert data["documents"] == [] and data["withheld"] == ["documents"]
    for event in _accesses(run)[-2:]:
        assert event["actor"] == "tech1" and event["mrns"] == [mrn]
        assert event["sections"] == ["demographics"]
        assert "restricted record: demographics only, documents withheld" in str(event["decision"])
    # The chart itself stays closed to them, refused and recorded as before.
    refused = run("chart", "show", mrn, "--purpose", "operations", actor="tech1", ok=False)
    assert "restricted" in refused.output and "Okafor" not in refused.output
    assert topics(run)[-1] == Access.AccessDenied.TOPIC
    # The attending's care team sees everything.
    run("encounter", "admit", mrn, "--attending", "dr1", "--service", "medicine", actor="tech1")
    full = json.loads(
        run("patient", "show", mrn, "--purpose", "treatment", "--json", actor="dr1").output
    )
    assert [d["id"] for d in full["documents"]] == [document] and full["withheld"] == []


def _accesses(run: Chartledger) -> list[dict[str, object]]:
    """The facts of every access event, in log order."""
    with LedgerHome(run.home).open(run.store_url) as ledger:
        return [
            ledger.repository.get(row[1]).facts
            for row in RawDB(run.store_url).rows()
            if row[3] in (Access.RecordAccessed.TOPIC, Access.AccessDenied.TOPIC)
        ]
