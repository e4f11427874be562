"""Chart completion through the CLI, on every store: deficiencies from real charts, a
delinquent record and a physician in jeopardy, at their boundaries."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from tests.cli.test_cli import Chartledger
from tests.rawdb import RawDB


def _admit(run: Chartledger, mrn: str, admitted: datetime) -> str:
    """dr1's surgical inpatient, admitted at `admitted`; returns the encounter."""
    opened = run(
        "encounter",
        "admit",
        mrn,
        "--attending",
        "dr1",
        "--service",
        "surgery",
        "--at",
        admitted.isoformat(),
        actor="tech1",
    )
    return str(opened.output.split("encounter ")[1].split()[0])


def test_deficiencies_delinquency_and_jeopardy(clinic: tuple[Chartledger, str]) -> None:
    run, mrn = clinic
    admitted = datetime.now(UTC) - timedelta(days=3)
    discharged = admitted + timedelta(days=1)
    encounter = _admit(run, mrn, admitted)
    for kind in ("history", "examination", "progress-note"):
        run(
            "chart",
            "add",
            encounter,
            "--kind",
            kind,
            "--text",
            f"{kind} done",
            "--effective",
            (admitted + timedelta(hours=2)).isoformat(),
            actor="dr1",
        )
    run(
        "encounter",
        "discharge",
        encounter,
        "--disposition",
        "home",
        "--at",
        discharged.isoformat(),
        actor="tech1",
    )
    now_list = run("deficiency", "list", "--physician", "dr1", actor="tech1").output
    assert "signature" in now_list  # dr1's three entries are unsigned
    assert "discharge-summary" not in now_list  # due 30 days after discharge
    later = (discharged + timedelta(days=30)).isoformat()
    delinquent = run("deficiency", "delinquent", "--on", later, actor="tech1").output
    assert "Delinquent records: 1" in delinquent and "discharge-summary" in delinquent
    # One delinquent record over one discharge in three months: 1 / (1 / 3) = 3.
    assert "Delinquency rate: 3.00" in delinquent
    before = (discharged + timedelta(days=29)).isoformat()
    assert (
        "Delinquent records: 0"
        in run("deficiency", "delinquent", "--on", before, actor="tech1").output
    )
    warned_on = (discharged + timedelta(days=21)).isoformat()
    jeopardy = run("deficiency", "jeopardy", "--on", warned_on, actor="tech1").output
    assert "Physicians in jeopardy: 1" in jeopardy and "dr1" in jeopardy
    suspension = (discharged + timedelta(days=31)).date().isoformat()
    assert suspension in jeopardy


def _surgical_stay(run: Chartledger, mrn: str, *, days_ago: int) -> tuple[str, str]:
    """An operation in a five-day stay discharged `days_ago` days ago, with nothing completed:
    returns (encounter, the procedure entry's reference)."""
    admitted = datetime.now(UTC) - timedelta(days=days_ago + 5)
    encounter = _admit(run, mrn, admitted)
    added = run(
        "chart",
        "add",
        encounter,
        "--kind",
        "procedure",
        "--text",
        "Laparoscopic appendectomy",
        "--field",
        "code=0DTJ4ZZ",
        "--effective",
        (admitted + timedelta(hours=6)).isoformat(),
        actor="dr1",
    )
    entry = added.output.split()[-1].rstrip(".")
    run(
        "encounter",
        "discharge",
        encounter,
        "--disposition",
        "home",
        "--at",
        (admitted + timedelta(days=5)).isoformat(),
        actor="tech1",
    )
    return encounter, entry


FOUR_GAPS = ("history-and-physical", "discharge-summary", "operative-report", "consent")


def test_scan_notify_and_resolve_are_signed_events(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, mrn = clinic
    run.enrol("him1", "him-director")
    encounter, entry = _surgical_stay(run, mrn, days_ago=35)
    listed = run("deficiency", "list", actor="tech1").output
    assert "Deficiencies: 6" in listed and all(kind in listed for kind in FOUR_GAPS)
    assert "dictate" in listed and "progress-notes" in listed and "signature" in listed

    scanned = run("deficiency", "scan", actor="tech1").output
    assert "6 assigned, 0 completed, 6 open (deficiencies); 1 encounter recorded" in scanned
    again = run("deficiency", "scan", actor="tech1").output
    assert "0 assigned, 0 completed, 6 open (deficiencies); 0 encounters recorded" in again

    notified = run(
        "deficiency", "notify", "--physician", "dr1", "--method", "letter", actor="tech1"
    )
    assert "dr1 notified (letter) of 6 deficiencies in 1 encounter." in notified.output
    today = datetime.now(UTC).date().isoformat()
    listed = run("deficiency", "list", "--physician", "dr1", actor="tech1").output
    assert listed.count(today) >= 12  # assigned and notified today, for each of the six rows

    # The physician signs the procedure: the next scan closes that deficiency.
    run("chart", "sign", entry, actor="dr1")
    closed = run("deficiency", "scan", actor="tech1").output
    assert "0 assigned, 1 completed, 5 open" in closed

    # The consent is still missing: a technician may not waive it, the HIM director may.
    before = RawDB(run.store_url).rows()
    refused = run(
        "deficiency", "resolve", encounter, "consent", "--reason", "x", actor="tech1", ok=False
    )
    assert "Only the HIM director may waive" in refused.output
    assert RawDB(run.store_url).rows() == before
    waived = run(
        "deficiency",
        "resolve",
        encounter,
        "consent",
        "--reason",
        "emergency operation, consent implied",
        actor="him1",
    )
    assert "is waived" in waived.output
    assert "consent" not in run("deficiency", "list", actor="tech1").output
    assert "0 assigned, 0 completed, 4 open" in run("deficiency", "scan", actor="tech1").output

    # The operative report is dictated and filed: resolving it by hand records it completed.
    report = tmp_path / "op-report.txt"
    report.write_text("Operative report: appendix removed.\n")
    run(
        "chart",
        "file",
        mrn,
        str(report),
        "--kind",
        "operative-report",
        "--encounter",
        encounter,
        actor="tech1",
    )
    done = run(
        "deficiency",
        "resolve",
        f"{entry}",
        "operative-report",
        "--reason",
        "report filed",
        actor="tech1",
    )
    assert "is completed" in done.output

    jeopardy = run("deficiency", "jeopardy", actor="tech1").output
    assert "Physicians in jeopardy: 1" in jeopardy
    assert f"{mrn} discharged" in jeopardy and today in jeopardy  # notified today
    (warned,) = json.loads(run("deficiency", "jeopardy", "--json", actor="tech1").output)
    assert warned["physician"] == "dr1" and warned["encounters"] == [encounter]
    assert warned["notified_at"].startswith(today) and warned["records"][0]["mrn"] == mrn
    rows = json.loads(run("deficiency", "list", "--json", actor="tech1").output)
    assert sorted(r["kind"] for r in rows) == [
        "discharge-summary",
        "history-and-physical",
        "progress-notes",
    ]
    assert all(r["notified_at"].startswith(today) and r["physician"] == "dr1" for r in rows)
    late = json.loads(run("deficiency", "delinquent", "--json", actor="tech1").output)
    assert late["rate"] == 3.0 and late["records"][0]["missing"] == [
        "discharge-summary",
        "history-and-physical",
        "progress-notes",
    ]
    assert "verified" in run("verify").output.lower()


@pytest.mark.parametrize(
    ("args", "actor", "message"),
    [
        (["deficiency", "scan"], "dr1", "Only technicians or the HIM director"),
        (["deficiency", "notify", "--physician", "dr1"], "tech1", "no open deficiencies"),
        (["deficiency", "notify", "--physician", "nobody"], "tech1", "no user named"),
        (
            ["deficiency", "resolve", "not-a-ref", "consent", "--reason", "r"],
            "tech1",
            "is not a chart reference",
        ),
        (
            ["deficiency", "resolve", str(UUID(int=7)), "consent", "--reason", "r"],
            "tech1",
            "no open consent deficiency recorded",
        ),
        (["deficiency", "list", "--on", "yesterday"], "tech1", "'yesterday' is not a time"),
    ],
)
def test_completion_errors_are_one_sentence_and_write_nothing(
    clinic: tuple[Chartledger, str], args: list[str], actor: str, message: str
) -> None:
    run, _ = clinic
    before = RawDB(run.store_url).rows()
    result = run(*args, actor=actor, ok=False)
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert RawDB(run.store_url).rows() == before


def test_completion_rules_come_from_the_policy_document(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, mrn = clinic
    run.enrol("privacy1", "compliance-officer")
    _surgical_stay(run, mrn, days_ago=35)
    assert "Delinquent records: 1" in run("deficiency", "delinquent", actor="tech1").output

    policy = tmp_path / "policy.toml"
    policy.write_text('version = "c1"\n[completion]\ndelinquent_days = 60\n')
    run("policy", "load", str(policy), actor="privacy1")
    assert "Delinquent records: 0" in run("deficiency", "delinquent", actor="tech1").output

    went_live = (datetime.now(UTC) - timedelta(days=10)).date().isoformat()
    policy.write_text(f'version = "c2"\n[completion]\ntracking_starts = {went_live}\n')
    run("policy", "load", str(policy), actor="privacy1")
    assert "Deficiencies: 0" in run("deficiency", "list", actor="tech1").output

    before = RawDB(run.store_url).rows()
    policy.write_text('version = "c3"\n[completion]\nwarning_days = "soon"\n')
    refused = run("policy", "load", str(policy), actor="privacy1", ok=False)
    assert "warning_days must be a whole number" in refused.output
    assert RawDB(run.store_url).rows() == before


def test_the_cli_offers_exactly_the_policys_choices() -> None:
    import click

    from cli import audit_monitoring, deficiency, discrepancy, location, roi
    from policies import records, release, review

    def choices(command: click.Command, option: str) -> list[str]:
        (param,) = [p for p in command.params if p.name == option]
        assert isinstance(param.type, click.Choice)
        return list(param.type.choices)

    assert choices(deficiency.resolve, "kind") == list(records.DEFICIENCIES)
    assert choices(deficiency.notify, "method") == list(records.NOTICE_METHODS)
    assert choices(location.route, "holder_kind") == list(records.HOLDER_KINDS)
    assert choices(location.add, "record_type") == list(records.RECORD_TYPES)
    assert choices(discrepancy.open_, "kind") == list(records.DISCREPANCY_KINDS)
    assert choices(roi.release, "method") == list(release.METHODS)
    assert choices(audit_monitoring.review, "outcome") == list(review.OUTCOMES)


def test_a_trainees_entry_waits_for_the_attendings_co_signature(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, mrn = clinic
    run.enrol("privacy1", "compliance-officer")
    run.enrol("resident1", "physician")
    policy = tmp_path / "policy.toml"
    policy.write_text('version = "t1"\n[completion]\ntrainees = ["resident1"]\n')
    run("policy", "load", str(policy), actor="privacy1")
    opened = run(
        "encounter", "admit", mrn, "--attending", "dr1", "--service", "medicine", actor="tech1"
    )
    encounter = opened.output.split("encounter ")[1].split()[0]
    written = datetime.now(UTC)
    added = run(
        "chart",
        "add",
        encounter,
        "--kind",
        "progress-note",
        "--text",
        "Day 1: afebrile",
        "--effective",
        written.isoformat(),
        actor="resident1",
    )
    note = added.output.split()[-1].rstrip(".")
    run("chart", "sign", note, actor="resident1")
    before = (written - timedelta(seconds=1)).isoformat()
    assert "co-signature" not in run("deficiency", "list", "--on", before, actor="tech1").output
    due = run("deficiency", "list", "--physician", "dr1", actor="tech1").output
    assert "co-signature" in due and "co-sign" in due
    run("chart", "sign", note, actor="dr1")
    assert "co-signature" not in run("deficiency", "list", actor="tech1").output


def test_what_is_signed_is_true_of_now(clinic: tuple[Chartledger, str]) -> None:
    """A scan or a resolution records facts: they take the clock, never a time given."""
    run, _ = clinic
    for command in (["scan"], ["resolve", str(UUID(int=7)), "consent", "--reason", "r"]):
        refused = run("deficiency", *command, "--on", "2020-01-01T00:00", actor="tech1", ok=False)
        assert refused.exit_code == 2 and "No such option '--on'" in refused.output
