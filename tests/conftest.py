"""Shared fixtures: every storage test runs on SQLite and on a real PostgreSQL.

PostgreSQL tests use `CHARTLEDGER_TEST_PG` (default postgresql://postgres@127.0.0.1:5432/test),
each in a schema of its own that is dropped afterwards. Without a server they skip with the
reason, unless `CHARTLEDGER_REQUIRE_POSTGRES=1` (set by .ci/run), when they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.application import Ledger
from ledger.commands import users
from ledger.home import LedgerHome
from ledger.integrity.keys import Identity, load_identity, write_key_file

PG_URL = os.environ.get("CHARTLEDGER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("CHARTLEDGER_REQUIRE_POSTGRES") == "1"
SHARED = Path(__file__).resolve().parents[2] / "shared"

_pg_problem: str | bool | None = False


def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used here, or None when it can (checked once)."""
    global _pg_problem
    if _pg_problem is False:
        import psycopg

        try:
            with psycopg.connect(PG_URL, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            _pg_problem = None
        except psycopg.Error as error:
            _pg_problem = f"no PostgreSQL server at {PG_URL} ({str(error).strip().splitlines()[0]})"
    return _pg_problem or None


def _drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL for an empty store of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    problem = postgres_problem()
    if problem:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required (CHARTLEDGER_REQUIRE_POSTGRES=1) but {problem}")
        pytest.skip(f"PostgreSQL tests skipped: {problem}; set CHARTLEDGER_TEST_PG to run them")
    schema = f"cl_{uuid.uuid4().hex[:12]}"
    separator = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{separator}schema={schema}"
    _drop_schema(schema)


@dataclass
class Hospital:
    """A freshly initialised ledger home with its administrator; everyone else works in a home
    of their own (`<tmp>/homes/<name>`) over the same store."""

    home: LedgerHome
    ledger: Ledger
    admin: Identity
    store_url: str

    @property
    def homes(self) -> Path:
        return self.home.path.parent / "homes"

    def home_of(self, name: str) -> LedgerHome:
        own = LedgerHome(self.homes / name)
        return own if own.key_path(name).exists() else self.home

    def identity(self, name: str) -> Identity:
        """A user's identity, read from their own home (the administrator's from init's)."""
        return load_identity(name, self.home_of(name).key_path(name))

    def node(self) -> Identity:
        return self.home.node_identity()

    def enrol(self, name: str, roles: list[str]) -> Identity:
        """Enrol a person as their own workstation would: the administrator invites, the person
        makes their key in their own home and enrols it with the code; returns their identity."""
        code = users.invite(self.ledger, name, roles, actor=self.admin)
        person = Identity.generate(name)
        write_key_file(person, LedgerHome(self.homes / name).key_path(name))
        users.enrol(self.ledger, person, code, key_protection="none")
        return person

    def reopen(self) -> Ledger:
        self.ledger.close()
        self.ledger = self.home.open()
        return self.ledger


@pytest.fixture
def hospital(store_url: str, tmp_path: Path) -> Iterator[Hospital]:
    home = LedgerHome(tmp_path / "home")
    ledger, _ = home.initialise(admin="admin", origin="test.hospital/ledger", db=store_url)
    h = Hospital(home, ledger, load_identity("admin", home.key_path("admin")), store_url)
    yield h
    h.ledger.close()
