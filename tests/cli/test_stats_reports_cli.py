"""`chartledger stats los|deaths|readmissions|diagnoses|procedures|casemix|trends`, on every
store (decisions §47a): January 2026 built through the real commands (admissions, a transfer,
a death, a discharge against advice, three stays coded, grouped and signed final); each figure
below is counted by hand from those stays; table, --json and --csv agree; nothing names a
patient and nothing is written; as of a moment before a late discharge and signing, the old
figures; refusals are one sentence."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest

from tests.cli.test_cli import Chartledger
from tests.rawdb import RawDB

JANUARY = ("--from", "2026-01-01", "--to", "2026-01-31")

# CMS FY2026 Table 5 (the IPPS final rule's relative weights and geometric mean LOS), as the
# `drg` package the grouper weighs with carries it, written out for the DRGs these stays group
# to: 292 heart failure and shock with CC, 293 without CC/MCC, 399 appendix procedures without
# CC/MCC. `test_the_stays_group_as_written_out` keeps the table and the grouping honest.
TABLE_5: dict[str, tuple[Decimal, Decimal]] = {
    "292": (Decimal("0.849"), Decimal("2.9")),
    "293": (Decimal("0.566"), Decimal("2.1")),
    "399": (Decimal("1.1447"), Decimal("1.8")),
}


def stored(run: Chartledger) -> int:
    db = RawDB(run.store_url)
    return int(db._run(f"SELECT COUNT(*) FROM {db.events}", fetch=True)[0][0])


def _register(run: Chartledger, given: str, family: str, born: str) -> str:
    out = run("patient", "register", "--given", given, "--family", family, "--born", born,
              actor="tech1").output  # fmt: skip
    return out.split()[1]


def _admit(run: Chartledger, mrn: str, attending: str, service: str, bed: str, at: str) -> str:
    out = run("encounter", "admit", mrn, "--attending", attending, "--service", service,
              "--bed", bed, "--at", at, actor="tech1").output  # fmt: skip
    return out.split(" encounter ")[1].split()[0]


def _discharge(run: Chartledger, encounter: str, disposition: str, at: str) -> None:
    run("encounter", "discharge", encounter, "--disposition", disposition, "--at", at,
        actor="tech1")  # fmt: skip


def _final(run: Chartledger, encounter: str, dx: tuple[str, ...], px: tuple[str, ...] = (),
           on: str = "") -> str:  # fmt: skip
    """Code, group and sign final; the DRG `code final` printed."""
    for n, code in enumerate(dx):
        principal = ("--principal",) if n == 0 else ()
        run("code", "dx", encounter, code, "--poa", "Y", *principal, actor="coder1")
    for code in px:
        run("code", "px", encounter, code, "--on", on, "--surgeon", "dr2", actor="coder1")
    run("code", "group", encounter, actor="coder1")
    out = run("code", "final", encounter, actor="coder1").output
    return out.split("(DRG ")[1].split(")")[0]


@pytest.fixture
def january(clinic: tuple[Chartledger, str]) -> tuple[Chartledger, list[str], dict[str, str]]:
    """A1, A2: Ada, medicine (dr1), 3 and 2 days, heart failure, A2 15 days after A1.
    B1: Bram, surgery (dr2), in and out on the 3rd, appendicitis, laparoscopic appendectomy.
    C1: Cleo, surgery (dr2), moved to medicine, died 23 hours after admission; not coded.
    D1: Dev, medicine (dr1), left against medical advice after 2 days; not coded."""
    run, ada = clinic
    run.enrol("dr2", "physician")
    bram = _register(run, "Bram", "Lindqvist", "1979-11-23")
    cleo = _register(run, "Cleo", "Marchetti", "1944-07-30")
    dev = _register(run, "Dev", "Ranganathan", "1990-02-14")
    a1 = _admit(run, ada, "dr1", "medicine", "4W-1", "2026-01-02T10:00+00:00")
    _discharge(run, a1, "home", "2026-01-05T12:00+00:00")
    a2 = _admit(run, ada, "dr1", "medicine", "4W-2", "2026-01-20T08:00+00:00")
    _discharge(run, a2, "home", "2026-01-22T12:00+00:00")
    b1 = _admit(run, bram, "dr2", "surgery", "5E-1", "2026-01-03T09:00+00:00")
    _discharge(run, b1, "home", "2026-01-03T17:00+00:00")
    c1 = _admit(run, cleo, "dr2", "surgery", "5E-2", "2026-01-10T06:00+00:00")
    run("encounter", "transfer", c1, "--bed", "4W-3", "--service", "medicine", "--at",
        "2026-01-10T18:00+00:00", actor="tech1")  # fmt: skip
    _discharge(run, c1, "expired", "2026-01-11T05:00+00:00")
    d1 = _admit(run, dev, "dr1", "medicine", "4W-4", "2026-01-12T08:00+00:00")
    _discharge(run, d1, "against-medical-advice", "2026-01-14T12:00+00:00")
    drgs = {
        "A1": _final(run, a1, ("I50.21", "N17.9")),
        "A2": _final(run, a2, ("I50.21",)),
        "B1": _final(run, b1, ("K35.80",), ("0DTJ4ZZ",), on="2026-01-03"),
    }
    return run, [ada, bram, cleo, dev], drgs


def _no_one_named(run: Chartledger, mrns: list[str], *shown: str) -> None:
    for text in shown:
        for mrn in mrns:
            assert mrn not in text
        for name in ("Okafor", "Lindqvist", "Marchetti", "Ranganathan"):
            assert name not in text


def _three_ways(run: Chartledger, *args: str) -> tuple[dict, list[dict[str, str]], str]:
    data = json.loads(run(*args, "--json").output)
    rows = list(csv.DictReader(io.StringIO(run(*args, "--csv").output)))
    return data, rows, run(*args).output


def test_length_of_stay_deaths_and_readmissions(
    january: tuple[Chartledger, list[str], dict[str, str]],
) -> None:
    run, mrns, _ = january
    before = stored(run)
    data, rows, text = _three_ways(run, "stats", "los", *JANUARY, "--by", "service")
    # A1 3 + A2 2 + B1 1 (same day) + C1 1 + D1 2 = 9 days over 5 discharges; C1 died on
    # medicine, where it counts.
    assert data["total"] == {"discharges": 5, "discharge_days": 9, "average_length_of_stay": "1.80"}
    assert data["groups"] == [
        {"group": "medicine", "discharges": 4, "discharge_days": 8,
         "average_length_of_stay": "2.00"},
        {"group": "surgery", "discharges": 1, "discharge_days": 1,
         "average_length_of_stay": "1.00"},
    ]  # fmt: skip
    assert [(r["row"], r["group"], r["discharges"], r["average_length_of_stay"]) for r in rows] == [
        ("group", "medicine", "4", "2.00"), ("group", "surgery", "1", "1.00"),
        ("total", "", "5", "1.80"),
    ]  # fmt: skip
    assert "Length of stay by service, adults and children, 2026-01-01 to 2026-01-31" in text
    assert "medicine" in text and "1.80" in text
    by_physician = json.loads(run("stats", "los", *JANUARY, "--by", "physician", "--json").output)
    assert [(g["group"], g["discharges"], g["discharge_days"]) for g in by_physician["groups"]] == [
        ("dr1", 3, 7), ("dr2", 2, 2),  # the stay's attending: C1 stayed dr2's
    ]  # fmt: skip
    by_unit = json.loads(run("stats", "los", *JANUARY, "--by", "unit", "--json").output)
    assert [(g["group"], g["discharges"]) for g in by_unit["groups"]] == [("4W", 4), ("5E", 1)]

    deaths, death_rows, death_text = _three_ways(
        run, "stats", "deaths", *JANUARY, "--by", "service"
    )
    # One death (C1, 23 hours: under 48): gross 1 x 100 / 5 = 20 %, net 0 / (5 - 1) = 0 %.
    assert deaths["total"] == {
        "discharges": 5, "deaths": 1, "deaths_under_48_hours": 1,
        "gross_death_rate_percent": "20.00", "net_death_rate_percent": "0.00",
    }  # fmt: skip
    assert deaths["groups"][0]["group"] == "medicine"
    assert deaths["groups"][0]["gross_death_rate_percent"] == "25.00"  # 1 of 4
    assert death_rows[-1]["gross_death_rate_percent"] == "20.00" and "20.00" in death_text

    back, back_rows, back_text = _three_ways(
        run, "stats", "readmissions", *JANUARY, "--by", "diagnosis"
    )
    # Index: A1, A2, B1 (C1 died, D1 left against advice); A1 came back as A2: 1 of 3.
    total = back["total"]
    assert (total["index_discharges"], total["readmitted"]) == (1 + 2, 1)
    assert total["readmission_rate_percent"] == "33.33"
    assert total["measure"] == "crude 30-day readmission rate (unadjusted)"
    assert [(e["exclusion"], e["discharges"]) for e in total["excluded"]] == [
        ("expired", 1), ("short-term-hospital", 0), ("against-medical-advice", 1),
    ]  # fmt: skip
    assert [(g["group"], g["index_discharges"], g["readmitted"]) for g in back["groups"]] == [
        ("I5021", 2, 1), ("K3580", 1, 0), ("not coded", 0, 0),
    ]  # fmt: skip
    assert all(r["measure"] == total["measure"] for r in back_rows)  # unadjusted, every row
    assert [r["excluded_expired"] for r in back_rows] == ["0", "0", "1", "1"]
    assert "Crude 30-day readmission rate (unadjusted) by diagnosis" in back_text
    assert "1 of 3 index discharges readmitted, 33.33 %." in back_text
    assert (
        "Exclusions applied (index discharges left out): discharged by death (NUBC 20, 40, 41, "
        "42): 1; transferred to another acute care hospital (NUBC 02): 0; left against medical "
        "advice (NUBC 07): 1." in back_text
    )
    narrow = json.loads(run("stats", "readmissions", *JANUARY, "--window", "14", "--json").output)
    assert narrow["total"]["readmitted"] == 0  # A2 came 15 days after A1's discharge date
    assert narrow["total"]["measure"] == "crude 14-day readmission rate (unadjusted)"
    by_mdc = json.loads(run("stats", "readmissions", *JANUARY, "--by", "mdc", "--json").output)
    assert [g["group"] for g in by_mdc["groups"]] == ["05", "06", "not coded"]

    _no_one_named(run, mrns, text, death_text, back_text, json.dumps([data, deaths, back]))
    assert stored(run) == before  # aggregate figures: no access recorded, nothing written


def test_the_stays_group_as_written_out(
    january: tuple[Chartledger, list[str], dict[str, str]],
) -> None:
    from ledger.coding.grouper import weights

    _, _, drgs = january
    assert drgs == {"A1": "292", "A2": "293", "B1": "399"}
    for drg, (weight, gmlos) in TABLE_5.items():
        row = weights(int(drg))
        assert row is not None and (row.relative_weight, row.gmlos) == (weight, gmlos), drg


def test_case_mix_diagnoses_and_procedures(
    january: tuple[Chartledger, list[str], dict[str, str]],
) -> None:
    run, mrns, _ = january
    before = stored(run)
    mix, mix_rows, mix_text = _three_ways(run, "stats", "casemix", *JANUARY, "--by", "drg")
    # Weights 0.849 + 0.566 + 1.1447 = 2.5597 over 3 grouped: 0.8532…; C1 and D1 not grouped.
    # O/E: A1 3 + A2 2 + B1 1 = 6 days over GMLOS 2.9 + 2.1 + 1.8 = 6.8: 0.882…
    assert mix["total"] == {
        "discharges": 5, "grouped": 3, "ungrouped": 2, "weight_total": "2.5597",
        "case_mix_index": "0.85", "observed_days": 6, "expected_days": "6.8",
        "observed_average_los": "2.00", "expected_average_los": "2.27",
        "observed_expected_ratio": "0.88",
    }  # fmt: skip
    assert [g["group"] for g in mix["groups"]] == ["292", "293", "399", "not coded"]
    assert mix["groups"][2]["observed_expected_ratio"] == "0.56"  # 1 / 1.8 = 0.5555…
    assert mix["groups"][-1]["case_mix_index"] is None and mix["groups"][-1]["ungrouped"] == 2
    assert mix_rows[-1]["case_mix_index"] == mix["total"]["case_mix_index"]
    assert f"Case mix index: {mix['total']['case_mix_index']} over 3 discharges" in mix_text

    dx, dx_rows, dx_text = _three_ways(run, "stats", "diagnoses", *JANUARY)
    assert (dx["discharges"], dx["not_coded"], dx["counted"]) == (5, 2, 3)
    assert [(r["code"], r["count"], r["percent"]) for r in dx["rows"]] == [
        ("I5021", 2, "66.67"), ("K3580", 1, "33.33"),
    ]  # fmt: skip
    assert dx["rows"][0]["title"] == "Acute systolic (congestive) heart failure"
    assert [r["code"] for r in dx_rows] == ["I5021", "K3580"]
    assert "I50.21" in dx_text and "2 had no final coding abstract" in dx_text
    category = json.loads(run("stats", "diagnoses", *JANUARY, "--by", "category", "--json").output)
    assert [(r["code"], r["title"]) for r in category["rows"]] == [
        ("I50", "Heart failure"), ("K35", "Acute appendicitis"),
    ]  # fmt: skip

    px = json.loads(run("stats", "procedures", *JANUARY, "--json").output)
    assert (px["counted"], px["without_code"], px["not_coded"]) == (1, 2, 2)
    assert px["rows"] == [
        {"code": "0DTJ4ZZ", "title": "Resection of Appendix, Percutaneous Endoscopic Approach",
         "count": 1, "percent": "100.00"},
    ]  # fmt: skip
    px_category = json.loads(
        run("stats", "procedures", *JANUARY, "--by", "category", "--all", "--json").output
    )
    assert px_category["rows"][0]["code"] == "0DT"
    assert (
        px_category["rows"][0]["title"]
        == "Gastrointestinal System, Resection"  # the order file's table header
    )
    _no_one_named(run, mrns, mix_text, dx_text, json.dumps([mix, dx, px]))
    assert stored(run) == before


def test_monthly_trends(january: tuple[Chartledger, list[str], dict[str, str]]) -> None:
    run, mrns, _ = january
    args = ("stats", "trends", "--from-month", "2025-12", "--to-month", "2026-02")
    data, rows, text = _three_ways(run, *args)
    december, jan, february = data["months"]
    assert december["month"] == "2025-12" and december["discharges"] == 0
    assert december["average_length_of_stay"] is None and december["case_mix_index"] is None
    assert (jan["discharges"], jan["average_length_of_stay"]) == (5, "1.80")
    assert (jan["gross_death_rate_percent"], jan["net_death_rate_percent"]) == ("20.00", "0.00")
    assert jan["readmission_rate_percent"] == "33.33"
    mix = json.loads(run("stats", "casemix", *JANUARY, "--json").output)["total"]
    assert jan["case_mix_index"] == mix["case_mix_index"]
    assert jan["observed_expected_los"] == mix["observed_expected_ratio"]
    assert february["discharges"] == 0
    assert [r["month"] for r in rows] == ["2025-12", "2026-01", "2026-02"]
    assert rows[0]["average_length_of_stay"] == ""
    assert "Monthly trends, adults and children, 2025-12 to 2026-02" in text
    assert "crude 30-day readmission rate (unadjusted)" in text
    _no_one_named(run, mrns, text)


def test_as_of_a_moment_before_a_late_discharge(clinic: tuple[Chartledger, str]) -> None:
    """A stay discharged in January but recorded later: the report as of before then does not
    count it, the new one does."""
    from datetime import UTC, datetime

    run, ada = clinic
    a1 = _admit(run, ada, "dr1", "medicine", "4W-1", "2026-01-02T10:00+00:00")
    _discharge(run, a1, "home", "2026-01-05T12:00+00:00")
    moment = datetime.now(UTC).isoformat()
    a2 = _admit(run, ada, "dr1", "medicine", "4W-2", "2026-01-20T08:00+00:00")
    _discharge(run, a2, "home", "2026-01-22T12:00+00:00")
    old = json.loads(run("stats", "los", *JANUARY, "--as-of", moment, "--json").output)
    new = json.loads(run("stats", "los", *JANUARY, "--json").output)
    assert (old["total"]["discharges"], old["total"]["discharge_days"]) == (1, 3)
    assert (new["total"]["discharges"], new["total"]["discharge_days"]) == (2, 5)
    assert datetime.fromisoformat(old["as_of"]) == datetime.fromisoformat(moment)
    assert old["as_of"].endswith("+00:00") and new["as_of"] is None
    back = json.loads(run("stats", "readmissions", *JANUARY, "--as-of", moment, "--json").output)
    assert back["total"]["readmitted"] == 0  # A2 was not yet recorded
    _final(run, a1, ("I50.21",))  # A1 coded and signed final after the moment too
    old_dx = json.loads(run("stats", "diagnoses", *JANUARY, "--as-of", moment, "--json").output)
    new_dx = json.loads(run("stats", "diagnoses", *JANUARY, "--json").output)
    assert (old_dx["not_coded"], old_dx["counted"], old_dx["rows"]) == (1, 0, [])
    assert (new_dx["not_coded"], new_dx["counted"]) == (1, 1)  # A2 is not coded
    assert [(r["code"], r["count"]) for r in new_dx["rows"]] == [("I5021", 1)]
    refused = run("stats", "casemix", *JANUARY, "--as-of", moment, ok=False)
    assert refused.output.strip() == (
        "Error: No stay discharged from 2026-01-01 to 2026-01-31 was grouped to a DRG."
    )
    assert "(as of " in run("stats", "los", *JANUARY, "--as-of", moment).output


def test_refusals_are_one_sentence(january: tuple[Chartledger, list[str], dict[str, str]]) -> None:
    run, _, _ = january
    before = stored(run)
    cases = [
        (("los", "--from", "2026-01-31", "--to", "2026-01-01"),
         "The period ends (2026-01-01) before it starts (2026-01-31)."),
        (("deaths", "--from", "2025-06-01", "--to", "2025-06-30"),
         "No adults and children were discharged from 2025-06-01 to 2025-06-30, so there is no "
         "death rate."),
        (("los", *JANUARY, "--by", "ward"),
         "'ward' is not a grouping of the length of stay (give none, service, physician or "
         "unit)."),
        (("deaths", *JANUARY, "--by", "unit"),
         "'unit' is not a grouping of the death rates (give none, service or physician)."),
        (("readmissions", *JANUARY, "--by", "zip"),
         "'zip' is not a grouping of the readmission rate (give none, diagnosis, category, "
         "mdc, drg or service)."),
        (("readmissions", *JANUARY, "--window", "0"),
         "The readmission window must be 1 to 365 days, not 0."),
        (("diagnoses", *JANUARY, "--top", "0"), "--top must be 1 or more, not 0."),
        (("casemix", "--from", "2026-01-31", "--to", "2026-01-31"),
         "No adults and children were discharged from 2026-01-31 to 2026-01-31, so there is no "
         "case mix index."),
        (("los", *JANUARY, "--json", "--csv"), "Give --json or --csv, not both."),
        (("los", "--from", "January", "--to", "2026-01-31"),
         "'January' is not a first day (give YYYY-MM-DD)."),
        (("trends", "--from-month", "2026-13", "--to-month", "2026-02"),
         "'2026-13' is not a first month (give YYYY-MM)."),
        (("trends", "--from-month", "2026-02", "--to-month", "Feb"),
         "'Feb' is not a last month (give YYYY-MM)."),
        (("trends", "--from-month", "2026-03", "--to-month", "2026-02"),
         "The months end (2026-02) before they start (2026-03)."),
        (("trends", "--from-month", "2025-01", "--to-month", "2025-03"),
         "No adults and children were discharged from 2025-01 to 2025-03, so there are no "
         "trends."),
        (("los", *JANUARY, "--as-of", "yesterday"),
         "'yesterday' is not a moment (give YYYY-MM-DDTHH:MM, optionally with an offset)."),
    ]  # fmt: skip
    for args, sentence in cases:
        result = run("stats", *args, ok=False)
        assert result.exit_code == 2, (args, result.output)
        assert result.output.strip() == f"Error: {sentence}", args
    assert stored(run) == before
