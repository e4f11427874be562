"""Which encounters `deficiency list` must look at: a view of every encounter, the moment its
chart last changed, and whether the completion rules last found it settled.

The follower maps every aggregate that names an encounter (the encounter itself, a document
filed to it, a physician query about it, its completion register, anything whose events carry
`encounter_id`) to that encounter, and each event of a mapped aggregate moves the encounter's
`changed` to the event's position. A list reads the encounters not settled since their last
change (`candidates`), replays only those, and marks settled (`settle`) those the rules find
nothing missing in even at the end of time: the rules only ever add a deficiency as time passes,
so a settled encounter stays empty until an event of its own, or a change of the rules or of
who is a physician (the `key`), reopens it. See decisions §56.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from ledger.aggregates.encounter import Encounter
from ledger.stores.database import Cursor, Database

LISTS = ("deficiency", "coding")
"""The lists that read the view: `deficiency list` and `code worklist`."""


class CompletionWorklist:
    name = "completion-worklist"
    version = 1
    tables = ("completion_links", "completion_open", "completion_key")

    def __init__(self, db: Database) -> None:
        self.db = db
        self.links = db.table("completion_links")
        self.open = db.table("completion_open")
        self.key = db.table("completion_key")

    def create_tables(self, cur: Cursor) -> None:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self.links} (aggregate_id TEXT PRIMARY KEY,"
            " encounter_id TEXT NOT NULL)"
        )
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self.open} (encounter_id TEXT PRIMARY KEY,"
            " opened BIGINT NOT NULL, changed BIGINT NOT NULL,"
            " pending_deficiency INTEGER NOT NULL, pending_coding INTEGER NOT NULL)"
        )
        for which in LISTS:
            cur.execute(
                f"CREATE INDEX IF NOT EXISTS completion_open_{which} "
                f"ON {self.open} (pending_{which}, opened)"
            )
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self.key} (list TEXT PRIMARY KEY,"
            " settled_key TEXT NOT NULL)"
        )

    def apply(self, cur: Cursor, event: Any, notification_id: int) -> None:
        originator = event.originator_id.hex
        named = getattr(event, "encounter_id", None)
        if isinstance(event, Encounter.Opened):
            named = event.originator_id
        touched: set[str] = set()
        cur.execute(f"SELECT encounter_id FROM {self.links} WHERE aggregate_id=?", (originator,))
        row = cur.fetchone()
        if row is not None:
            touched.add(str(row["encounter_id"]))
        if isinstance(named, UUID):
            touched.add(named.hex)
            cur.execute(
                f"INSERT INTO {self.links} (aggregate_id, encounter_id) VALUES (?, ?) "
                "ON CONFLICT (aggregate_id) DO UPDATE SET encounter_id=excluded.encounter_id",
                (originator, named.hex),
            )
        for encounter in sorted(touched):
            cur.execute(
                f"INSERT INTO {self.open} (encounter_id, opened, changed, pending_deficiency,"
                " pending_coding) VALUES (?, ?, ?, 1, 1) "
                "ON CONFLICT (encounter_id) DO UPDATE SET changed=excluded.changed,"
                " pending_deficiency=1, pending_coding=1",
                (encounter, notification_id, notification_id),
            )

    def candidates(self, which: str, key: str) -> list[tuple[UUID, int]]:
        """The encounters not settled since they last changed (every encounter when `key`, what
        else decides deficiencies, is not the one they were settled under), with that change,
        in the order they were opened (the chart index's, which a list's ties keep). `which`:
        "deficiency" or "coding", the list asking."""
        column = _column(which)
        with self.db.transaction(commit=False) as cur:
            cur.execute(f"SELECT settled_key FROM {self.key} WHERE list=?", (which,))
            row = cur.fetchone()
            every = "" if row is not None and row["settled_key"] == key else f"OR {column}=0"
            cur.execute(
                f"SELECT encounter_id, changed FROM {self.open} WHERE {column}=1 {every} "
                "ORDER BY opened"
            )
            return [(UUID(str(r["encounter_id"])), int(r["changed"])) for r in cur.fetchall()]

    def settle(self, which: str, key: str, read: Iterable[tuple[UUID, int, bool]]) -> None:
        """Record what a list found of the encounters it read: each (encounter, the change it
        was read at, settled). A settled one stops being a candidate unless it changed since."""
        column = _column(which)
        rows = [(0 if settled else 1, e.hex, changed) for e, changed, settled in read]
        with self.db.transaction(commit=True, derived=True) as cur:
            for row in rows:
                cur.execute(
                    f"UPDATE {self.open} SET {column}=? WHERE encounter_id=? AND changed=?", row
                )
            cur.execute(
                f"INSERT INTO {self.key} (list, settled_key) VALUES (?, ?) "
                "ON CONFLICT (list) DO UPDATE SET settled_key=excluded.settled_key",
                (which, key),
            )


def _column(which: str) -> str:
    if which not in LISTS:
        raise ValueError(f"no worklist {which!r}")
    return f"pending_{which}"
