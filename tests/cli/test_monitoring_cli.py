"""`chartledger audit alerts` and `audit review` through the CLI, on every store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.cli.test_cli import Chartledger

POLICY = """version = "watch.1"
[staff.tech1]
family_name = "Okafor"
[monitoring]
working_hours = ["00:00", "23:59:59.999999"]
"""


def _alerts(run: Chartledger, *args: str) -> list[dict[str, str]]:
    found: list[dict[str, str]] = json.loads(
        run("audit", "alerts", "--json", *args, actor="privacy1").output
    )
    return found


def test_alerts_fire_and_a_review_answers_the_break_glass(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, mrn = clinic
    run.enrol("privacy1", "compliance-officer")
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    run("policy", "load", str(policy), actor="privacy1")
    assert _alerts(run) == []
    run("patient", "show", mrn, "--purpose", "operations", actor="tech1")  # same family name
    run("patient", "show", mrn, "--purpose", "research", "--break-glass", "overdose", actor="dr1")
    found = _alerts(run)
    assert {(a["rule"], a["actor"], a["mrn"]) for a in found} == {
        ("family", "tech1", mrn),
        ("break-glass-unreviewed", "dr1", mrn),
    }
    assert all("Okafor" not in a["why"] for a in found)  # identifiers only
    glass = next(a for a in found if a["rule"] == "break-glass-unreviewed")
    reviewed = run(
        "audit",
        "review",
        glass["event"],
        "--outcome",
        "appropriate",
        "--note",
        "ED attending, patient unresponsive",
        actor="privacy1",
    )
    assert "Recorded the review" in reviewed.output
    assert {a["rule"] for a in _alerts(run)} == {"family"}
    assert [a["rule"] for a in _alerts(run, "--rule", "family")] == ["family"]


def test_a_death_on_record_makes_later_reads_alert(clinic: tuple[Chartledger, str]) -> None:
    run, mrn = clinic
    run.enrol("privacy1", "compliance-officer")
    earlier = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    died = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    opened = run(
        "encounter",
        "admit",
        mrn,
        "--attending",
        "dr1",
        "--service",
        "icu",
        "--at",
        earlier,
        actor="tech1",
    )
    encounter = opened.output.split("encounter ")[1].split()[0]
    run(
        "encounter", "discharge", encounter, "--disposition", "expired", "--at", died, actor="tech1"
    )
    run("patient", "show", mrn, "--purpose", "operations", actor="tech1")
    assert [a["rule"] for a in _alerts(run, "--rule", "deceased")] == ["deceased"]


def test_review_and_alert_mistakes_are_one_sentence(clinic: tuple[Chartledger, str]) -> None:
    run, mrn = clinic
    run.enrol("privacy1", "compliance-officer")
    run("patient", "show", mrn, "--purpose", "operations", actor="tech1")
    event = json.loads(run("audit", "patient", mrn, "--json", actor="privacy1").output)[0]["event"]
    not_access = run(
        "audit",
        "review",
        event,
        "--outcome",
        "appropriate",
        "--note",
        "x",
        actor="privacy1",
        ok=False,
    )
    assert "not an access" in not_access.output  # the registration is a change, not an access
    unknown = run(
        "audit",
        "review",
        "00000000-0000-0000-0000-000000000000/1",
        "--outcome",
        "appropriate",
        "--note",
        "x",
        actor="privacy1",
        ok=False,
    )
    assert unknown.exit_code == 5
    refused = run(
        "audit", "review", event, "--outcome", "appropriate", "--note", "x", actor="dr1", ok=False
    )
    assert refused.exit_code == 4
    bogus = run("audit", "alerts", "--rule", "nosy", actor="privacy1", ok=False)
    assert "There is no rule 'nosy'" in bogus.output
