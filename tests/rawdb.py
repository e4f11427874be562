"""Raw SQL access to a ledger's database, for tests that really tamper with it."""

from __future__ import annotations

import sqlite3
from typing import Any
from uuid import UUID

from ledger.stores.database import parse_store_url


class RawDB:
    """Reads and changes stored events and log rows behind the ledger's back."""

    def __init__(self, url: str) -> None:
        self.store = parse_store_url(url)
        self.pg = self.store.kind == "postgresql"
        if self.pg:
            schema = self.store.schema
            self.events = f'"{schema}"."chartledger_events"'
            self.nid = "notification_id"
            self.leaves = f'"{schema}"."merkle_leaves"'
            self.nodes = f'"{schema}"."merkle_nodes"'
            self.tracking = f'"{schema}"."chartledger_tracking"'
        else:
            self.events, self.nid = "stored_events", "rowid"
            self.leaves, self.nodes, self.tracking = "merkle_leaves", "merkle_nodes", "tracking"

    def table(self, name: str) -> str:
        """A ledger table's name as SQL (qualified by the schema on PostgreSQL)."""
        return f'"{self.store.schema}"."{name}"' if self.pg else name

    def _run(self, sql: str, params: tuple[Any, ...] = (), *, fetch: bool = False) -> list[Any]:
        if self.pg:
            import psycopg

            env = self.store.env
            with psycopg.connect(
                dbname=env["POSTGRES_DBNAME"],
                host=env["POSTGRES_HOST"],
                port=env["POSTGRES_PORT"],
                user=env["POSTGRES_USER"],
                password=env["POSTGRES_PASSWORD"],
            ) as conn:
                cur = conn.execute(sql.replace("?", "%s"), params)
                return list(cur.fetchall()) if fetch else []
        path = self.store.sqlite_path
        conn = sqlite3.connect(str(path))
        try:
            cur = conn.execute(sql, params)
            rows = list(cur.fetchall()) if fetch else []
            conn.commit()
            return rows
        finally:
            conn.close()

    def _oid(self, oid: UUID) -> Any:
        return oid if self.pg else oid.hex

    def rows(self) -> list[tuple[int, UUID, int, str, bytes]]:
        """Every stored event in notification order: (id, aggregate, version, topic, state)."""
        found = self._run(
            f"SELECT {self.nid}, originator_id, originator_version, topic, state "
            f"FROM {self.events} ORDER BY {self.nid}",
            fetch=True,
        )
        return [
            (int(n), o if isinstance(o, UUID) else UUID(o), int(v), str(t), bytes(s))
            for n, o, v, t, s in found
        ]

    def count(self, name: str) -> int:
        """How many rows one of the ledger's tables holds (e.g. `document_chunks`)."""
        ((n,),) = self._run(f"SELECT COUNT(*) FROM {self.table(name)}", fetch=True)
        return int(n)

    def set_state(self, oid: UUID, version: int, state: bytes) -> None:
        self._run(
            f"UPDATE {self.events} SET state=? WHERE originator_id=? AND originator_version=?",
            (state, self._oid(oid), version),
        )

    def delete(self, oid: UUID, version: int) -> None:
        self._run(
            f"DELETE FROM {self.events} WHERE originator_id=? AND originator_version=?",
            (self._oid(oid), version),
        )

    def insert(self, oid: UUID, version: int, topic: str, state: bytes) -> None:
        self._run(
            f"INSERT INTO {self.events} (originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?)",
            (self._oid(oid), version, topic, state),
        )

    def cut_log_back_to(self, size: int) -> None:
        """Remove every event and log row from position `size` on, as a truncating attacker does."""
        doomed = self.rows()[size:]
        for _, oid, version, _, _ in doomed:
            self.delete(oid, version)
        self._run(f"DELETE FROM {self.leaves} WHERE position>=?", (size,))

    def refuse_inserts(self, topic_prefix: str, *more: str) -> None:
        """Make the database itself refuse to store events whose topic starts with a prefix."""
        prefixes = (topic_prefix, *more)
        if self.pg:
            when = " OR ".join(f"left(NEW.topic, {len(p)}) = '{p}'" for p in prefixes)
            schema = self.store.schema
            self._run(
                f'CREATE FUNCTION "{schema}".refuse_insert() RETURNS trigger AS $$ '
                "BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END "
                "$$ LANGUAGE plpgsql"
            )
            self._run(
                f"CREATE TRIGGER refuse_insert BEFORE INSERT ON {self.events} FOR EACH ROW "
                f"WHEN ({when}) "
                f'EXECUTE FUNCTION "{schema}".refuse_insert()'
            )
        else:
            when = " OR ".join(f"NEW.topic LIKE '{p}%'" for p in prefixes)
            self._run(
                f"CREATE TRIGGER refuse_insert BEFORE INSERT ON {self.events} "
                f"WHEN {when} "
                "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
            )
