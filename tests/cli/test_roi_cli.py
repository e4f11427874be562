"""Release of information through the CLI, on every store: requests, validation, release,
deadlines, denial, agency suspension, and the accounting of disclosures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.cli.test_cli import Chartledger


def _setup(clinic: tuple[Chartledger, str], tmp_path: Path) -> tuple[Chartledger, str]:
    run, mrn = clinic
    run.enrol("roi1", "roi-specialist")
    run.enrol("privacy1", "compliance-officer")
    scan = tmp_path / "discharge.txt"
    scan.write_text("Discharge summary: recovered well.\n")
    run("chart", "file", mrn, str(scan), "--kind", "discharge-summary", actor="tech1")
    return run, mrn


def _request(run: Chartledger, mrn: str, *args: str) -> str:
    out = run("roi", "request", mrn, *args, actor="roi1").output
    return out.split("release request ")[1].split()[0]


def test_a_subpoena_needs_assurance_then_goes_out_and_is_accounted(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, mrn = _setup(clinic, tmp_path)
    request = _request(
        run,
        mrn,
        "--requester-kind",
        "attorney",
        "--requester",
        "Lund & Berg LLP",
        "--address",
        "4 Court St, Wichita",
        "--asks",
        "all records 2026",
        "--purpose",
        "legal",
        "--section",
        "documents",
    )
    verdict = run("roi", "validate", request, "--basis", "subpoena", actor="roi1").output
    assert "not valid" in verdict and "satisfactory assurance" in verdict
    refused = run("roi", "approve", request, actor="roi1", ok=False)
    assert refused.exit_code == 2 and "only a validated request" in refused.output
    run("roi", "validate", request, "--basis", "subpoena", "--notice-to-patient", actor="roi1")
    run("roi", "approve", request, actor="roi1")
    out = tmp_path / "release"
    released = run(
        "roi",
        "release",
        request,
        "--method",
        "mail",
        "--fee",
        "25.00",
        "--out",
        str(out),
        actor="roi1",
    ).output
    assert "Released 0 entries and 1 documents" in released and "in the accounting" in released
    manifest = json.loads((out / "MANIFEST.json").read_text())
    assert manifest["mrn"] == mrn and len(manifest["files"]) == 2  # entries.json + the document
    letter = tmp_path / "accounting.html"
    report = json.loads(
        run("roi", "accounting", mrn, "--json", "--html", str(letter), actor="roi1").output
    )
    assert [(d["recipient"], d["purpose"]) for d in report["disclosures"]] == [
        ("Lund & Berg LLP", "legal")
    ]
    assert "Lund &amp; Berg LLP" in letter.read_text() and mrn in letter.read_text()
    trail = json.loads(run("audit", "patient", mrn, "--json", actor="privacy1").output)
    disclosed = [r for r in trail if r["action"] == "disclose" and r["recipient"]]
    assert [r["recipient"] for r in disclosed] == ["Lund & Berg LLP"]


def test_a_patients_own_request_is_due_in_30_days_extended_once_and_not_accounted(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, mrn = _setup(clinic, tmp_path)
    received = (datetime.now(UTC) - timedelta(days=10)).date()
    logged = run(
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
        "--received",
        received.isoformat(),
        actor="roi1",
    ).output
    request = logged.split("release request ")[1].split()[0]
    due = received + timedelta(days=30)
    assert f"due {due.isoformat()}" in logged
    on_time = json.loads(
        run(
            "roi",
            "list",
            "--due",
            "--on",
            (due - timedelta(days=1)).isoformat(),
            "--json",
            actor="roi1",
        ).output
    )
    assert on_time == []
    listed = json.loads(
        run("roi", "list", "--due", "--on", due.isoformat(), "--json", actor="roi1").output
    )
    assert [r["request"] for r in listed] == [request]
    extended = run("roi", "extend", request, "--reason", "records off site", actor="roi1").output
    assert (due + timedelta(days=30)).isoformat() in extended
    again = run("roi", "extend", request, "--reason", "still", actor="roi1", ok=False)
    assert "only once" in again.output
    run("roi", "validate", request, "--basis", "patient-access", actor="roi1")
    run("roi", "approve", request, actor="roi1")
    run("roi", "release", request, "--method", "portal", "--out", str(tmp_path / "r"), actor="roi1")
    report = json.loads(run("roi", "accounting", mrn, "--json", actor="roi1").output)
    assert report["disclosures"] == []
    assert "to the individual" in report["excluded"][0]["why"]


def test_an_agency_suspension_and_a_denial(clinic: tuple[Chartledger, str], tmp_path: Path) -> None:
    run, mrn = _setup(clinic, tmp_path)
    request = _request(
        run,
        mrn,
        "--requester-kind",
        "government-agency",
        "--requester",
        "State Health Dept",
        "--asks",
        "reportable disease",
        "--purpose",
        "public-health",
        "--section",
        "diagnosis",
    )
    run("roi", "validate", request, "--basis", "permitted", actor="roi1")
    run("roi", "approve", request, actor="roi1")
    run("roi", "release", request, "--method", "fax", "--out", str(tmp_path / "r"), actor="roi1")
    shown = json.loads(run("roi", "accounting", mrn, "--json", actor="roi1").output)
    assert [d["recipient"] for d in shown["disclosures"]] == ["State Health Dept"]
    until = (datetime.now(UTC) + timedelta(days=60)).date().isoformat()
    run("roi", "suspend", mrn, "--agency", "State Health Dept", "--until", until, actor="roi1")
    hidden = json.loads(run("roi", "accounting", mrn, "--json", actor="roi1").output)
    assert hidden["disclosures"] == [] and "suspended" in hidden["excluded"][0]["why"]

    other = _request(
        run,
        mrn,
        "--requester-kind",
        "insurer",
        "--requester",
        "Acme Life",
        "--asks",
        "everything",
        "--purpose",
        "payment",
    )
    bad = run(
        "roi",
        "deny",
        other,
        "--reason",
        "x",
        "--exception",
        "inconvenience",
        actor="roi1",
        ok=False,
    )
    assert bad.exit_code == 2
    run(
        "roi", "deny", other, "--reason", "no authorization", "--exception", "privacy", actor="roi1"
    )
    assert "is denied" in run("roi", "approve", other, actor="roi1", ok=False).output


def test_roi_mistakes_are_one_sentence_and_write_nothing(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, mrn = _setup(clinic, tmp_path)
    future = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    late = run(
        "roi",
        "request",
        mrn,
        "--requester-kind",
        "patient",
        "--requester",
        "p",
        "--asks",
        "x",
        "--purpose",
        "patient-request",
        "--received",
        future,
        actor="roi1",
        ok=False,
    )
    assert late.exit_code == 2 and "future" in late.output
    wrong = run(
        "roi",
        "request",
        "MR9999999",
        "--requester-kind",
        "patient",
        "--requester",
        "p",
        "--asks",
        "x",
        "--purpose",
        "patient-request",
        actor="roi1",
        ok=False,
    )
    assert wrong.exit_code == 5
    unknown = run("roi", "approve", "00000000-0000-0000-0000-000000000000", actor="roi1", ok=False)
    assert unknown.exit_code == 5 and "no release request" in unknown.output
    refused = run(
        "roi",
        "request",
        mrn,
        "--requester-kind",
        "patient",
        "--requester",
        "p",
        "--asks",
        "x",
        "--purpose",
        "patient-request",
        actor="coder1",
        ok=False,
    )
    assert refused.exit_code == 4
    assert json.loads(run("roi", "list", "--json", actor="roi1").output) == []
