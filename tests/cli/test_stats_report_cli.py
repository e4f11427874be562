"""`chartledger stats report|reports|verify-report|plot`, on every store (decisions §49).

A monthly report is written, issued as one signed event, listed and verified; the same ledger
and month give the same bytes; a later discharge changes a new report and not the old one; a
changed byte is a file never issued; refusals (a role, a month, a recipient, a path, a full
disk, a refused save) are one sentence with no event and no file left. The figures expected
are counted by hand from what the test does.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import signal
from pathlib import Path

import pytest

from ledger.aggregates.statistics_report import IssuedReport
from tests.cli.test_cli import Chartledger
from tests.rawdb import RawDB
from tests.unit.test_statistics_html import assert_self_contained, parsed

COMMITTEE = "Medical staff committee"


def stored(run: Chartledger) -> int:
    db = RawDB(run.store_url)
    return int(db._run(f"SELECT COUNT(*) FROM {db.events}", fetch=True)[0][0])


def topics(run: Chartledger) -> list[str]:
    db = RawDB(run.store_url)
    return [
        str(r[0]) for r in db._run(f"SELECT topic FROM {db.events} ORDER BY {db.nid}", fetch=True)
    ]


def admit(run: Chartledger, mrn: str, bed: str, at: str) -> str:
    out = run("encounter", "admit", mrn, "--attending", "dr1", "--service", "medicine", "--bed",
              bed, "--at", at, actor="tech1").output  # fmt: skip
    return out.split(" encounter ")[1].split()[0]


def ward(run: Chartledger, mrn: str) -> str:
    """4W (2 beds from 2025-12-01): admitted 2 Jan 10:00 to 4W-1, moved to 6N-1 (an unopened
    unit: off 4W, still in the hospital) on the 4th, back to 4W-2 on the 5th, home on the 6th.
    By hand, January: hospital census 1 on the 2nd, 3rd, 4th, 5th: 4 service days; 4W holds
    the patient at the censuses of the 2nd, 3rd and 5th: 3 days; bed count days 2 x 31 = 62."""
    run.enrol("him1", "him-director")
    run("unit", "open", "4W", "--name", "Four West", "--beds", "2", "--service", "medicine",
        "--from", "2025-12-01", actor="him1")  # fmt: skip
    encounter = admit(run, mrn, "4W-1", "2026-01-02T10:00+00:00")
    run("encounter", "transfer", encounter, "--bed", "6N-1", "--at", "2026-01-04T09:00+00:00",
        actor="tech1")  # fmt: skip
    run("encounter", "transfer", encounter, "--bed", "4W-2", "--at", "2026-01-05T09:00+00:00",
        actor="tech1")  # fmt: skip
    run("encounter", "discharge", encounter, "--disposition", "home", "--at",
        "2026-01-06T12:00+00:00", actor="tech1")  # fmt: skip
    return encounter


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Where the reports and plots go (the SQLite ledger is in `tmp_path` itself)."""
    made = tmp_path / "out"
    made.mkdir()
    return made


def test_a_report_is_issued_listed_verified_and_the_same_twice(
    clinic: tuple[Chartledger, str], folder: Path
) -> None:
    run, mrn = clinic
    encounter = ward(run, mrn)
    before = stored(run)
    out = folder / "january.html"
    said = run("stats", "report", "--month", "2026-01", "--to", COMMITTEE, "--out", str(out),
               actor="him1").output  # fmt: skip
    content = out.read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    assert f"SHA-256: {digest}" in said and f"issued to {COMMITTEE}" in said
    assert stored(run) == before + 1 and topics(run)[-1] == IssuedReport.Issued.TOPIC
    assert os.stat(out).st_mode & 0o777 == 0o600
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []
    assert_self_contained(content)
    text = " ".join(" ".join(parsed(content).text).split())
    assert "Monthly statistics report, January 2026" in text
    assert "The period 2026-01-01 to 2026-01-31, both included, as the ledger stood at" in text
    # by hand (see `ward`): 4 service days over 31 days; 62 bed count days
    assert "Inpatient service days 4 " in text
    assert "Average daily census 0.13 " in text  # 4 / 31 = 0.129
    assert "Bed count days 62 " in text
    assert "Percentage of occupancy 6.45 " in text  # 4 x 100 / 62 = 6.4516
    assert "Bed turnover rate 0.50 " in text  # 1 discharge / (62 / 31) beds
    # 4W: 62 bed days, 3 service days, ADC 3/31 = 0.10, 4.84 % (300 / 62), 1 admission,
    # 1 discharge, 1 transfer in (back on the 5th), 1 out (to 6N on the 4th)
    assert "4W 62 3 0.10 4.84 1 1 1 1" in text
    # one discharge, medicine, 4 days (2nd to 6th), home, not coded
    assert "medicine 1 4 4.00 0 0 0.00 0.00" in text and "All services 1 4 4.00" in text
    assert "(unadjusted): 0.00 % (0 of 1 index discharges readmitted within 30 days)" in text
    assert "None of the 1 discharges has a principal diagnosis in a final abstract." in text
    assert "No discharge of the month was grouped to an MS-DRG." in text
    assert "2026-01 1 4.00 0.00 0.00 0.00 — —" in text
    for secret in (mrn, "Okafor", encounter, "dr1"):
        assert secret not in content.decode()

    again = folder / "january-board.html"
    run("stats", "report", "--month", "2026-01", "--to", "The board", "--out", str(again),
        actor="him1")  # fmt: skip
    assert again.read_bytes() == content  # only an issue was recorded since: the same bytes

    listed = json.loads(run("stats", "reports", "--json", actor="tech1").output)
    assert [(r["recipient"], r["issued_by"], r["from"], r["to"], r["sha256"], r["size"])
            for r in listed] == [
        (COMMITTEE, "him1", "2026-01-01", "2026-01-31", digest, len(content)),
        ("The board", "him1", "2026-01-01", "2026-01-31", digest, len(content)),
    ]  # fmt: skip
    assert listed[0]["as_of"] == listed[1]["as_of"]
    table = run("stats", "reports", actor="tech1").output
    assert COMMITTEE in table and digest in table

    verdict = run("stats", "verify-report", str(out), actor="tech1").output.strip()
    assert re.fullmatch(
        rf"This is the monthly report for 2026-01 issued to {COMMITTEE} by him1 on "
        r"\d{4}-\d\d-\d\d \d\d:\d\d UTC, and to The board by him1 on \d{4}-\d\d-\d\d \d\d:\d\d "
        r"UTC; it matches the ledger\.",
        verdict,
    ), verdict

    # A late discharge of a January stay: a new report differs, the old one still verifies.
    late = admit(run, mrn, "4W-1", "2026-01-20T08:00+00:00")
    run("encounter", "discharge", late, "--disposition", "home", "--at",
        "2026-01-22T08:00+00:00", actor="tech1")  # fmt: skip
    newer = folder / "january-revised.html"
    run("stats", "report", "--month", "2026-01", "--to", COMMITTEE, "--out", str(newer),
        actor="him1")  # fmt: skip
    revised = " ".join(" ".join(parsed(newer.read_bytes()).text).split())
    assert "Inpatient service days 6 " in revised  # + the 20th and the 21st
    assert newer.read_bytes() != content
    assert "it matches the ledger" in run("stats", "verify-report", str(out)).output
    assert (
        "issued to Medical staff committee by him1"
        in run("stats", "verify-report", str(newer)).output
    )
    as_then = folder / "as-then.html"
    run("stats", "report", "--month", "2026-01", "--to", "The auditors", "--out", str(as_then),
        "--as-of", listed[0]["as_of"], actor="him1")  # fmt: skip
    assert as_then.read_bytes() == content  # the old report, given again as it was

    changed = folder / "changed.html"
    changed.write_bytes(content.replace(b"6.45", b"9.45"))
    result = run("stats", "verify-report", str(changed), ok=False)
    assert result.exit_code == 5
    assert result.output.startswith("Error: No report with these bytes was ever issued")


def test_refusals_are_one_sentence_with_no_event_and_no_file(
    clinic: tuple[Chartledger, str], folder: Path
) -> None:
    run, mrn = clinic
    ward(run, mrn)
    (folder / "taken.html").write_text("already here")
    before = stored(run)
    out = str(folder / "r.html")
    month = ("--month", "2026-01")
    cases = [
        ((*month, "--to", COMMITTEE, "--out", out), "tech1", 4,
         "Only the HIM director or an administrator may issue a statistical report."),
        (("--month", "2026-13", "--to", COMMITTEE, "--out", out), "him1", 2,
         "'2026-13' is not a month (give YYYY-MM)."),
        (("--month", "2025-06", "--to", COMMITTEE, "--out", out), "him1", 2,
         "No stay was in the hospital from 2025-06-01 to 2025-06-30, so there is no census."),
        ((*month, "--to", "  ", "--out", out), "him1", 2,
         "Say to whom the report is given (--to)."),
        ((*month, "--to", "Eve\nForged", "--out", out), "him1", 2,
         "The recipient contains a control character (one line of printable text only)."),
        ((*month, "--to", COMMITTEE, "--out", str(folder / "no" / "r.html")), "him1", 2,
         f"The folder of {folder / 'no' / 'r.html'} does not exist."),
        ((*month, "--to", COMMITTEE, "--out", str(folder / "taken.html")), "him1", 2,
         f"{folder / 'taken.html'} already exists; give a new file name or --force."),
        ((*month, "--to", COMMITTEE, "--out", str(folder)), "him1", 2,
         f"{folder} is a folder; give the path of a new file."),
        ((*month, "--to", COMMITTEE, "--out", out, "--as-of", "2999-01-01T00:00+00:00"),
         "him1", 2, "The 'as of' moment is in the future; the chart is not known yet."),
    ]  # fmt: skip
    for args, actor, code, sentence in cases:
        result = run("stats", "report", *args, actor=actor, ok=False)
        assert result.exit_code == code, (args, result.output)
        assert result.output.strip() == f"Error: {sentence}", args
    assert stored(run) == before
    assert sorted(p.name for p in folder.iterdir()) == ["taken.html"]
    missing = run("stats", "verify-report", str(folder / "nothing.html"), ok=False)
    assert missing.output.strip() == f"Error: There is no file {folder / 'nothing.html'}."


def test_a_refused_save_leaves_no_file(clinic: tuple[Chartledger, str], folder: Path) -> None:
    run, mrn = clinic
    ward(run, mrn)
    RawDB(run.store_url).refuse_inserts("chartledger/statistics-report/")
    before = stored(run)
    result = run("stats", "report", "--month", "2026-01", "--to", COMMITTEE, "--out",
                 str(folder / "r.html"), actor="him1", ok=False)  # fmt: skip
    assert "refused the write" in result.output and len(result.output.strip().splitlines()) == 1
    assert stored(run) == before
    assert sorted(p.name for p in folder.iterdir()) == []


def test_a_full_disk_is_one_sentence_with_no_event(
    clinic: tuple[Chartledger, str], folder: Path
) -> None:
    """The file size limit (RLIMIT_FSIZE) makes the report's write fail as a full disk does
    (EFBIG). SQLite's own file is bound by it too, so this runs on PostgreSQL only."""
    run, mrn = clinic
    if not run.store_url.startswith("postgresql"):
        pytest.skip("the limit would also stop SQLite's own writes: PostgreSQL only")
    ward(run, mrn)
    run("stats", "census", "--from", "2026-01-01", "--to", "2026-01-31")  # views caught up
    before = stored(run)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, hard))
    try:
        result = run("stats", "report", "--month", "2026-01", "--to", COMMITTEE, "--out",
                     str(folder / "r.html"), actor="him1", ok=False)  # fmt: skip
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)
    assert result.output.strip() == (
        f"Error: {folder / 'r.html'} could not be written (File too large)."
    )
    assert stored(run) == before
    assert sorted(p.name for p in folder.iterdir()) == []


def test_the_census_plot_as_svg_and_png(clinic: tuple[Chartledger, str], folder: Path) -> None:
    run, mrn = clinic
    ward(run, mrn)
    before = stored(run)
    svg, png = folder / "census.svg", folder / "census.PNG"
    for out in (svg, png):
        run("stats", "plot", "census", "--from", "2026-01-01", "--to", "2026-01-07", "--unit",
            "4w", "--out", str(out), actor="tech1")  # fmt: skip
    assert svg.read_bytes().lstrip().startswith(b"<?xml")
    assert b"Daily inpatient census and beds, unit 4W, 2026-01-01 to 2026-01-07" in (
        svg.read_bytes()
    )
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert stored(run) == before  # a plot is no issue and names no one: nothing recorded
    same = folder / "same.svg"
    run("stats", "plot", "census", "--from", "2026-01-01", "--to", "2026-01-07", "--unit", "4W",
        "--out", str(same))  # fmt: skip
    assert same.read_bytes() == svg.read_bytes()
    cases = [
        (("--from", "2026-01-01", "--to", "2026-01-07", "--out", str(folder / "c.pdf")),
         2, "Name the plot's file .svg or .png (c.pdf is neither)."),
        (("--from", "2026-01-07", "--to", "2026-01-01", "--out", str(folder / "c.svg")),
         2, "The period ends (2026-01-01) before it starts (2026-01-07)."),
        (("--from", "2026-01-01", "--to", "2026-01-07", "--unit", "9Z", "--out",
          str(folder / "c.svg")), 5, "There is no nursing unit 9Z."),
        (("--from", "2026-01-01", "--to", "2026-01-07", "--out", str(svg)), 2,
         f"{svg} already exists; give a new file name or --force."),
    ]  # fmt: skip
    for args, code, sentence in cases:
        result = run("stats", "plot", "census", *args, ok=False)
        assert result.exit_code == code, (args, result.output)
        assert result.output.strip() == f"Error: {sentence}", args
    assert sorted(p.name for p in folder.iterdir()) == [
        "census.PNG", "census.svg", "same.svg"
    ]  # fmt: skip


def test_the_trends_plot(clinic: tuple[Chartledger, str], folder: Path) -> None:
    from cli.statistics_report import plot_trends
    from projections.statistics_plots import TREND_FIGURES

    choices = next(p for p in plot_trends.params if p.name == "figure").type
    assert list(choices.choices) == list(TREND_FIGURES)  # type: ignore[attr-defined]
    run, mrn = clinic
    ward(run, mrn)
    before = stored(run)
    out = folder / "alos.svg"
    said = run("stats", "plot", "trends", "--from-month", "2025-12", "--to-month", "2026-01",
               "--figure", "alos", "--out", str(out), actor="tech1").output  # fmt: skip
    assert said.startswith(f"Wrote the alos trend to {out} (")
    svg = out.read_bytes()
    assert b"Average length of stay, 2025-12 to 2026-01" in svg
    assert b">2025-12</text>" in svg and b">2026-01</text>" in svg
    deaths = folder / "deaths.png"
    run("stats", "plot", "trends", "--from-month", "2026-01", "--to-month", "2026-01",
        "--figure", "deaths", "--out", str(deaths))  # fmt: skip
    assert deaths.read_bytes()[:4] == b"\x89PNG"
    assert stored(run) == before
    cases = [
        (("--from-month", "2026-1", "--to-month", "2026-01", "--figure", "cmi"), 2,
         "'2026-1' is not a month (give YYYY-MM)."),
        (("--from-month", "2026-02", "--to-month", "2026-01", "--figure", "cmi"), 2,
         "The months end (2026-01) before they start (2026-02)."),
        (("--from-month", "2025-01", "--to-month", "2025-03", "--figure", "oe"), 2,
         "No adults and children were discharged from 2025-01 to 2025-03, so there are no "
         "trends."),
    ]  # fmt: skip
    for args, code, sentence in cases:
        result = run("stats", "plot", "trends", *args, "--out", str(folder / "t.svg"), ok=False)
        assert result.exit_code == code, (args, result.output)
        assert result.output.strip() == f"Error: {sentence}", args
    assert sorted(p.name for p in folder.iterdir()) == ["alos.svg", "deaths.png"]


def test_an_issue_the_ledger_does_not_reproduce_is_said(
    clinic: tuple[Chartledger, str], folder: Path
) -> None:
    """Two issues recorded through the command itself: one of bytes rendered by another
    renderer, one whose bytes are not what the ledger gives as of its moment."""
    from datetime import date

    from ledger.commands.reports import issue_report
    from ledger.home import LedgerHome
    from ledger.reads.reports import last_recorded_at
    from projections.statistics_html import monthly_report, renderer

    run, mrn = clinic
    ward(run, mrn)
    him = run.identity("him1")
    with LedgerHome(run.home).open(run.store_url) as ledger:
        moment = last_recorded_at(ledger)
        _, content = monthly_report(ledger, "2026-01", as_of=moment)
        assert b"<h1>Monthly" in content and b"service days" in content
        period = {"period_start": date(2026, 1, 1), "period_end": date(2026, 1, 31)}
        old = content.replace(b"<h1>Monthly", b"<h1>The monthly")
        issue_report(ledger, folder / "old.html", old, kind="monthly", as_of=moment,
                     renderer="chartledger monthly report/0; matplotlib 3.0", recipient="The board",
                     actor=him, **period)  # fmt: skip
        other = content.replace(b"service days", b"service dayz")  # never rendered
        issue_report(ledger, folder / "other.html", other, kind="monthly", as_of=moment,
                     renderer=renderer(), recipient="The board", actor=him, **period)  # fmt: skip
    result = run("stats", "verify-report", str(folder / "old.html"), ok=False)
    assert result.exit_code == 1
    assert result.output.strip().endswith(
        "but it was rendered by chartledger monthly report/0; matplotlib 3.0 and this "
        f"installation renders with {renderer()}, so it cannot be rendered again to compare."
    )
    result = run("stats", "verify-report", str(folder / "other.html"), ok=False)
    assert result.exit_code == 1 and result.output.startswith(
        "Error: This is the monthly report for 2026-01 issued to The board by him1 on "
    )
    assert "now gives different figures: it does not match the ledger." in result.output
