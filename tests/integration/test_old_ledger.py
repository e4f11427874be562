"""A ledger written by an earlier release still opens, verifies and shows the same.

`tests/data/old-ledger/` holds a small, complete SQLite ledger made by `make.py` with the code
of the release before issue 11's refactor (see its README), and `expected.json`: what that code
printed for it. Each test unpacks a copy into tmp and reads it with today's code through the
command line. The fixture is a SQLite file; on PostgreSQL the same tests run on a schema made by
today's code into which the fixture's stored rows are loaded as they are (events with their
notification ids, Merkle log, keys, invitations, checkpoints, data keys, documents, and the Merkle
log's tracking position); the read models (chart index, patient index, audit trail) are not
copied, so there they are rebuilt by today's code from the old events.

`verify` runs first, while the store holds only the fixture's own events; the reads after it
record accesses of their own (new events, at today's time), so the audit trail is compared up
to the fixture's last log position. A difference here is a finding about compatibility: fix
the code, or, if the change is wanted (a trail that now shows a step it missed), say so and
rebuild `expected.json` with the old release, not with today's code.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ledger.application import Ledger
from ledger.stores.database import parse_store_url
from tests.cli.test_cli import Chartledger
from tests.conftest import PG_URL

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "old-ledger"
PLACE = "@FIXTURE@"  # stands, in the homes' settings, for the folder the ledger is unpacked in


def _unpack(folder: Path) -> Path:
    """Copy the fixture's ledger to FOLDER, point its homes' settings there and make it private
    to its owner again (git keeps no modes but the executable bit; key files must be 0600)."""
    shutil.copytree(FIXTURE / "ledger", folder)
    for config in folder.rglob("chartledger.json"):
        text = config.read_text(encoding="utf-8").replace(PLACE, str(folder))
        config.write_text(text, encoding="utf-8")
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o700 if path.is_dir() else 0o600)
    return folder


# the fixture's own tables (SQLite name -> PostgreSQL name), copied row for row; the read models
# are left out, to be rebuilt from the events
STORED = {
    "stored_events": "chartledger_events",
    **{
        name: name
        for name in (
            "merkle_leaves", "merkle_nodes", "ledger_keys", "ledger_invitations",
            "ledger_checkpoints", "ledger_meta", "data_keys", "document_chunks", "document_blobs",
        )
    },
}  # fmt: skip


def _load_into_postgres(db: Path, url: str) -> None:
    """Make an empty ledger schema at URL with today's code and load the SQLite store's rows."""
    import psycopg

    Ledger(parse_store_url(url), create=True).close()
    source = sqlite3.connect(db)
    try:
        with psycopg.connect(PG_URL) as pg:
            pg.execute(f'SET search_path TO "{parse_store_url(url).schema}"')
            pg.execute("DELETE FROM ledger_meta WHERE name NOT LIKE 'tables:%%'")
            for table, target in STORED.items():
                ids = ", rowid AS notification_id" if table == "stored_events" else ""
                rows = source.execute(f"SELECT *{ids} FROM {table}")
                columns = [d[0] for d in rows.description]
                kept = [r for r in rows if table != "ledger_meta" or not r[0].startswith("tables:")]
                marks = ", ".join(["%s"] * len(columns))
                with pg.cursor() as cur:
                    cur.executemany(
                        f"INSERT INTO {target} ({', '.join(columns)}) VALUES ({marks})", kept
                    )
            (admitted,) = source.execute(
                "SELECT notification_id FROM tracking WHERE application_name = 'merkle-log'"
            ).fetchone()
            pg.execute("INSERT INTO chartledger_tracking VALUES ('merkle-log', %s)", (admitted,))
            pg.execute(
                "SELECT setval(pg_get_serial_sequence('chartledger_events', 'notification_id'),"
                " (SELECT max(notification_id) FROM chartledger_events))"
            )
    finally:
        source.close()


@pytest.fixture
def expected() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURE / "expected.json").read_text(encoding="utf-8"))
    return loaded


@pytest.fixture
def old(store_url: str, tmp_path: Path) -> Chartledger:
    """The fixture unpacked in tmp, its store the SQLite file itself or a PostgreSQL copy,
    brought to today's schema by `chartledger upgrade` as an administrator would."""
    folder = _unpack(tmp_path / "old")
    if store_url.startswith("postgresql"):
        _load_into_postgres(folder / "ledger.db", store_url)
        ledger = Chartledger(folder / "home", store_url)
    else:
        ledger = Chartledger(folder / "home", f"sqlite:///{folder / 'ledger.db'}")
    ledger("upgrade")
    return ledger


def test_an_old_ledger_is_refused_until_upgrade_adds_the_topic_index(
    store_url: str, tmp_path: Path
) -> None:
    """The fixture is at schema version 1: no index of the events by topic. Today's code refuses
    to open it, in one sentence, until `upgrade` adds the index (schema version 2)."""
    from tests.rawdb import RawDB

    folder = _unpack(tmp_path / "old")
    if store_url.startswith("postgresql"):
        _load_into_postgres(folder / "ledger.db", store_url)
        ledger = Chartledger(folder / "home", store_url)
        _drop_topic_index(store_url)
    else:
        ledger = Chartledger(folder / "home", f"sqlite:///{folder / 'ledger.db'}")
    refused = ledger("log", "status", ok=False)
    assert refused.exit_code == 3
    assert "has schema version 1; run 'chartledger upgrade'" in refused.output
    assert "Traceback" not in refused.output
    assert not _has_topic_index(RawDB(ledger.store_url))
    upgraded = ledger("upgrade").output
    assert "from schema version 1 to 2" in upgraded
    assert _has_topic_index(RawDB(ledger.store_url))
    assert ledger("log", "status").exit_code == 0


def _has_topic_index(raw: Any) -> bool:
    if raw.pg:
        rows = raw._run(
            "SELECT indexname FROM pg_indexes WHERE schemaname=?", (raw.store.schema,), fetch=True
        )
    else:
        rows = raw._run("SELECT name FROM sqlite_master WHERE type='index'", fetch=True)
    return any(str(row[0]).endswith("_events_by_topic") for row in rows)


def _drop_topic_index(url: str) -> None:
    """The PostgreSQL copy is made by today's `init`, which builds the index; an old ledger had
    none, so the copy drops it again."""
    import psycopg

    with psycopg.connect(PG_URL) as pg:
        pg.execute(f'DROP INDEX "{parse_store_url(url).schema}".chartledger_events_by_topic')


def test_the_fixture_is_small_and_complete(expected: dict[str, Any]) -> None:
    size = sum(p.stat().st_size for p in FIXTURE.rglob("*") if p.is_file())
    assert size < 1_000_000
    homes = sorted(p.name for p in (FIXTURE / "ledger" / "homes").iterdir())
    assert homes == ["dr1", "dr2", "privacy1", "roi1", "tech1"]
    chart = expected["chart_show"]
    entries = [e for encounter in chart["encounters"] for e in encounter["entries"]]
    assert any(e["amended"] for e in entries) and any(e["retracted"] for e in entries)
    assert any(e["transcribed"] and e["signed_by_author"] for e in entries)
    assert chart["documents"] and expected["roi_accounting"]["disclosures"]
    assert expected["verify"]["checkpoints"] >= 1


def test_an_old_ledger_verifies_with_todays_code(
    old: Chartledger, expected: dict[str, Any]
) -> None:
    verified = json.loads(old("verify", "--json").output)
    assert {name: verified[name] for name in expected["verify"]} == expected["verify"]
    log = old("log", "status").output
    assert f"{expected['last_position']} events in the Merkle log, 0 waiting" in log


def test_an_old_ledger_shows_the_same_chart_trail_and_accounting(
    old: Chartledger, expected: dict[str, Any]
) -> None:
    mrn = expected["mrn"]
    assert json.loads(old("verify", "--json").output)["ok"]
    show = ("chart", "show", mrn, "--purpose", "treatment", "--json")
    assert json.loads(old(*show, actor="dr1").output) == expected["chart_show"]
    as_of = json.loads(old(*show, "--as-of", expected["as_of"], actor="dr1").output)
    assert as_of == _as_of_since_issue_17(expected["chart_show_as_of"], as_of["withheld_since"])
    retracted = {
        f"{e['id']}:{entry['id']}"
        for e in expected["chart_show"]["encounters"]
        for entry in e["entries"]
        if entry["retracted"]
    }
    assert set(as_of["withheld_since"]["entries"]) == retracted
    trail = json.loads(old("audit", "patient", mrn, "--json", actor="privacy1").output)
    own = [row for row in trail if row["position"] <= expected["last_position"]]
    assert own == expected["audit_patient"]
    reads = [row for row in trail if row["position"] > expected["last_position"]]
    assert [(r["action"], r["actor"], r["purpose"]) for r in reads] == [
        ("query", "dr1", "treatment"),
        ("query", "dr1", "treatment"),
    ]  # the two reads above, recorded by today's code
    on = expected["accounting_on"]
    accounting = old("roi", "accounting", mrn, "--on", on, "--json", actor="roi1").output
    assert json.loads(accounting) == expected["roi_accounting"]


def _as_of_since_issue_17(before: dict[str, Any], withheld: dict[str, Any]) -> dict[str, Any]:
    """What 13b4a4a's `chart show --as-of` answer becomes under issue 17's one rule (decisions
    §34): documents filed after the moment leave it, entries retracted as entered in error are
    withheld (and named), and `withheld_since` says so; nothing else changes."""
    moment = datetime.fromisoformat(before["as_of"])
    entries = set(withheld["entries"])
    after = {
        **before,
        "documents": [
            d for d in before["documents"] if datetime.fromisoformat(d["filed_at"]) <= moment
        ],
        "encounters": [
            {**e, "entries": [x for x in e["entries"] if f"{e['id']}:{x['id']}" not in entries]}
            for e in before["encounters"]
        ],
        "withheld_since": withheld,
    }
    return after


def test_an_audit_trail_an_older_version_built_is_refused_until_upgrade_rebuilds_it(
    old: Chartledger, expected: dict[str, Any]
) -> None:
    """A trail built by version 1 of the view (before the event catalogue) lacks the routing and
    release-of-information rows; today's code refuses to show it and `upgrade` rebuilds it."""
    from tests.rawdb import RawDB

    mrn = expected["mrn"]
    trail = ("audit", "patient", mrn, "--json")
    old(*trail, actor="privacy1")  # today's view, built
    raw = RawDB(old.store_url)
    table = raw.table("audit_trail")
    kinds = ("release-request", "location", "routing")  # what only the catalogue puts there
    catalogued = f"categories IN {kinds!r}"
    shown = [r for r in expected["audit_patient"] if ",".join(r["categories"]) in kinds]
    found = raw._run(f"SELECT count(*) FROM {table} WHERE {catalogued}", fetch=True)[0][0]
    assert found == len(shown) > 0
    raw._run(f"DELETE FROM {table} WHERE {catalogued}")  # as version 1 left it: no such rows
    raw._run(f"UPDATE {raw.table('ledger_meta')} SET value='1' WHERE name='tables:audit-trail'")

    refused = old(*trail, actor="privacy1", ok=False)
    assert refused.exit_code == 2
    assert refused.output.strip().endswith(
        "The audit-trail view of this ledger was built by an older version of Chartledger; "
        "run 'chartledger upgrade' to rebuild it (nothing is lost)."
    )
    done = old("upgrade", actor=None).output
    assert "Rebuilt the audit-trail view from the ledger's" in done
    assert "audit-trail" not in old("upgrade", actor=None).output  # once is enough
    rows = json.loads(old(*trail, actor="privacy1").output)
    assert [r for r in rows if r["position"] <= expected["last_position"]] == expected[
        "audit_patient"
    ]
