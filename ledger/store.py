"""One URL selects the store: `sqlite:///path/ledger.db` (default) or `postgresql://…`.

The `eventsourcing` recorders store the events; `Database` gives the ledger's own tables (the
Merkle log, the key registry, checkpoints) the same datastore and transactions, so a log write and
its tracking record commit together.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import UUID

from ledger.errors import StoreUnavailable, UsageError

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class StoreURL:
    """A parsed store URL and the `eventsourcing` environment it stands for."""

    kind: Literal["sqlite", "postgresql"]
    url: str
    env: dict[str, str] = field(repr=False)
    schema: str = "public"
    sqlite_path: Path | None = None

    @property
    def display(self) -> str:
        """The URL with any password hidden, for messages."""
        return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", self.url)


def parse_store_url(url: str) -> StoreURL:
    """Turn a store URL into the environment the `eventsourcing` factory reads."""
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite://") :])
        return StoreURL(
            kind="sqlite",
            url=url,
            env={
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(path),
                "SQLITE_LOCK_TIMEOUT": "30",
            },
            sqlite_path=path,
        )
    if url.startswith(("postgresql://", "postgres://")):
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        schema = (query.get("schema") or ["public"])[0]
        if not _SCHEMA_NAME.match(schema):
            raise UsageError(f"The schema name '{schema}' is not a plain lower-case identifier.")
        dbname = unquote(parts.path.lstrip("/")) or "postgres"
        return StoreURL(
            kind="postgresql",
            url=url,
            env={
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": dbname,
                "POSTGRES_HOST": parts.hostname or "127.0.0.1",
                "POSTGRES_PORT": str(parts.port or 5432),
                "POSTGRES_USER": unquote(parts.username or "postgres"),
                "POSTGRES_PASSWORD": unquote(parts.password or ""),
                "POSTGRES_SCHEMA": schema,
                "POSTGRES_CONNECT_TIMEOUT": "5",
                "POSTGRES_LOCK_TIMEOUT": "10",
                "POSTGRES_POOL_SIZE": "2",
                "POSTGRES_MAX_OVERFLOW": "8",
            },
            schema=schema,
        )
    raise UsageError(
        "The store URL must start with sqlite:/// or postgresql:// "
        f"(got '{url.split('://')[0]}://…')."
    )


def prepare_store(store: StoreURL) -> None:
    """Make sure the store can hold a ledger: the SQLite folder, or the PostgreSQL schema."""
    if store.kind == "sqlite":
        assert store.sqlite_path is not None  # noqa: S101 (set for every sqlite URL)
        store.sqlite_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Made 0600 before SQLite opens it (its -wal and -shm files take the database's mode).
        os.close(os.open(store.sqlite_path, os.O_RDWR | os.O_CREAT, 0o600))
        return
    import psycopg  # the PostgreSQL driver costs ~400 ms to import: only when used

    env = store.env
    try:
        with psycopg.connect(
            dbname=env["POSTGRES_DBNAME"],
            host=env["POSTGRES_HOST"],
            port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"],
            connect_timeout=5,
            autocommit=True,
        ) as conn:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{store.schema}"')
    except psycopg.Error:
        raise StoreUnavailable(f"The database at {store.display} cannot be reached.") from None


SQLITE_CACHE = "PRAGMA cache_size=-65536"
"""64 MiB of page cache on a connection that writes derived rows (SQLite's default is 2 MiB):
keeping a million-row view's indexes in memory is what lets a large catch-up keep its pace."""


class Database:
    """The ledger's own SQL over the `eventsourcing` datastore, for both dialects.

    Statements are written with `?` placeholders and `{blob}` for binary columns; table names go
    through `table()` so PostgreSQL gets them in the ledger's schema.
    """

    def __init__(self, datastore: Any, store: StoreURL) -> None:
        self.datastore = datastore
        self.store = store
        self.is_postgres = store.kind == "postgresql"

    def table(self, name: str) -> str:
        return f'"{self.store.schema}"."{name}"' if self.is_postgres else name

    def sql(self, statement: str) -> str:
        if self.is_postgres:
            statement = statement.replace("{blob}", "BYTEA").replace("{uuid}", "UUID")
            return statement.replace("?", "%s")
        return statement.replace("{blob}", "BLOB").replace("{uuid}", "TEXT")

    def uuid_param(self, value: UUID) -> UUID | str:
        """A UUID as the events table stores it: native on PostgreSQL, hex text on SQLite."""
        return value if self.is_postgres else value.hex

    @staticmethod
    def uuid_value(value: UUID | str) -> UUID:
        return value if isinstance(value, UUID) else UUID(value)

    def refresh_statistics(self) -> None:
        """PostgreSQL: `ANALYZE` every table of the ledger's schema, so the planner knows that an
        aggregate id names a handful of rows. (Autovacuum does this on a server that runs it;
        with it off, a million-event table planned from empty statistics turns a 0.1 ms index
        lookup into a parallel scan of several milliseconds.) SQLite plans well without."""
        if not self.is_postgres:
            return
        with self.transaction(commit=False) as cur:
            cur.execute("SELECT tablename FROM pg_tables WHERE schemaname=?", (self.store.schema,))
            tables = [str(r["tablename"]) for r in cur.fetchall()]
        for name in tables:  # one short transaction each: writers wait for one table at most
            with self.transaction(commit=True) as cur:
                cur.execute(
                    "SELECT pg_try_advisory_xact_lock(hashtext(?)) AS mine",
                    (f"chartledger analyze {self.store.schema}.{name}",),
                )
                if cur.fetchone()["mine"]:  # else another process is analysing it right now
                    cur.execute(f"ANALYZE {self.table(name)}")

    @contextmanager
    def transaction(self, *, commit: bool, derived: bool = False) -> Iterator[Cursor]:
        """A transaction; `derived` for data rebuilt from the events (the Merkle log's leaves,
        views): on PostgreSQL its commit does not wait for the disk. That is safe: the server
        writes its log in order, so the next durable commit (an event, a checkpoint) makes it
        durable too, and a crash before that loses only what the followers redo from the events.
        """
        with self.datastore.transaction(commit=commit) as raw:
            if derived and self.is_postgres:
                raw.execute("SET LOCAL synchronous_commit TO OFF")
            elif derived:
                raw.execute(SQLITE_CACHE)
            yield Cursor(raw, self)


class Cursor:
    """A cursor that translates placeholders; rows are read by column name on both stores."""

    def __init__(self, raw: Any, db: Database) -> None:
        self.raw = raw
        self.db = db

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        self.raw.execute(self.db.sql(statement), params)

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.raw.executemany(self.db.sql(statement), rows)

    def fetchall(self) -> list[Any]:
        return list(self.raw.fetchall())

    def fetchone(self) -> Any:
        return self.raw.fetchone()
