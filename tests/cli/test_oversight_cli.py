"""Compliance sees everything, and nothing is shown unrecorded (issue 10, items 4 and 5), through
the CLI on every store: the audit commands on restricted and VIP patients, a withheld row, who
may see the policy, the export's role, purpose and signed record, the queue and the crosswalk."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.cli.test_cli import Chartledger
from tests.rawdb import RawDB

RESTRICTED = """version = "guard.1"
[patients]
restricted = ["{mrn}"]
vip = ["MR0000009"]
[staff.tech1]
patient_mrn = "MR0000008"
"""


def _trail(run: Chartledger, mrn: str, actor: str = "privacy1") -> list[dict[str, object]]:
    rows: list[dict[str, object]] = json.loads(
        run("audit", "patient", mrn, "--json", actor=actor).output
    )
    return rows


def _restricted(clinic: tuple[Chartledger, str], tmp_path: Path) -> tuple[Chartledger, str]:
    run, mrn = clinic
    run.enrol("privacy1", "compliance-officer")
    run.enrol("him1", "him-director")
    policy = tmp_path / "policy.toml"
    policy.write_text(RESTRICTED.format(mrn=mrn))
    run("policy", "load", str(policy), actor="privacy1")
    run("chart", "show", mrn, "--purpose", "operations", actor="tech1", ok=False)  # restricted
    return run, mrn


def test_compliance_and_him_read_every_audit_list_of_a_restricted_patient(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, mrn = _restricted(clinic, tmp_path)
    for reader in ("privacy1", "him1"):
        table = run("audit", "patient", mrn, actor=reader).output
        assert mrn in table and "denied" in table and "withheld" not in table
        assert mrn in run("audit", "user", "tech1", actor=reader).output
        window = run("audit", "between", "2000-01-01T00:00", "2999-01-01T00:00", actor=reader)
        assert mrn in window.output
        alerts = json.loads(run("audit", "alerts", "--json", actor=reader).output)
        assert isinstance(alerts, list)
        accounting = run("roi", "accounting", mrn, actor=reader).output
        assert f"Accounting of disclosures for {mrn}" in accounting
    reads = [r for r in _trail(run, mrn) if r["categories"] in (["audit-trail"], ["disclosures"])]
    assert {(r["actor"], r["outcome"]) for r in reads} == {
        ("privacy1", "granted"),
        ("him1", "granted"),
    }
    assert len(reads) >= 8  # every read of the trail, the alerts and the accounting, recorded
    # The chart itself stays closed to them (the audit rows, never the clinical content).
    refused = run("chart", "show", mrn, "--purpose", "operations", actor="privacy1", ok=False)
    assert refused.exit_code == 4 and "restricted" in refused.output


def test_a_row_the_reader_may_not_see_is_withheld_and_counted(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, mrn = clinic
    run.enrol("privacy1", "compliance-officer")
    policy = tmp_path / "policy.toml"
    policy.write_text(f'version = "self.1"\n[staff.privacy1]\npatient_mrn = "{mrn}"\n')
    run("policy", "load", str(policy), actor="privacy1")
    run("patient", "show", mrn, "--purpose", "operations", actor="tech1")
    table = run("audit", "user", "tech1", actor="privacy1").output
    assert "Audit trail of user tech1: 0 lines" in table
    assert "2 lines withheld: the access policy does not show them to you." in table
    listed = run("audit", "user", "tech1", "--json", actor="privacy1")
    assert json.loads(listed.stdout) == []  # stdout stays one JSON document
    assert "2 lines withheld" in listed.stderr
    own = run("audit", "patient", mrn, actor="privacy1").output  # her own trail: all withheld
    assert f"Audit trail of {mrn}: 0 lines" in own and "lines withheld" in own


def test_policy_show_needs_an_identity_and_a_role_and_records_the_mrns_it_names(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, mrn = _restricted(clinic, tmp_path)
    nobody = run("policy", "show", actor=None, ok=False)
    assert nobody.exit_code == 3 and mrn not in nobody.output
    for who in ("tech1", "dr1", "coder1"):
        refused = run("policy", "show", actor=who, ok=False)
        assert refused.exit_code == 4 and mrn not in refused.output
        assert "Only an administrator, a compliance officer or the HIM director" in refused.output
    for who in ("admin", "privacy1", "him1"):
        assert f'restricted = ["{mrn}"]' in run("policy", "show", actor=who).output
    window = run("audit", "between", "2000-01-01T00:00", "2999-01-01T00:00", "--json",
                 actor="privacy1").output  # fmt: skip
    reads = [r for r in json.loads(window) if r["categories"] == ["access-policy"]]
    # One access per read of the policy, naming every MRN it lists (restricted, VIP, staff).
    assert sorted((r["actor"], r["mrn"], r["outcome"]) for r in reads) == sorted(
        (who, named, "granted")
        for who in ("admin", "privacy1", "him1")
        for named in (mrn, "MR0000008", "MR0000009")
    )


def test_an_export_needs_a_role_and_a_purpose_and_is_recorded_before_it_is_written(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, mrn = clinic
    run.enrol("privacy1", "compliance-officer")
    folder = tmp_path / "out" / "export"
    for who in ("tech1", "dr1"):
        refused = run("export", str(folder), "--purpose", "audit", actor=who, ok=False)
        assert refused.exit_code == 4 and "administrator or a compliance officer" in refused.output
    blank = run("export", str(folder), "--purpose", "  ", actor="privacy1", ok=False)
    assert blank.exit_code == 2
    assert run("export", str(folder), actor="privacy1", ok=False).exit_code == 2  # no --purpose
    assert not (tmp_path / "out").exists()
    raw = RawDB(run.store_url)
    before = raw.rows()
    done = run("export", str(folder), "--purpose", "outside audit by Lund", actor="privacy1")
    assert "recorded as export" in done.output
    after = raw.rows()
    assert len(after) == len(before) + 1 and after[-1][3] == "chartledger/export/exported"
    files = {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    assert {"events.ndjson", "keys.json", "README.txt"} <= set(files)
    assert str(folder) in (folder / "README.txt").read_text()  # not the staging folder's name
    from ledger.home import LedgerHome
    from ledger.integrity.export_record import ExportRecord

    with LedgerHome(run.home).open(run.store_url) as ledger:
        exported = ledger.repository.get(after[-1][1])
        assert isinstance(exported, ExportRecord)
        assert exported.files == files and exported.actor == "privacy1"
        assert exported.purpose == "outside audit by Lund"
        lines = (folder / "events.ndjson").read_text().splitlines()
        assert exported.tree_size == len(lines) == len(before)
    run("verify")
    assert not list((tmp_path / "out").glob(".export*"))  # no staging folder left behind
    # Every patient's trail shows that the whole ledger left, who took it and why.
    rows = [r for r in _trail(run, mrn) if r["action"] == "disclose"]
    assert [(r["mrn"], r["actor"], r["categories"], r["purpose"]) for r in rows] == [
        ("*", "privacy1", ["export"], "outside audit by Lund")
    ]
    # If the record cannot be written, nothing is: no folder, no staging, no event.
    after = raw.rows()
    raw.refuse_inserts("chartledger/export/")
    failed = run("export", str(tmp_path / "second"), "--purpose", "again", actor="admin", ok=False)
    assert failed.exit_code == 3 and failed.output.count("\n") == 1
    assert not (tmp_path / "second").exists() and not list(tmp_path.glob(".second*"))
    assert raw.rows() == after


def test_roi_list_and_the_import_crosswalk_are_recorded_as_shown(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, mrn = clinic
    run.enrol("roi1", "roi-specialist")
    run.enrol("privacy1", "compliance-officer")
    run.enrol("fhir", "interface")
    run(
        "roi", "request", mrn, "--requester-kind", "patient", "--requester", "the patient",
        "--asks", "my chart", "--purpose", "patient-request", actor="roi1",
    )  # fmt: skip
    assert mrn in run("roi", "list", actor="roi1").output
    queue = [r for r in _trail(run, mrn) if r["categories"] == ["release-queue"]]
    assert [(r["actor"], r["outcome"]) for r in queue] == [("roi1", "granted")]
    from tests.cli.test_nothing_unrecorded_cli import FHIR_PATIENT

    folder = tmp_path / "fhir"
    folder.mkdir()
    (folder / "Patient.ndjson").write_text(json.dumps(FHIR_PATIENT) + "\n")
    out = run("import", "fhir", str(folder), "--attending-default", "dr1", actor="fhir").output
    assert "MR0000002 (Patient/p1, new)" in out
    shown = [r for r in _trail(run, "MR0000002") if r["actor"] == "fhir" and r["action"] == "query"]
    assert [(r["categories"], r["outcome"]) for r in shown] == [(["demographics"], "granted")]
