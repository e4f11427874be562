"""Chart completion through the CLI, on every store: deficiencies from real charts, a
delinquent record and a physician in jeopardy, at their boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.cli.test_cli import Chartledger


def test_deficiencies_delinquency_and_jeopardy(clinic: tuple[Chartledger, str]) -> None:
    run, mrn = clinic
    admitted = datetime.now(UTC) - timedelta(days=3)
    discharged = admitted + timedelta(days=1)
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
    encounter = opened.output.split("encounter ")[1].split()[0]
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
