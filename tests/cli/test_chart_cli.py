"""A chart through the CLI: admit, entries, amend, retract, sign, discharge, as of, history."""

from __future__ import annotations

import json
import time
from datetime import datetime

from ledger.aggregates.access import Access
from tests.cli.test_cli import Chartledger
from tests.rawdb import RawDB


def test_a_chart_from_admission_to_history(clinic: tuple[Chartledger, str]) -> None:
    run, mrn = clinic
    opened = run(
        "encounter",
        "admit",
        mrn,
        "--attending",
        "dr1",
        "--service",
        "medicine",
        "--bed",
        "4W-12",
        actor="tech1",
    )
    encounter = opened.output.split("encounter ")[1].split()[0]
    added = run(
        "chart",
        "add",
        encounter,
        "--kind",
        "diagnosis",
        "--text",
        "essential hypertension",
        "--field",
        "code=I10",
        actor="dr1",
    )
    entry = added.output.split()[-1]
    before_amend = datetime.now().astimezone()
    time.sleep(0.05)
    run(
        "chart",
        "amend",
        entry,
        "--text",
        "secondary hypertension",
        "--reason",
        "renal cause found",
        "--requested-by",
        "dr1",
        actor="dr1",
    )
    wrong = run(
        "chart",
        "add",
        encounter,
        "--kind",
        "allergy",
        "--text",
        "penicillin",
        "--effective",
        "2020-01-01T09:00",
        actor="tech1",
    )
    wrong_entry = wrong.output.split()[-1]
    run("chart", "retract", wrong_entry, "--reason", "wrong patient", actor="tech1")
    run("chart", "sign", entry, actor="dr1")
    refused = run("chart", "sign", entry, actor="tech1", ok=False)
    assert refused.exit_code == 4
    run(
        "chart",
        "deny-amendment",
        entry,
        "--reason",
        "clinically accurate",
        "--statement",
        "I never had high blood pressure",
        actor="dr1",
    )
    run("encounter", "discharge", encounter, "--disposition", "home", actor="tech1")

    now = json.loads(
        run("chart", "show", mrn, "--purpose", "treatment", "--json", actor="dr1").output
    )
    (enc,) = now["encounters"]
    assert enc["disposition"] == "home"
    diagnosis, allergy = enc["entries"]
    assert diagnosis["text"] == "secondary hypertension"
    assert [v["text"] for v in diagnosis["versions"]] == [
        "essential hypertension",
        "secondary hypertension",
    ]
    assert diagnosis["signed"] and diagnosis["denied_amendments"][0]["statement_of_disagreement"]
    assert allergy["retracted"] and allergy["late"]

    then = json.loads(
        run(
            "chart",
            "show",
            mrn,
            "--purpose",
            "treatment",
            "--json",
            "--as-of",
            before_amend.isoformat(),
            actor="dr1",
        ).output
    )
    (enc_then,) = then["encounters"]
    assert [e["text"] for e in enc_then["entries"]] == ["essential hypertension"]
    assert enc_then["discharged_at"] is None

    text = run("chart", "show", mrn, "--purpose", "treatment", actor="dr1").output
    assert "RETRACTED: wrong patient" in text and "amendment refused" in text

    history = json.loads(
        run("chart", "history", mrn, "--purpose", "treatment", "--json", actor="dr1").output
    )
    whats = [line["what"] for line in history]
    assert "Encounter.EntryAmended" in whats and "Encounter.EntryRetracted" in whats
    assert any(line["late"] for line in history)
    assert all("/" in line["event"] for line in history)
    assert RawDB(run.store_url).rows()[-1][3] == Access.RecordAccessed.TOPIC
    assert "Verified" in run("verify").output


def test_chart_errors_are_clear(clinic: tuple[Chartledger, str]) -> None:
    run, mrn = clinic
    future = run(
        "chart",
        "show",
        mrn,
        "--purpose",
        "treatment",
        "--as-of",
        "2999-01-01T00:00",
        actor="dr1",
        ok=False,
    )
    assert "future" in future.output
    bad = run(
        "chart",
        "amend",
        "nonsense",
        "--text",
        "x",
        "--reason",
        "y",
        "--requested-by",
        "z",
        actor="dr1",
        ok=False,
    )
    assert "not an entry reference" in bad.output
    when = run(
        "encounter",
        "admit",
        mrn,
        "--attending",
        "dr1",
        "--service",
        "medicine",
        "--at",
        "yesterday",
        actor="tech1",
        ok=False,
    )
    assert "is not a time" in when.output
    unknown = run("chart", "show", "MR0000404", "--purpose", "treatment", actor="dr1", ok=False)
    assert unknown.exit_code == 5
    opened = run(
        "encounter", "admit", mrn, "--attending", "dr1", "--service", "medicine", actor="tech1"
    )
    encounter = opened.output.split("encounter ")[1].split()[0]
    before = RawDB(run.store_url).rows()
    missing = run(
        "chart", "sign", f"{encounter}:00000000-0000-4000-8000-000000000000", actor="dr1", ok=False
    )
    assert missing.exit_code == 5 and "There is no entry" in missing.output
    no_encounter = run(
        "chart",
        "add",
        "00000000-0000-4000-8000-000000000000",
        "--kind",
        "history",
        "--text",
        "x",
        actor="dr1",
        ok=False,
    )
    assert no_encounter.exit_code == 5 and "There is no encounter" in no_encounter.output
    assert RawDB(run.store_url).rows() == before


def test_a_second_admission_is_refused_in_one_sentence_and_records_nothing(
    clinic: tuple[Chartledger, str],
) -> None:
    """Issue 17, item 5: `encounter admit` while a stay is open; a visit is still registered."""
    run, mrn = clinic
    admit = ("encounter", "admit", mrn, "--attending", "dr1", "--service", "medicine")
    opened = run(*admit, "--at", "2026-01-02T03:04:00+00:00", actor="tech1")
    stay = opened.output.split("encounter ")[1].split()[0]
    before = RawDB(run.store_url).rows()
    refused = run(*admit, "--bed", "5C-1", actor="tech1", ok=False)
    assert refused.output == (
        f"Error: {mrn} cannot be admitted: the patient is already admitted (inpatient) in "
        f"encounter "
        f"{stay} since 2026-01-02T03:04+00:00; transfer the patient within that stay, or "
        "discharge it first.\n"
    )
    assert refused.exit_code == 2
    assert RawDB(run.store_url).rows() == before
    run("encounter", "register", mrn, "--attending", "dr1", "--service", "clinic", actor="tech1")
    run("encounter", "discharge", stay, "--disposition", "home", actor="tech1")
    run(*admit, actor="tech1")
