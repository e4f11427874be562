"""`code worklist` and `code productivity` on every store: the table and `--json`, a query
holding a stay, signing final taking it off, productivity's case mix index from the recorded
weight, and refusals in one sentence that write nothing (or only the recorded refusal)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tests.cli.test_cli import Chartledger
from tests.rawdb import RawDB


def _events(run: Chartledger) -> int:
    db = RawDB(run.store_url)
    return int(db._run(f"SELECT COUNT(*) FROM {db.events}", fetch=True)[0][0])


@pytest.fixture
def coded(clinic: tuple[Chartledger, str]) -> tuple[Chartledger, str, str]:
    """Ada's stay of 10 to 14 March 2026, coded and grouped by coder1, not yet final."""
    run, mrn = clinic
    out = run(
        "encounter", "admit", mrn, "--attending", "dr1", "--service", "medicine",
        "--at", "2026-03-10T08:00+00:00", actor="tech1",
    ).output  # fmt: skip
    encounter = out.split("encounter ")[1].split()[0]
    run("encounter", "discharge", encounter, "--disposition", "home",
        "--at", "2026-03-14T11:00+00:00", actor="tech1")  # fmt: skip
    run("code", "dx", encounter, "I50.21", "--poa", "Y", "--principal", actor="coder1")
    run("code", "dx", encounter, "N17.9", "--poa", "Y", actor="coder1")
    run("code", "group", encounter, actor="coder1")
    return run, mrn, encounter


def test_the_worklist_shows_the_stay_its_hold_and_drops_it_once_final(
    coded: tuple[Chartledger, str, str],
) -> None:
    run, mrn, encounter = coded
    entry = run("chart", "add", encounter, "--kind", "laboratory-report", "--text",
                "Creatinine 2.9 mg/dL", "--effective", "2026-03-12T08:00+00:00",
                actor="dr1").output.split()[-1]  # fmt: skip
    raised = run("query", "raise", encounter, "--physician", "dr1", "--indicator", entry,
                 "--question", "What condition does the creatinine of 2.9 mg/dL support?",
                 "--option", "Acute kidney injury", "--option", "Chronic kidney disease",
                 "--option", "Other", "--option", "Clinically undetermined",
                 actor="coder1").output  # fmt: skip
    query = raised.split("Raised query ")[1].split()[0]
    run("chart", "add", encounter, "--kind", "progress-note", "--text", "Improving",
        "--effective", "2026-03-13T08:00+00:00", actor="dr1")  # fmt: skip
    table = run("code", "worklist", "--purpose", "operations", actor="coder1").output
    assert "Coding worklist: 1 stay discharged, not final (1 held)" in table
    # Two entries dr1 has not signed: one kind of hold, counted, with the first due (the
    # holds wrap inside their column: read the table's cells as one text).
    flat = " ".join(re.sub(r"[│┃]", " ", table).split())
    assert "signature (2: dr1, first due 2026-03-12, overdue)" in flat
    assert mrn in table and encounter in table and "grouped" in table and "query raised" in table
    rows = json.loads(run("code", "worklist", "--purpose", "operations", "--json",
                          actor="coder1").output)  # fmt: skip
    assert [r["encounter"] for r in rows] == [encounter] and rows[0]["mrn"] == mrn
    today = datetime.now(UTC).date()
    assert rows[0]["days_since_discharge"] == (today - date(2026, 3, 14)).days
    shown = json.loads(run("code", "show", encounter, "--purpose", "operations", "--json",
                           actor="coder1").output)  # fmt: skip
    assert rows[0]["drg"] == shown["grouping"]["drg"] and rows[0]["drg_current"] is True
    assert [h["reference"] for h in rows[0]["holds"] if h["kind"] == "query"] == [query]
    assert len([h for h in rows[0]["holds"] if h["what"] == "signature"]) == 2  # each in JSON
    assert rows[0]["coders"] == ["coder1"]
    mine = json.loads(run("code", "worklist", "--purpose", "operations", "--coder", "dr1",
                          "--json", actor="coder1").output)  # fmt: skip
    assert mine == []
    run("code", "final", encounter, actor="coder1")
    after = run("code", "worklist", "--purpose", "operations", actor="coder1").output
    assert "Coding worklist: 0 stays" in after and mrn not in after


def test_productivity_and_its_case_mix_index_from_the_recorded_weight(
    coded: tuple[Chartledger, str, str],
) -> None:
    run, mrn, encounter = coded
    run.enrol("him1", "him-director")
    run("code", "final", encounter, actor="coder1")
    weight = json.loads(run("code", "show", encounter, "--purpose", "operations", "--json",
                            actor="coder1").output)["grouping"]["relative_weight"]  # fmt: skip
    today = datetime.now(UTC).date().isoformat()
    before = _events(run)
    report = json.loads(run("code", "productivity", "--from", today, "--to", today, "--json",
                            actor="him1").output)  # fmt: skip
    assert _events(run) == before  # names no patient: records no access
    assert mrn not in json.dumps(report) and encounter not in json.dumps(report)
    assert report["stays"] == 1 and report["coders"][0]["coder"] == "coder1"
    (day,) = report["coders"][0]["days"]
    assert (day["day"], day["stays"]) == (today, 1)
    assert Decimal(day["case_mix_index"]) == Decimal(weight)  # one stay: its weight
    assert Decimal(report["case_mix_index"]) == Decimal(weight)
    text = run("code", "productivity", "--from", today, "--to", today, actor="coder1").output
    assert "1 stay signed final" in text and f"case mix index {report['case_mix_index']}" in text


def test_refusals_are_one_sentence(coded: tuple[Chartledger, str, str]) -> None:
    run, _, _ = coded
    before = _events(run)
    out = run("code", "productivity", "--from", "01/03/2026", "--to", "2026-03-31",
              actor="coder1", ok=False)  # fmt: skip
    assert out.output.strip() == "Error: '01/03/2026' is not a date (give YYYY-MM-DD)."
    out = run("code", "productivity", "--from", "2026-03-31", "--to", "2026-03-01",
              actor="coder1", ok=False)  # fmt: skip
    assert "before it starts" in out.output and len(out.output.strip().splitlines()) == 1
    out = run("code", "productivity", "--from", "2026-03-01", "--to", "2026-03-31",
              "--coder", "someone-else", actor="coder1", ok=False)  # fmt: skip
    assert out.exit_code == 4 and "own productivity" in out.output
    assert _events(run) == before
    refused = run("code", "worklist", "--purpose", "operations", actor="tech1", ok=False)
    lines = refused.output.strip().splitlines()
    assert (
        refused.exit_code == 4 and len(lines) == 1 and lines[0].startswith("Error: Access refused")
    )
    assert _events(run) == before + 1  # the refusal is recorded
