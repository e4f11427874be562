"""`chartledger index disease|operation|physician` on every store: the tables, `--json` and
`--csv` (formula cells neutralised), the filters, only final-coded stays unless
`--include-unfinal`, and refusals in one sentence that write nothing."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.cli.test_cli import Chartledger
from tests.rawdb import RawDB


def _events(run: Chartledger) -> int:
    db = RawDB(run.store_url)
    return int(db._run(f"SELECT COUNT(*) FROM {db.events}", fetch=True)[0][0])


@pytest.fixture
def final(clinic: tuple[Chartledger, str]) -> tuple[Chartledger, str, str]:
    """Ada's stay of 10 to 14 March 2026 (dr1): heart failure, kidney injury, a central line by
    dr1; grouped and signed final by coder1."""
    run, mrn = clinic
    run.enrol("him1", "him-director")
    out = run(
        "encounter", "admit", mrn, "--attending", "dr1", "--service", "medicine",
        "--at", "2026-03-10T08:00+00:00", actor="tech1",
    ).output  # fmt: skip
    encounter = out.split("encounter ")[1].split()[0]
    run("encounter", "discharge", encounter, "--disposition", "home",
        "--at", "2026-03-14T11:00+00:00", actor="tech1")  # fmt: skip
    run("code", "dx", encounter, "I50.21", "--poa", "Y", "--principal", actor="coder1")
    run("code", "dx", encounter, "N17.9", "--poa", "Y", actor="coder1")
    run("code", "px", encounter, "02HV33Z", "--on", "2026-03-11", "--surgeon", "dr1",
        actor="coder1")  # fmt: skip
    run("code", "group", encounter, actor="coder1")
    run("code", "final", encounter, actor="coder1")
    return run, mrn, encounter


def test_the_disease_index_as_a_table_json_and_csv(final: tuple[Chartledger, str, str]) -> None:
    run, mrn, encounter = final
    table = run("index", "disease", "--code", "I50", "--from", "2026-03-01", "--purpose",
                "operations", actor="him1").output  # fmt: skip
    assert "Disease index (discharged 2026-03-01 to now): 1 line" in table
    assert "I50.21" in table and mrn in table and encounter in table and "principal" in table
    assert "N17.9" not in table
    rows = json.loads(run("index", "disease", "--purpose", "operations", "--json",
                          actor="him1").output)  # fmt: skip
    assert [(r["code"], r["place"], r["mrn"], r["final"]) for r in rows] == [
        ("I50.21", "principal", mrn, True), ("N17.9", "secondary", mrn, True)
    ]  # fmt: skip
    assert rows[0]["discharged"] == "2026-03-14" and rows[0]["encounter"] == encounter
    out = run("index", "disease", "--purpose", "operations", "--csv", actor="him1").output
    lines = list(csv.reader(io.StringIO(out)))
    assert lines[0][:4] == ["code", "description", "mrn", "encounter"] and len(lines) == 3
    assert {line[0] for line in lines[1:]} == {"I50.21", "N17.9"}
    later = json.loads(run("index", "disease", "--from", "2026-03-15", "--purpose", "operations",
                           "--json", actor="him1").output)  # fmt: skip
    assert later == []


def test_the_operation_and_physician_indexes(final: tuple[Chartledger, str, str]) -> None:
    run, mrn, encounter = final
    rows = json.loads(run("index", "operation", "--root-operation", "H", "--purpose",
                          "operations", "--json", actor="coder1").output)  # fmt: skip
    assert [(r["code"], r["surgeon"], r["performed"], r["mrn"]) for r in rows] == [
        ("02HV33Z", "dr1", "2026-03-11", mrn)
    ]
    assert rows[0]["root_operation_name"] == "Insertion"
    none = json.loads(run("index", "operation", "--root-operation", "resection", "--purpose",
                          "operations", "--json", actor="coder1").output)  # fmt: skip
    assert none == []
    table = run("index", "operation", "--purpose", "operations", actor="coder1").output
    assert "Operation index" in table and "02HV33Z" in table and "Insertion" in table
    data = json.loads(run("index", "physician", "--purpose", "operations", "--json",
                          actor="him1").output)  # fmt: skip
    shown = json.loads(run("code", "show", encounter, "--purpose", "operations", "--json",
                           actor="coder1").output)  # fmt: skip
    assert [(p["physician"], p["discharges"], p["patient_days"]) for p in data] == [("dr1", 1, 4)]
    assert data[0]["average_length_of_stay"] == "4.00"
    assert data[0]["drgs"] == [
        {"drg": shown["grouping"]["drg"], "title": shown["grouping"]["drg_title"], "stays": 1}
    ]
    table = run("index", "physician", "--purpose", "operations", actor="him1").output
    assert "Physician index" in table and "Stays of dr1" in table and mrn in table
    out = run("index", "physician", "--purpose", "operations", "--csv", actor="him1").output
    lines = list(csv.reader(io.StringIO(out)))
    assert lines[0][:3] == ["physician", "mrn", "encounter"] and lines[1][:3] == [
        "dr1", mrn, encounter
    ]  # fmt: skip


def test_unfinal_stays_only_when_asked_and_marked(final: tuple[Chartledger, str, str]) -> None:
    run, _, encounter = final
    run("code", "reopen", encounter, "--reason", "late pathology report", actor="coder1")
    plain = json.loads(run("index", "disease", "--purpose", "operations", "--json",
                           actor="coder1").output)  # fmt: skip
    assert plain == []
    marked = json.loads(run("index", "disease", "--purpose", "operations", "--json",
                            "--include-unfinal", actor="coder1").output)  # fmt: skip
    assert {r["final"] for r in marked} == {False} and len(marked) == 2
    table = run("index", "disease", "--purpose", "operations", "--include-unfinal",
                actor="coder1").output  # fmt: skip
    assert "not final" in table


def test_refusals_are_one_sentence_and_write_nothing(final: tuple[Chartledger, str, str]) -> None:
    run, _, _ = final
    before = _events(run)
    for args, said in [
        (("index", "disease", "--code", "XYZ!", "--purpose", "operations"), "not an ICD-10-CM"),
        (("index", "operation", "--root-operation", "T4", "--purpose", "operations"),
         "not a root operation"),
        (("index", "physician", "--from", "yesterday", "--purpose", "operations"),
         "is not a date"),
        (("index", "disease", "--json", "--csv", "--purpose", "operations"), "not both"),
        (("index", "physician", "--from", "2026-04-01", "--to", "2026-03-01", "--purpose",
          "operations"), "before it starts"),
    ]:  # fmt: skip
        result = run(*args, actor="coder1", ok=False)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ") and said in lines[0], lines
    assert _events(run) == before
    refused = run("index", "disease", "--purpose", "operations", actor="dr1", ok=False)
    assert refused.exit_code == 4 and "Access refused" in refused.output
    assert _events(run) == before + 1  # the refusal, recorded
