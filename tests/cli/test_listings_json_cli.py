"""`--json` on every listing (issue 17, item 5), on every store.

Every leaf command of the CLI is classified here: a listing (it prints rows or one record) must
take `--json`; any other says why it is not one. A new command fails
`test_every_command_is_classified` until it is put in one of the two; a command that prints a
table or JSON (`table(`, `_table(`, `emit_json(`, `note_withheld(` in its source) but is not
classified a listing fails `test_what_prints_rows_is_classified_a_listing`. The five listings
that lacked it are run both ways on one ledger: the JSON holds the table's rows (identifiers,
ISO 8601 UTC times), the withheld rows stay out, and the access events each form records are
the same.
"""

from __future__ import annotations

import inspect
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import pytest

from cli.main import cli
from ledger.aggregates.access import Access
from ledger.aggregates.patient import patient_id
from ledger.home import LedgerHome
from tests.cli.test_cli import Chartledger
from tests.cli.test_nothing_unrecorded_cli import leaf_commands
from tests.cli.tree import command_at
from tests.rawdb import RawDB

LISTINGS = {
    "audit alerts",
    "audit between",
    "audit patient",
    "audit user",
    "chart history",
    "chart show",
    "checkpoint",
    "code group",
    "code group-all",
    "code regroup",
    "code show",
    "code suggest",
    "code productivity",
    "code what-if",
    "code worklist",
    "deficiency delinquent",
    "deficiency jeopardy",
    "deficiency list",
    "discrepancy list",
    "index disease",
    "index operation",
    "index physician",
    "location missing",
    "location overdue",
    "location pending",
    "location where",
    "log status",
    "patient duplicates",
    "patient find",
    "patient register",
    "patient show",
    "policy history",
    "policy show",
    "prove",
    "query list",
    "query show",
    "roi accounting",
    "roi list",
    "stats casemix",
    "stats census",
    "stats changes",
    "stats patients",
    "stats deaths",
    "stats diagnoses",
    "stats los",
    "stats procedures",
    "stats readmissions",
    "stats trends",
    "unit list",
    "unit show",
    "user list",
    "user roles",
    "verify",
}
"""Commands that list rows or show a record (or a report: checkpoint, proof, verification)."""

WRITE = "a write: prints what it recorded, one line"
NOT_LISTINGS = {
    "audit review": WRITE,
    "chart add": WRITE,
    "chart amend": WRITE,
    "chart deny-amendment": WRITE,
    "chart document": "writes a document's bytes to a file",
    "chart file": WRITE,
    "chart refile": WRITE,
    "chart retract": WRITE,
    "chart sign": WRITE,
    "code dx": WRITE,
    "code dx-change": WRITE,
    "code dx-remove": WRITE,
    "code final": WRITE,
    "code px": WRITE,
    "code px-change": WRITE,
    "code px-remove": WRITE,
    "code reopen": WRITE,
    "code status": WRITE,
    "deficiency notify": "a write: prints counts",
    "deficiency resolve": WRITE,
    "deficiency scan": "a write: prints counts",
    "demo": "a walk-through that builds its own ledger and prints its story",
    "discrepancy open": WRITE,
    "discrepancy resolve": WRITE,
    "encounter admit": WRITE,
    "encounter discharge": WRITE,
    "encounter register": WRITE,
    "encounter transfer": WRITE,
    "export": "writes a folder; prints where and its tree size",
    "import fhir": "a write: prints a summary of counts and the MRNs it made",
    "init": "creates a ledger; prints the genesis fingerprint",
    "legal package": "writes a folder; prints what it holds",
    "location add": WRITE,
    "location checkin": WRITE,
    "location checkout": WRITE,
    "location found": WRITE,
    "location loose": WRITE,
    "location lost": WRITE,
    "location request": WRITE,
    "location route": WRITE,
    "location transfer": WRITE,
    "log follow": "a worker process: runs until interrupted",
    "patient correct": WRITE,
    "patient merge": WRITE,
    "patient unmerge": WRITE,
    "policy load": WRITE,
    "query answer": WRITE,
    "query escalate": "a write: prints the queries it escalated, one line each",
    "query raise": WRITE,
    "query send": WRITE,
    "query withdraw": WRITE,
    "roi approve": WRITE,
    "roi deny": WRITE,
    "roi extend": WRITE,
    "roi release": "writes a release package to a folder",
    "roi request": WRITE,
    "roi suspend": WRITE,
    "roi validate": WRITE,
    "unit beds": WRITE,
    "unit close": WRITE,
    "unit open": WRITE,
    "upgrade": "a write: says which schema version the store is at",
    "user enroll": WRITE,
    "user invite": "a write: prints a one-time code",
    "user reinstate": "a write: prints a one-time code",
    "user revoke": WRITE,
    "user rotate-key": WRITE,
}
PRINTS_ROWS = ("table(", "emit_json(", "note_withheld(")


def _command(name: str) -> click.Command:
    return command_at(name.split())


def test_every_command_is_classified() -> None:
    leaves = set(leaf_commands(cli))
    assert not LISTINGS & set(NOT_LISTINGS)
    unclassified = sorted(leaves - LISTINGS - set(NOT_LISTINGS))
    assert not unclassified, (
        f"put these in LISTINGS (and give them --json) or NOT_LISTINGS: {unclassified}"
    )
    assert LISTINGS | set(NOT_LISTINGS) == leaves, "a classified command is no longer in the CLI"
    assert all(reason.strip() for reason in NOT_LISTINGS.values())


def test_every_listing_takes_json() -> None:
    without = sorted(
        name
        for name in LISTINGS
        if not any("--json" in getattr(p, "opts", ()) for p in _command(name).params)
    )
    assert not without, f"these listings have no --json: {without}"


def test_what_prints_rows_is_classified_a_listing() -> None:
    for name in NOT_LISTINGS:
        callback = _command(name).callback
        assert callback is not None
        source = inspect.getsource(callback)
        assert not any(word in source for word in PRINTS_ROWS), f"{name} prints rows"


# -- the five listings that lacked --json, both ways -------------------------------------------


def _at(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def _utc(value: str | None) -> datetime | None:
    """A JSON time: ISO 8601 in UTC, or null."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    assert moment.utcoffset() == timedelta(0), value
    return moment


def _accesses(
    run: Chartledger, since: int, until: int | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """The access events among the stored rows `since` to `until`: topic and facts."""
    rows = RawDB(run.store_url).rows()[since:until]
    with LedgerHome(run.home).open(run.store_url) as ledger:
        return [
            (topic, ledger.repository.get(originator).facts)
            for _, originator, _, topic, _ in rows
            if topic in (Access.RecordAccessed.TOPIC, Access.AccessDenied.TOPIC)
        ]


def _both_ways(run: Chartledger, *args: str, actor: str) -> tuple[str, Any, str]:
    """Run a listing as a table, then with --json: the table, the JSON, its stderr. Each form
    records the same access events (one run's new rows against the other's)."""
    start = len(RawDB(run.store_url).rows())
    shown = run(*args, actor=actor).output
    middle = len(RawDB(run.store_url).rows())
    as_json = run(*args, "--json", actor=actor)
    recorded = _accesses(run, start, middle)
    assert recorded, args  # a listing records its access
    assert recorded == _accesses(run, middle), args
    return shown, json.loads(as_json.stdout), as_json.stderr


@pytest.fixture
def shelves(clinic: tuple[Chartledger, str], tmp_path: Path) -> tuple[Chartledger, str, str]:
    """Ada's volumes: one requested, one checked out (due tomorrow), one lost, and a
    discrepancy; Bram restricted, with a lost volume and a discrepancy of his own."""
    run, ada = clinic
    run.enrol("privacy1", "compliance-officer")
    bram = run(
        "patient", "register", "--given", "Bram", "--family", "Lindqvist", "--born",
        "1979-11-23", actor="tech1",
    ).output.split()[1]  # fmt: skip
    for barcode, mrn in (("V-1", ada), ("V-2", ada), ("V-3", ada), ("V-9", bram)):
        run("location", "add", mrn, "--barcode", barcode, actor="tech1")
    run(
        "location", "request", "V-1", "--requestor", "dr1", "--needed-by", _at(hours=4),
        "--purpose", "clinic visit", actor="dr1",
    )  # fmt: skip
    run(
        "location", "checkout", "V-2", "--to", "Cardiology clinic", "--kind", "clinic",
        "--due", _at(days=1), actor="tech1",
    )  # fmt: skip
    for barcode in ("V-3", "V-9"):
        run("location", "lost", barcode, "--note", "last seen on ward 4", actor="tech1")
    for mrn in (ada, bram):
        run(
            "discrepancy", "open", mrn, "--kind", "other", "--description", "they disagree",
            "--fact", f"{patient_id(mrn)}/1", actor="coder1",
        )  # fmt: skip
    policy = tmp_path / "policy.toml"
    policy.write_text(f'version = "j1"\n[patients]\nrestricted = ["{bram}"]\n')
    run("policy", "load", str(policy), actor="privacy1")
    return run, ada, bram


def test_the_location_lists_in_json_hold_the_tables_rows(
    shelves: tuple[Chartledger, str, str],
) -> None:
    run, ada, bram = shelves
    table, rows, _ = _both_ways(run, "location", "pending", actor="tech1")
    assert "Pull list: 1" in table
    assert [(r["barcode"], r["mrn"], r["requested_by"]) for r in rows] == [("V-1", ada, "dr1")]
    assert _utc(rows[0]["needed_by"]) is not None and _utc(rows[0]["since"]) is not None

    later = _at(days=3)
    table, rows, _ = _both_ways(run, "location", "overdue", "--on", later, actor="tech1")
    assert "Overdue chart volumes: 1" in table
    (row,) = rows
    assert (row["barcode"], row["mrn"], row["status"], row["holder"]) == (
        "V-2", ada, "out", "Cardiology clinic",
    )  # fmt: skip
    due = _utc(row["due"])
    assert due is not None and due < datetime.fromisoformat(later)
    _, rows, _ = _both_ways(run, "location", "overdue", actor="tech1")
    assert rows == []

    # Bram's lost volume is withheld from the technician: left out, and said so on stderr.
    table, rows, stderr = _both_ways(run, "location", "missing", actor="tech1")
    assert "Missing chart volumes: 1" in table and "V-9" not in table
    assert [(r["barcode"], r["mrn"], r["status"]) for r in rows] == [("V-3", ada, "lost")]
    assert "1 volume" in stderr and bram not in json.dumps(rows)
    assert set(rows[0]) == {
        "barcode", "mrn", "volume", "record_type", "home", "status", "holder", "holder_kind",
        "since", "due", "requested_by", "needed_by",
    }  # fmt: skip

    table, rows, _ = _both_ways(run, "location", "where", ada, actor="tech1")
    assert [r["barcode"] for r in rows] == ["V-1", "V-2", "V-3"]
    assert all(f"{r['barcode']} ({ada}, volume 1)" in table for r in rows)
    moves = {r["barcode"]: [m["what"] for m in r["movements"]] for r in rows}
    assert moves["V-2"][-1].startswith("checked out") and moves["V-3"][-1] == "reported lost"
    for r in rows:
        for m in r["movements"]:
            assert _utc(m["at"]) is not None and m["by"] in ("tech1", "dr1")
            assert m["at"][:16] in table


def test_the_discrepancy_list_in_json_holds_the_tables_rows(
    shelves: tuple[Chartledger, str, str],
) -> None:
    run, ada, bram = shelves
    table, rows, stderr = _both_ways(run, "discrepancy", "list", actor="tech1")
    assert "Discrepancies: 1" in table
    (row,) = rows
    assert (row["mrn"], row["kind"], row["status"], row["opened_by"]) == (
        ada, "other", "open", "coder1",
    )  # fmt: skip
    assert row["id"] in table and row["resolved_at"] is None
    assert _utc(row["opened_at"]) is not None and row["opened_at"][:16] in table
    assert "1 discrepancy" in stderr and bram not in json.dumps(rows)


def test_the_policy_and_the_roles_in_json(shelves: tuple[Chartledger, str, str]) -> None:
    from policies.roles import ROLES

    run, _, bram = shelves
    table, shown, _ = _both_ways(run, "policy", "show", actor="privacy1")
    assert (
        shown["version"] == "access/2+j1"
        and shown["loaded_by"] == "privacy1"
        and not shown["defaults"]
    )
    assert bram in shown["text"] and shown["sha256"][:16] in table and shown["event"] in table
    (loaded,) = json.loads(run("policy", "history", "--json", actor="privacy1").stdout)
    assert (loaded["version"], loaded["sha256"], loaded["event"]) == (
        "j1", shown["sha256"], shown["event"],
    )  # fmt: skip
    assert _utc(loaded["loaded_at"]) == _utc(shown["loaded_at"])
    assert json.loads(run("user", "roles", "--json", actor="tech1").stdout) == sorted(ROLES)
