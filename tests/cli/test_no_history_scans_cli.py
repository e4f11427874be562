"""No command's queries scan the event table (issue 14, item 2), shown by PostgreSQL's EXPLAIN.

The walk ledger of `test_nothing_unrecorded_cli` is prepared on PostgreSQL; then every command
that shows something (each identifying read of its table, and the listings and reports below
that name no patient) runs in this process while every statement psycopg sends is noted. Each
SELECT that reads the event table is then explained by the server with the same parameters and
with sequential scans priced out (`enable_seqscan = off`): a plan that still reads the event
table by a Seq Scan has no index to use, and an index walked from end to end (no Index Cond) is
a scan by another name. Either fails the test, naming the command and the statement.

Left out on purpose, as they read the whole log by their nature: `verify` and `export` (every
event, in batches by position), `upgrade` (rebuilds what is stale).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_cli import Chartledger
from tests.cli.test_nothing_unrecorded_cli import COMMANDS, Shows, _fill, prepared
from tests.conftest import PG_URL
from tests.rawdb import RawDB

READS_WITHOUT_A_PATIENT: tuple[tuple[tuple[str, ...], str], ...] = (
    (("user", "list"), "privacy1"),
    (("log", "status"), "privacy1"),
    (("stats", "census", "--from", "{today}", "--to", "{today}"), "him1"),
    (("location", "overdue"), "tech1"),
    (("code", "productivity", "--from", "{today}", "--to", "{today}"), "him1"),
    (("stats", "los", "--from", "{today}", "--to", "{today}"), "him1"),
    (("stats", "reports"), "him1"),
    (("code", "worklist", "--purpose", "operations"), "coder1"),
    (("unit", "list"), "him1"),
)
"""Listings and reports that name no patient, run as well (their reads are commands too)."""

WHOLE_LOG = ("verify", "export", "upgrade")


class Statements:
    """Every statement psycopg executes, with its parameters, while `noting` is on."""

    def __init__(self) -> None:
        self.noted: list[tuple[str, Any]] = []
        self.noting = False


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Statements:
    import psycopg

    seen = Statements()
    execute = psycopg.Cursor.execute

    def noting_execute(self: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
        if seen.noting:
            text = query if isinstance(query, str) else query.as_string(self.connection)
            seen.noted.append((text, params))
        return execute(self, query, params, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", noting_execute)
    return seen


def _event_table_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if plan.get("Relation Name") == "chartledger_events":
        yield plan
    for child in plan.get("Plans", ()):
        yield from _event_table_nodes(child)


def _scans(text: str, params: Any, schema: str) -> list[str]:
    """The plan nodes that read the event table end to end, by the server's own EXPLAIN."""
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute("SET enable_seqscan = off")
        conn.execute(f'SET search_path TO "{schema}"')
        row = conn.execute(f"EXPLAIN (FORMAT JSON) {text}", params).fetchone()
    assert row is not None
    plan = row[0][0]["Plan"]
    found = []
    for node in _event_table_nodes(plan):
        kind = node["Node Type"]
        if kind == "Seq Scan" or ("Index" in kind and "Index Cond" not in node):
            found.append(f"{kind} {json.dumps({k: node.get(k) for k in ('Index Name', 'Filter')})}")
    return found


@pytest.mark.parametrize(
    "store_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_no_command_reads_the_event_table_by_a_scan(
    store_url: str, tmp_path: Path, statements: Statements
) -> None:
    pg_url = store_url
    run = Chartledger(tmp_path / "home", pg_url)
    places = prepared(run, tmp_path)["a"]
    schema = RawDB(pg_url).store.schema
    commands: list[tuple[tuple[str, ...], str, bool]] = [
        (row.args, row.actor, row.succeeds)
        for name, row in COMMANDS.items()
        if isinstance(row, Shows) and name.split()[0] not in WHOLE_LOG
    ]
    commands += [(args, actor, True) for args, actor in READS_WITHOUT_A_PATIENT]
    checked = 0
    failures: list[str] = []
    for args, actor, succeeds in commands:
        statements.noted.clear()
        statements.noting = True
        try:
            run(*_fill(args, places), actor=actor, ok=succeeds)
        finally:
            statements.noting = False
        for text, params in statements.noted:
            head = text.lstrip().upper()
            if "CHARTLEDGER_EVENTS" not in head or not head.startswith(("SELECT", "WITH")):
                continue
            checked += 1
            for scan in _scans(text, params, schema):
                failures.append(f"{' '.join(args[:2])}: {scan}\n    {text}")
    assert checked > len(commands), "the walk read the event table less than once a command"
    assert not failures, "\n".join(dict.fromkeys(failures))
