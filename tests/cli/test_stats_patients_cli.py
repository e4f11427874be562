"""`stats patients` and `stats census --as-of`, on every store (decisions §47): the drill-down lists
the stays behind a figure and records the access before it prints them (the patient's audit
trail says so); the census as of a moment before a late discharge is the census that was given
then; refusals are one sentence and write nothing."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from tests.cli.test_cli import Chartledger
from tests.cli.test_stats_cli import _ward, stored


def _trail(run: Chartledger, mrn: str) -> list[dict[str, object]]:
    run.enrol("privacy1", "compliance-officer")
    rows = json.loads(run("audit", "patient", mrn, "--json", actor="privacy1").output)
    return [row for row in rows if row.get("action") == "query"]


def test_the_stays_behind_a_figure_are_listed_after_the_access_is_recorded(
    clinic: tuple[Chartledger, str],
) -> None:
    run, mrn = clinic
    _ward(run, mrn)
    run.enrol("him2", "him-director")
    before = stored(run)
    args = ("stats", "patients", "discharges", "--from", "2026-01-01", "--to", "2026-01-31",
            "--purpose", "operations")  # fmt: skip
    listed = json.loads(run(*args, "--json", actor="him2").output)
    assert [(row["mrn"], row["unit"], row["disposition"]) for row in listed] == [
        (mrn, "4W", "home")
    ]
    assert listed[0]["discharged"].startswith("2026-01-06T12:00")
    assert stored(run) == before + 1  # one RecordAccessed, naming the MRN, before the output
    queries = _trail(run, mrn)
    assert [row["actor"] for row in queries] == ["him2"]
    assert "encounters" in str(queries[0]["categories"])
    text = run(*args, actor="him2").output
    assert mrn in text and "Discharges from 2026-01-01 to 2026-01-31: 1" in text
    deaths = ("stats", "patients", "deaths", "--from", "2026-01-01", "--to", "2026-01-31")
    assert json.loads(run(*deaths, "--purpose", "operations", "--json", actor="him2").output) == []
    admissions = ("stats", "patients", "admissions", "--from", "2026-01-02", "--to", "2026-01-02")
    admitted = json.loads(run(*admissions, "--unit", "4w", "--purpose", "operations", "--json",
                              actor="him2").output)  # fmt: skip
    assert [row["mrn"] for row in admitted] == [mrn]


def test_the_census_as_of_a_moment_is_the_census_given_then(
    clinic: tuple[Chartledger, str],
) -> None:
    run, mrn = clinic
    run.enrol("him1", "him-director")
    run("unit", "open", "4W", "--name", "Four West", "--beds", "2", "--service", "medicine",
        "--from", "2025-12-01", actor="him1")  # fmt: skip
    out = run("encounter", "admit", mrn, "--attending", "dr1", "--service", "medicine", "--bed",
              "4W-1", "--at", "2026-01-02T10:00+00:00", actor="tech1").output  # fmt: skip
    encounter = out.split(" encounter ")[1].split()[0]
    args = ("stats", "census", "--from", "2026-01-01", "--to", "2026-01-31", "--json")
    given = run(*args).output
    time.sleep(0.01)
    moment = datetime.now(UTC).isoformat()
    run("encounter", "discharge", encounter, "--disposition", "home", "--at",
        "2026-01-20T12:00+00:00", actor="tech1")  # fmt: skip
    assert run(*args, "--as-of", moment).output == given
    now = json.loads(run(*args).output)
    assert json.loads(given)["service_days"] - now["service_days"] == 31 - 19


def test_refusals_are_one_sentence_and_write_nothing(clinic: tuple[Chartledger, str]) -> None:
    run, mrn = clinic
    _ward(run, mrn)
    before = stored(run)
    for args, words in [
        (("stats", "patients", "births", "--from", "2026-01-01", "--to", "2026-01-31",
          "--purpose", "operations"),
         "not a figure"),
        (("stats", "patients", "deaths", "--from", "2026-01-31", "--to", "2026-01-01",
          "--purpose", "operations"), "before"),
        (("stats", "patients", "deaths", "--from", "2026-01-01", "--to", "2026-01-31",
          "--as-of", "yesterday", "--purpose", "operations"), "not a moment"),
        (("stats", "patients", "deaths", "--from", "2026-01-01", "--to", "2026-01-31",
          "--unit", "9Z", "--purpose", "operations"), "no nursing unit 9Z"),
        (("stats", "patients", "deaths", "--from", "2026-01-01", "--to", "2026-01-31",
          "--unit", "x;DROP", "--purpose", "operations"), "letters and digits"),
        (("stats", "census", "--from", "2026-01-01", "--to", "2026-01-31", "--as-of", "soon"),
         "not a moment"),
        (("stats", "census", "--from", "9999-12-01", "--to", "9999-12-31"), "years 1000 to 9000"),
        (("stats", "census", "--from", "1000-01-01", "--to", "8999-12-31"), "longer than 50"),
        (("stats", "changes", "--from", "1000-01-01", "--to", "8999-12-31", "--since",
          "2026-01-01"), "longer than 50"),
        (("stats", "patients", "deaths", "--from", "1000-01-01", "--to", "8999-12-31",
          "--purpose", "operations"), "longer than 50"),
        (("stats", "los", "--from", "2026-01-01", "--to", "2026-01-31", "--as-of",
          "0001-01-01T00:00"), "years 1000 to 9000"),

    ]:  # fmt: skip
        result = run(*args, actor="tech1", ok=False)
        assert result.exit_code != 0
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and words in lines[0], result.output
        assert "Traceback" not in result.output
    assert stored(run) == before


def test_what_changed_between_two_moments_is_counted_by_kind(
    clinic: tuple[Chartledger, str],
) -> None:
    run, mrn = clinic
    run.enrol("him1", "him-director")
    run("unit", "open", "4W", "--name", "Four West", "--beds", "2", "--service", "medicine",
        "--from", "2025-12-01", actor="him1")  # fmt: skip
    out = run("encounter", "admit", mrn, "--attending", "dr1", "--service", "medicine", "--bed",
              "4W-1", "--at", "2026-01-02T10:00+00:00", actor="tech1").output  # fmt: skip
    encounter = out.split(" encounter ")[1].split()[0]
    time.sleep(0.01)
    moment = datetime.now(UTC).isoformat()
    run("encounter", "transfer", encounter, "--bed", "4W-2", "--at", "2026-01-05T09:00+00:00",
        actor="tech1")  # fmt: skip
    run("encounter", "discharge", encounter, "--disposition", "expired", "--at",
        "2026-01-09T12:00+00:00", actor="tech1")  # fmt: skip
    before = stored(run)
    args = ("stats", "changes", "--from", "2026-01-01", "--to", "2026-01-31", "--since", moment)
    found = json.loads(run(*args, "--json").output)
    assert found["changes"] == {"recorded": 0, "discharged": 1, "moved": 1, "signed": 0,
                                "recoded": 0, "reopened": 0}  # fmt: skip
    assert (found["then"]["discharges"], found["now"]["discharges"]) == (0, 1)
    assert (found["then"]["deaths"], found["now"]["deaths"]) == (0, 1)
    assert found["then"]["service_days"] - found["now"]["service_days"] == 31 - 8  # 2nd to 8th
    text = run(*args).output
    assert "1 discharge recorded; 1 stay with a transfer recorded." in text
    assert mrn not in text and encounter not in text and "dr1" not in text
    same = json.loads(run(*args, "--as-of", moment, "--json").output)
    assert same["then"] == same["now"] and not any(same["changes"].values())
    assert stored(run) == before  # counts only: no access recorded
    late = run(*args, "--as-of", "2020-01-01T00:00Z", ok=False)
    assert late.exit_code != 0 and "before the earlier one" in late.output
