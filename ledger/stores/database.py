"""One URL selects the store: `sqlite:///path/ledger.db` (default) or `postgresql://…`.

The `eventsourcing` recorders store the events; `Database` gives the ledger's own tables (the
Merkle log, the key registry, checkpoints) the same datastore and transactions, so a log write and
its tracking record commit together.
"""

from __future__ import annotations

import errno
import os
import re
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import UUID

from ledger.errors import ConfigurationError, LedgerError, StoreUnavailable, UsageError

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

SCHEMA_VERSION = 2
"""The version of the ledger's tables, kept in its meta table as `schema_version`. `init` writes
it; `chartledger upgrade` adds what a newer version needs and raises it; an open refuses a store
whose version is not this one (a newer one it would misread, an older one lacks tables).
Version 2 (issue 14) adds the index of the event table by topic (`topic_index_statement`)."""


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
                "PERSISTENCE_MODULE": "ledger.stores.sqlite_busy:BusySQLiteFactory",
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
    """Make room for a new ledger (at `init` or `upgrade` only): the SQLite folder, or the
    PostgreSQL schema, created under the schema lock."""
    if store.kind == "sqlite":
        assert store.sqlite_path is not None  # noqa: S101 (set for every sqlite URL)
        try:
            store.sqlite_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            # Made 0600 before SQLite opens it (its -wal and -shm files take the database's mode).
            os.close(os.open(store.sqlite_path, os.O_RDWR | os.O_CREAT, 0o600))
        except OSError as error:
            raise _os_failure(error, store) from None
        return
    with _pg_connect(store) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (schema_lock_name(store),))
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{store.schema}"')


def schema_lock_name(store: StoreURL) -> str:
    return f"chartledger schema {store.schema}"


@contextmanager
def schema_lock(store: StoreURL) -> Iterator[None]:
    """Hold the schema lock while tables are created: on PostgreSQL a session advisory lock
    (concurrent `CREATE … IF NOT EXISTS` otherwise fail with 'tuple concurrently updated');
    on SQLite each creating transaction begins IMMEDIATE, which serialises them already."""
    if store.kind == "sqlite":
        yield
        return
    with _pg_connect(store) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (schema_lock_name(store),))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (schema_lock_name(store),))


@contextmanager
def _pg_connect(store: StoreURL) -> Iterator[Any]:
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
            yield conn
    except psycopg.Error:
        raise StoreUnavailable(f"The database at {store.display} cannot be reached.") from None


def no_ledger(store: StoreURL) -> ConfigurationError:
    return ConfigurationError(
        f"There is no ledger at {store.display}; run 'chartledger init' to create one "
        "(nothing was created)."
    )


def check_ledger_store(store: StoreURL) -> int:
    """The schema version of the ledger the store holds; refuses, creating nothing (no file,
    folder or schema), a store that holds no ledger or one of another schema version."""
    version = stored_schema_version(store)
    if version is None:
        raise no_ledger(store)
    if version > SCHEMA_VERSION:
        raise ConfigurationError(
            f"The ledger at {store.display} was made by a newer Chartledger (schema version "
            f"{version}; this one knows up to {SCHEMA_VERSION}); it was left as it is."
        )
    if version < SCHEMA_VERSION:
        raise ConfigurationError(
            f"The ledger at {store.display} has schema version {version}; run "
            f"'chartledger upgrade' to bring it to version {SCHEMA_VERSION}."
        )
    return version


def stored_schema_version(store: StoreURL) -> int | None:
    """The `schema_version` in the store's meta table: None when there is no ledger at all,
    0 for a ledger made before versions were kept. Reads only; creates nothing."""
    if store.kind == "sqlite":
        return _sqlite_schema_version(store)
    with _pg_connect(store) as conn:
        meta = f'"{store.schema}"."ledger_meta"'
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (meta,)).fetchone()
        if not row or not row[0]:
            return None
        found = conn.execute(f"SELECT value FROM {meta} WHERE name='schema_version'").fetchone()
    return _version(store, found[0] if found else None)


def _sqlite_schema_version(store: StoreURL) -> int | None:
    from urllib.parse import quote

    path = store.sqlite_path
    assert path is not None  # noqa: S101 (set for every sqlite URL)
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return None
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"
        with _closing(sqlite3.connect(uri, uri=True, timeout=30)) as conn:
            tables = {
                str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if "ledger_meta" not in tables:
                return None
            found = conn.execute("SELECT value FROM ledger_meta WHERE name='schema_version'")
            row = found.fetchone()
    except OSError as error:
        raise _os_failure(error, store) from None
    except sqlite3.DatabaseError as error:
        raise sqlite_failure(error, store) from None
    return _version(store, row[0] if row else None)


@contextmanager
def _closing(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    try:
        yield conn
    finally:
        conn.close()


def _version(store: StoreURL, value: object) -> int:
    if value is None:
        return 0
    try:
        return int(str(value))
    except ValueError:
        raise ConfigurationError(
            f"The ledger at {store.display} has an unreadable schema version."
        ) from None


# -- failures of the store, as sentences -----------------------------------------------------
_OS_SENTENCES = {
    errno.ENOSPC: "is full (no space left on the device); nothing was written",
    errno.EDQUOT: "is over its disk quota; nothing was written",
    errno.EROFS: "is on a read-only file system; nothing was written",
    errno.EACCES: "cannot be opened (permission denied); nothing was written",
    errno.EPERM: "cannot be changed (operation not permitted); nothing was written",
}


def _os_what(error: OSError) -> str:
    return _OS_SENTENCES.get(error.errno or 0, f"cannot be used ({error.strerror or 'OS error'})")


def _os_failure(error: OSError, store: StoreURL) -> StoreUnavailable:
    return StoreUnavailable(f"The ledger store at {store.display} {_os_what(error)}.")


def os_failure(error: OSError) -> StoreUnavailable:
    """An operating-system failure (full disk, read-only or forbidden file) as one sentence."""
    return StoreUnavailable(f"The file {error.filename or 'the ledger home'} {_os_what(error)}.")


def sqlite_failure(error: BaseException, store: StoreURL | None) -> LedgerError:
    text = str(error).lower()
    where = store.display if store else "the SQLite store"
    if "not a database" in text or "malformed" in text or "file is encrypted" in text:
        return ConfigurationError(f"The file at {where} is not a ledger database.")
    if "full" in text:
        return StoreUnavailable(
            f"The ledger store at {where} is full (no space left); nothing was written."
        )
    if "readonly" in text or "read-only" in text:
        return StoreUnavailable(f"The ledger store at {where} is read-only; nothing was written.")
    if "locked" in text or "busy" in text:
        return StoreUnavailable(
            f"The ledger store at {where} stayed busy with other writers; nothing was written, "
            "try again."
        )
    if "unable to open" in text or "disk i/o" in text:
        condition = _file_system_condition(store)
        if condition:
            return StoreUnavailable(f"The ledger store at {where} {condition}.")
        return StoreUnavailable(f"The ledger store at {where} cannot be opened or written.")
    if "no such table" in text:
        return ConfigurationError(f"The ledger at {where} lacks tables; run 'chartledger upgrade'.")
    return StoreUnavailable(f"The ledger store at {where} failed ({type(error).__name__}).")


def _file_system_condition(store: StoreURL | None) -> str | None:
    """Why SQLite could not open or write its files, when the file system says (SQLite itself
    reports a read-only file system or a full one as 'unable to open' or 'disk I/O error')."""
    if store is None or store.sqlite_path is None:
        return None
    folder = store.sqlite_path.parent
    try:
        stats = os.statvfs(folder if folder.exists() else Path("/"))
    except OSError:
        return None
    if stats.f_flag & os.ST_RDONLY:
        return _OS_SENTENCES[errno.EROFS]
    if stats.f_bavail == 0:
        return _OS_SENTENCES[errno.ENOSPC]
    return None


def store_failure(error: BaseException, store: StoreURL | None = None) -> LedgerError | None:
    """The store-level failure `error` stands for, as a `LedgerError`; None if it is none.

    The one translation of what a datastore can throw: `OSError` (ENOSPC, EROFS, EACCES,
    EDQUOT), the `sqlite3.DatabaseError` family, psycopg's `OperationalError`/`InterfaceError`
    and `eventsourcing`'s `PersistenceError` family (which wraps both drivers). Sentences name
    the store, never what was being written."""
    if isinstance(error, LedgerError):
        return error
    persistence = sys.modules.get("eventsourcing.persistence")
    if isinstance(error, sqlite3.IntegrityError) or (
        persistence is not None and isinstance(error, persistence.IntegrityError)
    ):
        return None  # a constraint: the caller's business (a conflict), not the store's
    if isinstance(error, OSError):
        return _os_failure(error, store) if store else os_failure(error)
    if isinstance(error, sqlite3.Error):
        return sqlite_failure(error, store)
    psycopg = sys.modules.get("psycopg")
    cause = error.__cause__ or (error.args[0] if error.args else None)
    if persistence is not None and isinstance(error, persistence.PersistenceError):
        if isinstance(cause, BaseException) and cause is not error:
            inner = store_failure(cause, store)
            if inner is not None:
                return inner
        if store is not None and store.kind == "sqlite":
            return sqlite_failure(error, store)
        return _pg_failure(error, store)
    if psycopg is not None and isinstance(
        error, (psycopg.OperationalError, psycopg.InterfaceError)
    ):
        return _pg_failure(error, store)
    return None


def _pg_failure(error: BaseException, store: StoreURL | None) -> LedgerError:
    where = store.display if store else "the PostgreSQL store"
    text = str(error).lower()
    if "no space" in text or "disk full" in text:
        return StoreUnavailable(
            f"The database at {where} is out of disk space; nothing was written."
        )
    if "read-only" in text or "read only" in text:
        return StoreUnavailable(f"The database at {where} is read-only; nothing was written.")
    return StoreUnavailable(
        f"The connection to the database at {where} failed or was lost during the command; "
        "nothing of it was saved unless it said so: run it again once the database is back."
    )


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
        self._created: dict[str, int] = {}

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
        On SQLite a writing transaction begins IMMEDIATE (`ledger.stores.sqlite_busy`). A failure of
        the store itself (full, read-only, not a database, connection lost) becomes one sentence.
        """
        try:
            with self.datastore.transaction(commit=commit) as raw:
                if derived and self.is_postgres:
                    raw.execute("SET LOCAL synchronous_commit TO OFF")
                elif derived:
                    raw.execute(SQLITE_CACHE)
                yield Cursor(raw, self)
        except Exception as error:
            failure = store_failure(error, self.store)
            if failure is None or failure is error:
                raise
            raise failure from None

    def create_tables(
        self, name: str, create: Callable[[Cursor], None], *, version: int = 1
    ) -> int:
        """Create a derived table set (a view's) once, safely when several processes open the
        ledger at the same moment: skipped when the meta table says it exists, else created
        under an advisory lock (PostgreSQL) or a `BEGIN IMMEDIATE` write lock (SQLite), and
        marked done, with the view's `version`, in the same transaction. Returns the version
        the stored tables were built by (older than `version`: the view must be rebuilt)."""
        if name in self._created:
            return self._created[name]
        stored = self.tables_version(name)
        if stored is not None:
            self._created[name] = stored
            return stored
        with self._schema_change() as cur:
            create(cur)
            cur.execute(
                f"INSERT INTO {self.table('ledger_meta')} (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO NOTHING",
                (f"tables:{name}", str(version)),
            )
        self._created[name] = self.tables_version(name) or version
        return self._created[name]

    def tables_version(self, name: str) -> int | None:
        """The version of the view that built the tables of `name` (None: never built)."""
        with self.transaction(commit=False) as cur:
            cur.execute(
                f"SELECT value FROM {self.table('ledger_meta')} WHERE name=?", (f"tables:{name}",)
            )
            row = cur.fetchone()
        return None if row is None else int(row["value"])

    def rebuild_tables(
        self,
        name: str,
        tables: Sequence[str],
        create: Callable[[Cursor], None],
        *,
        version: int,
        tracking_table: str,
    ) -> None:
        """Drop a view's tables and its tracking record and create them empty at `version`, in
        one transaction under the schema lock (the view then catches up from the first event)."""
        with self._schema_change() as cur:
            for table in tables:
                cur.execute(f"DROP TABLE IF EXISTS {self.table(table)}")
            cur.execute(f"DELETE FROM {tracking_table} WHERE application_name=?", (name,))
            create(cur)
            cur.execute(
                f"DELETE FROM {self.table('ledger_meta')} WHERE name=?", (f"tables:{name}",)
            )
            cur.execute(
                f"INSERT INTO {self.table('ledger_meta')} (name, value) VALUES (?, ?)",
                (f"tables:{name}", str(version)),
            )
        self._created[name] = version

    @contextmanager
    def _schema_change(self) -> Iterator[Cursor]:
        """A writing transaction that holds the ledger's table lock (one process at a time)."""
        with self.transaction(commit=True) as cur:
            if self.is_postgres:
                cur.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(?))",
                    (f"chartledger tables {self.store.schema}",),
                )
            yield cur


def topic_index_statement(events_table: str, *, postgres: bool) -> str:
    """The index every topic-filtered read of the event table uses (users, registers, requests,
    discrepancies, the views' filtered catch-ups): by topic, then log position, so a read of
    one topic walks that topic's rows in log order and never the whole table. (SQLite's log
    position is the rowid, which every SQLite index holds already.)"""
    name = events_table.rsplit(".", 1)[-1].strip('"')
    columns = "topic, notification_id" if postgres else "topic"
    return f"CREATE INDEX IF NOT EXISTS {name}_by_topic ON {events_table} ({columns})"


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
