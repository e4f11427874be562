"""`chartledger unit open|beds|close|list|show`, on every store (decisions §45)."""

from __future__ import annotations

import json

from tests.cli.test_cli import Chartledger
from tests.rawdb import RawDB


def stored(run: Chartledger) -> int:
    db = RawDB(run.store_url)
    return int(db._run(f"SELECT COUNT(*) FROM {db.events}", fetch=True)[0][0])


def test_open_change_close_list_and_show(clinic: tuple[Chartledger, str]) -> None:
    run, _ = clinic
    run.enrol("him1", "him-director")
    opened = run("unit", "open", "4w", "--name", "Four West", "--beds", "30", "--service",
                 "medicine", "--from", "2026-01-01", actor="him1").output  # fmt: skip
    assert (
        opened.strip() == "Opened unit 4W (Four West) with 30 beds and 0 bassinets from 2026-01-01."
    )
    changed = run("unit", "beds", "4W", "--beds", "24", "--from", "2026-02-01", "--reason",
                  "refit", actor="him1").output  # fmt: skip
    assert changed.strip() == "Unit 4W has 24 beds and 0 bassinets from 2026-02-01."
    same = run("unit", "beds", "4W", "--beds", "24", "--from", "2026-02-05", "--reason", "again",
               actor="him1").output  # fmt: skip
    assert same.strip() == "Unit 4W already has 24 beds and 0 bassinets; nothing was written."
    run("unit", "open", "NICU", "--name", "Nursery", "--beds", "0", "--bassinets", "8",
        "--from", "2026-01-01", actor="admin")  # fmt: skip
    closed = run("unit", "close", "nicu", "--from", "2026-03-01", "--reason", "moved",
                 actor="him1").output  # fmt: skip
    assert closed.strip() == "Unit NICU is closed from 2026-03-01."
    listed = run("unit", "list", "--on", "2026-01-15").output
    assert "30 beds, 8 bassinets" in listed and "Four West" in listed
    rows = json.loads(run("unit", "list", "--on", "2026-02-15", "--json", actor="tech1").output)
    assert [(r["code"], r["beds"], r["bassinets"], r["open"]) for r in rows] == [
        ("4W", 24, 0, True),
        ("NICU", 0, 8, True),
    ]
    shown = json.loads(run("unit", "show", "4w", "--json", actor="tech1").output)
    assert [(h["effective_from"], h["beds"], h["reason"]) for h in shown["history"]] == [
        ("2026-01-01", 30, None),
        ("2026-02-01", 24, "refit"),
    ]
    text = run("unit", "show", "NICU").output
    assert "closed from 2026-03-01 (moved)" in text and "Nursery" in text


def test_refusals_are_one_sentence_and_write_nothing(clinic: tuple[Chartledger, str]) -> None:
    run, _ = clinic
    run.enrol("him1", "him-director")
    run("unit", "open", "4W", "--name", "Four West", "--beds", "30", "--from", "2026-01-01",
        actor="him1")  # fmt: skip
    before = stored(run)
    cases = [
        (("unit", "beds", "5E", "--beds", "3", "--from", "2026-02-01", "--reason", "r"), "him1",
         5, "There is no nursing unit 5E."),
        (("unit", "show", "5e"), "him1", 5, "There is no nursing unit 5E."),
        (("unit", "close", "5E", "--from", "2026-02-01", "--reason", "r"), "him1", 5,
         "There is no nursing unit 5E."),
        (("unit", "beds", "4W", "--beds", "-1", "--from", "2026-02-01", "--reason", "r"), "him1",
         2, "The number of beds cannot be below zero."),
        (("unit", "open", "5E", "--name", "x", "--beds", "2", "--bassinets", "-4", "--from",
          "2026-02-01"), "him1", 2, "The number of bassinets cannot be below zero."),
        (("unit", "beds", "4W", "--beds", "3", "--from", "2025-12-31", "--reason", "r"), "him1",
         2, "Unit 4W has counts in force from 2026-01-01; a change cannot be dated before that."),
        (("unit", "close", "4W", "--from", "1 March", "--reason", "r"), "him1", 2,
         "'1 March' is not a first day closed (give YYYY-MM-DD)."),
        (("unit", "list", "--on", "soon"), "him1", 2, "'soon' is not a day (give YYYY-MM-DD)."),
        (("unit", "open", "5E", "--name", "x", "--beds", "2", "--from", "2026-02-01"), "tech1",
         4, "Only the HIM director or an administrator may manage nursing units."),
    ]  # fmt: skip
    for args, actor, code, sentence in cases:
        result = run(*args, actor=actor, ok=False)
        assert result.exit_code == code, (args, result.output)
        assert result.output.strip() == f"Error: {sentence}", args
        assert "Traceback" not in result.output
    assert stored(run) == before
    assert "No nursing unit" not in run("unit", "list").output


def test_an_empty_list_says_so(clinic: tuple[Chartledger, str]) -> None:
    run, _ = clinic
    assert run("unit", "list").output.strip() == "No nursing unit has been opened."
    assert json.loads(run("unit", "list", "--json").output) == []
