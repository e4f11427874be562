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
            " opened BIGINT NOT NULL, changed BIGINT NOT NULL, pending INTEGER NOT NULL)"
        )
        cur.execute(
            "CREATE INDEX IF NOT EXISTS completion_open_pending "
            f"ON {self.open} (pending, encounter_id)"
        )
        cur.execute(f"CREATE TABLE IF NOT EXISTS {self.key} (settled_key TEXT NOT NULL)")

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
                f"INSERT INTO {self.open} (encounter_id, opened, changed, pending) "
                "VALUES (?, ?, ?, 1) "
                "ON CONFLICT (encounter_id) DO UPDATE SET changed=excluded.changed, pending=1",
                (encounter, notification_id, notification_id),
            )

    def candidates(self, key: str) -> list[tuple[UUID, int]]:
        """The encounters not settled since they last changed (every encounter when `key`, what
        else decides deficiencies, is not the one they were settled under), with that change,
        in the order they were opened (the chart index's, which a list's ties keep)."""
        with self.db.transaction(commit=False) as cur:
            cur.execute(f"SELECT settled_key FROM {self.key}")
            row = cur.fetchone()
            which = "" if row is not None and row["settled_key"] == key else "OR pending=0"
            cur.execute(
                f"SELECT encounter_id, changed FROM {self.open} WHERE pending=1 {which} "
                "ORDER BY opened"
            )
            return [(UUID(str(r["encounter_id"])), int(r["changed"])) for r in cur.fetchall()]

    def settle(self, key: str, read: Iterable[tuple[UUID, int, bool]]) -> None:
        """Record what a list found of the encounters it read: each (encounter, the change it
        was read at, settled). A settled one stops being a candidate unless it changed since."""
        rows = list(read)
        with self.db.transaction(commit=True, derived=True) as cur:
            for encounter, changed, settled in rows:
                cur.execute(
                    f"UPDATE {self.open} SET pending=? WHERE encounter_id=? AND changed=?",
                    (0 if settled else 1, encounter.hex, changed),
                )
            cur.execute(f"SELECT settled_key FROM {self.key}")
            row = cur.fetchone()
            if row is None:
                cur.execute(f"INSERT INTO {self.key} (settled_key) VALUES (?)", (key,))
            elif row["settled_key"] != key:
                cur.execute(f"UPDATE {self.key} SET settled_key=?", (key,))
