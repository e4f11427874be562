"""Chart locations through the CLI, on every store: volumes, the pull list, check-out, transfer,
overdue, check-in, lost and found, loose filing, and the full movement history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.cli.test_cli import Chartledger


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
