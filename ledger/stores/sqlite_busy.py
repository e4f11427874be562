"""SQLite for several writers: each waits for the others instead of failing.

`eventsourcing`'s SQLite datastore opens every transaction with a deferred `BEGIN`; a transaction
that reads and then writes, in WAL mode, fails at once with SQLITE_BUSY when another process has
written since it began (no busy handler can help: its snapshot is stale). Here a writing
transaction (`commit=True`) begins `IMMEDIATE`, taking the write lock up front and waiting for it
up to the busy timeout; reads stay deferred and never block in WAL mode. Every connection gets the
busy timeout and WAL (set once by `init`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import InterfaceError
from eventsourcing.sqlite import (
    SQLITE3_DEFAULT_LOCK_TIMEOUT,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteCursor,
    SQLiteDatastore,
    SQLiteFactory,
    SQLiteTransaction,
)


class _ImmediateTransaction(SQLiteTransaction):
    def __enter__(self) -> SQLiteCursor:
        cursor = self.connection.cursor()
        cursor.execute("BEGIN IMMEDIATE" if self.commit else "BEGIN")
        return cursor


class _Connection(SQLiteConnection):
    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[SQLiteCursor]:
        with _ImmediateTransaction(self, commit=commit) as curs, curs:
            yield curs


class _Pool(SQLiteConnectionPool):
    def _create_connection(self) -> SQLiteConnection:
        timeout = self.lock_timeout or SQLITE3_DEFAULT_LOCK_TIMEOUT
        try:
            raw = sqlite3.connect(
                database=self.db_name,
                uri=True,
                check_same_thread=False,
                isolation_level=None,  # autocommit: transactions begin explicitly
                cached_statements=True,
                timeout=timeout,
            )
            raw.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            if not self.is_sqlite_memory_mode and not self.is_journal_mode_wal:
                mode = raw.execute("PRAGMA journal_mode").fetchone()[0]
                if str(mode).lower() != "wal" and "mode=ro" not in self.db_name:
                    raw.execute("PRAGMA journal_mode=WAL")
                self.is_journal_mode_wal = True
        except sqlite3.Error as error:
            raise InterfaceError(error) from error
        raw.row_factory = sqlite3.Row
        return _Connection(sqlite_conn=raw, max_age=self.max_age)


class _Datastore(SQLiteDatastore):
    def __init__(self, db_name: str, **kwargs: Any) -> None:
        super().__init__(db_name, **kwargs)
        self.pool = _Pool(db_name=db_name, lock_timeout=kwargs.get("lock_timeout"))


class BusySQLiteFactory(SQLiteFactory):
    """The `eventsourcing` SQLite factory with the datastore above."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        plain = self.datastore
        self.datastore = _Datastore(
            plain.pool.db_name,
            lock_timeout=plain.pool.lock_timeout,
            single_row_tracking=plain.single_row_tracking,
            originator_id_type=plain.originator_id_type,
        )
        plain.close()
