"""Chart locations through the CLI, on every store: volumes, the pull list, check-out, transfer,
overdue, check-in, lost and found, loose filing, and the full movement history."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.cli.test_cli import Chartledger
from tests.rawdb import RawDB


def _at(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def test_a_volume_moves_and_every_movement_is_kept(clinic: tuple[Chartledger, str]) -> None:
    run, mrn = clinic
    run(
        "location",
        "add",
        mrn,
        "--barcode",
        "V-0001",
        "--home-location",
        "File room B",
        actor="tech1",
    )
    run(
        "location",
        "request",
        "V-0001",
        "--requestor",
        "dr1",
        "--needed-by",
        _at(hours=4),
        "--purpose",
        "clinic visit",
        actor="dr1",
    )
    assert "V-0001" in run("location", "pending", actor="tech1").output
    run(
        "location",
        "checkout",
        "V-0001",
        "--to",
        "Cardiology clinic",
        "--kind",
        "clinic",
        "--due",
        _at(days=2),
        actor="tech1",
    )
    assert "Pull list: 0" in run("location", "pending", actor="tech1").output
    assert "Overdue chart volumes: 0" in run("location", "overdue", actor="tech1").output
    late = run("location", "overdue", "--on", _at(days=3), actor="tech1").output
    assert "Overdue chart volumes: 1" in late and "Cardiology clinic" in late
    run(
        "location",
        "transfer",
        "V-0001",
        "--to",
        "dr1",
        "--kind",
        "physician",
        "--due",
        _at(days=1),
        actor="tech1",
    )
    run("location", "checkin", "V-0001", actor="tech1")
    run("location", "loose", "V-0001", "--what", "2 lab slips", actor="tech1")
    run("location", "lost", "V-0001", "--note", "last seen on ward 4", actor="tech1")
    assert "V-0001" in run("location", "missing", actor="tech1").output
    run("location", "found", "V-0001", "--at", "Ward 4 desk", actor="tech1")
    where = run("location", "where", mrn, actor="tech1").output
    assert "V-0001 (MR0000001, volume 1): in, Ward 4 desk since" in where
    for step in (
        "registered",
        "requested",
        "checked out Cardiology clinic",
        "transferred dr1",
        "checked in File room B",
        "loose sheets filed",
        "reported lost",
        "found Ward 4 desk",
    ):
        assert step in where
    assert "Missing chart volumes: 0" in run("location", "missing", actor="tech1").output
    # Showing where a patient's chart is shows that they are a patient: each read is recorded.
    run.enrol("privacy1", "compliance-officer")
    trail = json.loads(run("audit", "patient", mrn, "--json", actor="privacy1").output)
    reads = [r for r in trail if r["categories"] == ["locations"] and r["actor"] == "tech1"]
    assert len(reads) == 4  # the pull list, the overdue list, the missing list, where
    run("user", "revoke", "tech1", "--reason", "left")
    refused = run("location", "where", mrn, actor="tech1", ok=False)
    assert refused.exit_code == 3 and len(refused.output.strip().splitlines()) == 1


def test_location_mistakes_are_one_sentence(clinic: tuple[Chartledger, str]) -> None:
    run, mrn = clinic
    run("location", "add", mrn, "--barcode", "V-0002", actor="tech1")
    assert run("location", "checkin", "V-0002", actor="tech1", ok=False).exit_code == 2
    past = run(
        "location",
        "checkout",
        "V-0002",
        "--to",
        "ED",
        "--kind",
        "department",
        "--due",
        _at(hours=-1),
        actor="tech1",
        ok=False,
    )
    assert "future" in past.output
    assert run("location", "where", "V-9999", actor="tech1", ok=False).exit_code == 5
    refused = run(
        "location",
        "checkout",
        "V-0002",
        "--to",
        "ED",
        "--kind",
        "department",
        "--due",
        _at(days=1),
        actor="dr1",
        ok=False,
    )
    assert refused.exit_code == 4
    again = run("location", "add", mrn, "--barcode", "v-0002", actor="tech1", ok=False)
    assert "already" in again.output
    wrong = run("location", "add", "MR9999999", "--barcode", "V-3", actor="tech1", ok=False)
    assert wrong.exit_code == 5


def _route(run: Chartledger, mrn: str, to: str, kind: str, purpose: str, ok: bool = True) -> str:
    return run(
        "location",
        "route",
        mrn,
        "--to",
        to,
        "--kind",
        kind,
        "--purpose",
        purpose,
        "--due",
        _at(days=1),
        actor="tech1",
        ok=ok,
    ).output


def test_the_electronic_record_is_routed_and_each_reader_checked(
    clinic: tuple[Chartledger, str],
) -> None:
    run, mrn = clinic
    barcode = f"E-{mrn}"
    assert f"Routed the electronic record {barcode} to Admissions" in _route(
        run, mrn, "Admissions", "department", "operations"
    )
    # dr1 has no treatment relationship with the patient yet: nothing is routed to dr1.
    before = RawDB(run.store_url).rows()
    refused = _route(run, mrn, "dr1", "physician", "treatment", ok=False)
    assert "cannot be routed to dr1" in refused and len(refused.strip().splitlines()) == 1
    assert RawDB(run.store_url).rows() == before
    assert "cannot be routed to coder1" in _route(run, mrn, "coder1", "person", "treatment", False)
    assert "no user named" in _route(run, mrn, "nobody", "person", "operations", ok=False)

    run("encounter", "admit", mrn, "--attending", "dr1", "--service", "medicine", actor="tech1")
    _route(run, mrn, "dr1", "physician", "treatment")
    where = run("location", "where", mrn, actor="tech1").output
    assert "routed" in where and "dr1" in where and "attending" in where
    late = run("location", "overdue", "--on", _at(days=2), actor="tech1").output
    assert barcode in late

    paper = run(
        "location",
        "checkout",
        barcode,
        "--to",
        "ED",
        "--kind",
        "department",
        "--due",
        _at(days=1),
        actor="tech1",
        ok=False,
    )
    assert "electronic record: it is routed" in paper.output
    run("location", "checkin", barcode, actor="tech1")
    back = run("location", "where", barcode, actor="tech1").output
    assert "checked in" in back and "Electronic record (HIM)" in back
    taken = run("location", "add", mrn, "--barcode", "E-1", actor="tech1", ok=False)
    assert "electronic records" in taken.output
    run("user", "revoke", "dr1", "--reason", "left the hospital")
    gone = _route(run, mrn, "dr1", "physician", "treatment", ok=False)
    assert "cannot be routed to dr1: their key was revoked" in gone
