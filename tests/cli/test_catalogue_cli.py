"""Every event about a patient reaches `audit patient`, with the action its catalogue entry
declares: routing and each release-of-information step among them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from ledger.aggregates.chart_volume import ChartVolume
from ledger.aggregates.release import ReleaseRequest
from ledger.catalogue import AUDITED
from ledger.home import LedgerHome
from tests.cli.test_cli import Chartledger


def _trail(run: Chartledger, mrn: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(
        run("audit", "patient", mrn, "--json", actor="privacy1").output
    )
    return rows


def _classes(run: Chartledger, rows: list[dict[str, Any]]) -> dict[type, list[dict[str, Any]]]:
    """The trail's rows by the class of the event each was made from."""
    found: dict[type, list[dict[str, Any]]] = {}
    with LedgerHome(run.home).open(run.store_url) as ledger:
        for row in rows:
            originator, version = row["event"].split("/")
            (event,) = [
                e
                for e in ledger.events.get(UUID(originator))
                if e.originator_version == int(version)
            ]
            found.setdefault(type(event), []).append(row)
    return found


def _request(run: Chartledger, mrn: str, kind: str, purpose: str) -> str:
    out = run(
        "roi",
        "request",
        mrn,
        "--requester-kind",
        kind,
        "--requester",
        "the patient" if kind == "patient" else "Lund & Berg LLP",
        "--asks",
        "my records",
        "--purpose",
        purpose,
        "--received",
        (datetime.now(UTC) - timedelta(days=10)).date().isoformat(),
        actor="roi1",
    ).output
    return out.split("release request ")[1].split()[0]


def test_routing_and_each_release_of_information_step_reach_the_patients_trail(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, mrn = clinic
    run.enrol("roi1", "roi-specialist")
    run.enrol("privacy1", "compliance-officer")
    due = (datetime.now(UTC) + timedelta(days=1)).isoformat(timespec="minutes")
    run(
        "location",
        "route",
        mrn,
        "--to",
        "Admissions",
        "--kind",
        "department",
        "--purpose",
        "operations",
        "--due",
        due,
        actor="tech1",
    )
    request = _request(run, mrn, "patient", "patient-request")
    run("roi", "extend", request, "--reason", "records off site", actor="roi1")
    run("roi", "validate", request, "--basis", "patient-access", actor="roi1")
    run("roi", "approve", request, actor="roi1")
    run("roi", "release", request, "--method", "portal", "--out", str(tmp_path / "r"), actor="roi1")
    other = _request(run, mrn, "attorney", "legal")
    run("roi", "deny", other, "--reason", "no authorization", actor="roi1")

    by_class = _classes(run, _trail(run, mrn))
    expected = {
        ChartVolume.Registered: "create",
        ChartVolume.Routed: "disclose",
        ReleaseRequest.Requested: "create",
        ReleaseRequest.Extended: "change",
        ReleaseRequest.Validated: "change",
        ReleaseRequest.Approved: "change",
        ReleaseRequest.Denied: "change",
        ReleaseRequest.Released: "disclose",
    }
    for cls, action in expected.items():
        rows = by_class.get(cls)
        assert rows, f"{cls.__qualname__} is not in the patient's trail"
        assert {r["action"] for r in rows} == {action}, cls.__qualname__
        assert {r["mrn"] for r in rows} == {mrn}
        assert AUDITED[get_topic(cls)].action == action
    assert len(by_class[ReleaseRequest.Requested]) == 2
    (routed,) = by_class[ChartVolume.Routed]
    assert routed["recipient"] == "Admissions" and routed["purpose"] == "operations"
    assert routed["actor"] == "tech1" and routed["categories"] == ["routing"]
    assert {r["actor"] for r in by_class[ReleaseRequest.Approved]} == {"roi1"}
    assert by_class[ReleaseRequest.Denied][0]["categories"] == ["release-request"]
