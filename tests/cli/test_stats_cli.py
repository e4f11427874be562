"""`chartledger stats census`, on every store (decisions §46): the table, --json and --csv give
the same figures; it names no patient and writes nothing (no access is recorded); refusals are
one sentence."""

from __future__ import annotations

import csv
import io
import json

from tests.cli.test_cli import Chartledger
from tests.rawdb import RawDB


def stored(run: Chartledger) -> int:
    db = RawDB(run.store_url)
    return int(db._run(f"SELECT COUNT(*) FROM {db.events}", fetch=True)[0][0])


def _ward(run: Chartledger, mrn: str) -> None:
    """4W (2 beds, medicine): the patient admitted on the 2nd, moved to 5E on the 4th (an
    unopened unit's bed label, so off 4W), back on the 5th, discharged on the 6th."""
    run.enrol("him1", "him-director")
    run("unit", "open", "4W", "--name", "Four West", "--beds", "2", "--service", "medicine",
        "--from", "2025-12-01", actor="him1")  # fmt: skip
    out = run("encounter", "admit", mrn, "--attending", "dr1", "--service", "medicine", "--bed",
              "4W-1", "--at", "2026-01-02T10:00+00:00", actor="tech1").output  # fmt: skip
    encounter = out.split(" encounter ")[1].split()[0]
    run("encounter", "transfer", encounter, "--bed", "6N-1", "--at", "2026-01-04T09:00+00:00",
        actor="tech1")  # fmt: skip
    run("encounter", "transfer", encounter, "--bed", "4W-2", "--at", "2026-01-05T09:00+00:00",
        actor="tech1")  # fmt: skip
    run("encounter", "discharge", encounter, "--disposition", "home", "--at",
        "2026-01-06T12:00+00:00", actor="tech1")  # fmt: skip


def test_the_census_three_ways_names_no_one_and_writes_nothing(
    clinic: tuple[Chartledger, str],
) -> None:
    run, mrn = clinic
    _ward(run, mrn)
    before = stored(run)
    args = ("stats", "census", "--from", "2026-01-01", "--to", "2026-01-07", "--unit", "4w")
    report = json.loads(run(*args, "--json", actor="tech1").output)
    days = [(d["day"][-2:], d["census"], d["admissions"], d["discharges"], d["transfers_in"],
             d["transfers_out"]) for d in report["days"]]  # fmt: skip
    assert days == [
        ("01", 0, 0, 0, 0, 0),
        ("02", 1, 1, 0, 0, 0),
        ("03", 1, 0, 0, 0, 0),
        ("04", 0, 0, 0, 0, 1),
        ("05", 1, 0, 0, 1, 0),
        ("06", 0, 0, 1, 0, 0),
        ("07", 0, 0, 0, 0, 0),
    ]
    assert report["service_days"] == 3 and report["bed_count_days"] == 14
    assert report["occupancy_percent"] == "21.43"  # 3 x 100 / 14
    assert report["average_daily_census"] == "0.43" and report["bed_turnover"] == "0.50"
    assert report["overfilled"] is False and report["scope"] == "adults and children, unit 4W"
    rows = list(csv.DictReader(io.StringIO(run(*args, "--csv").output)))
    assert [(r["day"][-2:], int(r["census"]), int(r["admissions"]), int(r["discharges"]),
             int(r["transfers_in"]), int(r["transfers_out"])) for r in rows] == days  # fmt: skip
    text = run(*args).output
    assert "Inpatient service days: 3" in text and "Occupancy: 21.43 %" in text
    assert "Bed count days: 14" in text and "Bed turnover: 0.50" in text
    for shown in (text, json.dumps(report)):
        assert mrn not in shown and "Lovelace" not in shown and "dr1" not in shown
    assert stored(run) == before  # no access recorded: nothing about a patient was shown
    hospital = json.loads(run("stats", "census", "--from", "2026-01-04", "--to", "2026-01-04",
                              "--json").output)  # fmt: skip
    assert hospital["days"][0]["census"] == 1 and hospital["bed_count_days"] == 2


def test_overfilled_beds_are_said(clinic: tuple[Chartledger, str]) -> None:
    run, mrn = clinic
    run.enrol("him1", "him-director")
    run("unit", "open", "1A", "--name", "One A", "--beds", "0", "--bassinets", "1",
        "--from", "2025-12-01", actor="him1")  # fmt: skip
    run("encounter", "admit", mrn, "--attending", "dr1", "--service", "medicine", "--bed",
        "1A-1", "--at", "2026-01-02T10:00+00:00", actor="tech1")  # fmt: skip
    run("unit", "open", "2A", "--name", "Two A", "--beds", "1", "--from", "2025-12-01",
        actor="him1")  # fmt: skip
    run("unit", "beds", "2A", "--beds", "0", "--from", "2026-01-03", "--reason", "closed off",
        actor="him1")  # fmt: skip
    text = run("stats", "census", "--from", "2026-01-02", "--to", "2026-01-03", "--unit",
               "1A").output  # fmt: skip
    assert "Bed count days: 0" in text and "Occupancy" not in text
    whole = run("stats", "census", "--from", "2026-01-02", "--to", "2026-01-03").output
    assert "Occupancy: 200.00 % (overfilled: the census exceeded the beds on 2026-01-03)" in whole
    assert "Bed turnover: no discharges in the period." in whole


def test_refusals_are_one_sentence(clinic: tuple[Chartledger, str]) -> None:
    run, mrn = clinic
    _ward(run, mrn)
    before = stored(run)
    cases = [
        (("--from", "2026-01-01", "--to", "2026-01-31", "--unit", "9Z"), 5,
         "There is no nursing unit 9Z."),
        (("--from", "2026-01-31", "--to", "2026-01-01"), 2,
         "The period ends (2026-01-01) before it starts (2026-01-31)."),
        (("--from", "2025-06-01", "--to", "2025-06-30"), 2,
         "No stay was in the hospital from 2025-06-01 to 2025-06-30, so there is no census."),
        (("--from", "June", "--to", "2025-06-30"), 2,
         "'June' is not a first day (give YYYY-MM-DD)."),
        (("--from", "2026-01-01", "--to", "2026-01-31", "--json", "--csv"), 2,
         "Give --json or --csv, not both."),
    ]  # fmt: skip
    for args, code, sentence in cases:
        result = run("stats", "census", *args, ok=False)
        assert result.exit_code == code, (args, result.output)
        assert result.output.strip() == f"Error: {sentence}", args
    assert stored(run) == before
