"""Reports on a streaming-replication hot standby, and a standby promoted mid-run.

The standby at `CHARTLEDGER_STANDBY_URL` (default 127.0.0.1:5433, made by `scripts/standby`,
which `.ci/run` runs) replays the primary the other tests use. The promotion test makes its own
throwaway standby (pg_basebackup -R into a temporary folder, a free port), since it promotes
it. Without a standby these tests are skipped with the reason, unless
`CHARTLEDGER_REQUIRE_STANDBY=1` (set by .ci/run), when they fail instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from ledger.application import Ledger
from ledger.commands import access, patients, users
from ledger.errors import ConfigurationError, StoreUnavailable
from ledger.home import LedgerHome
from ledger.integrity.keys import Identity, load_identity
from ledger.stores.database import parse_store_url
from ledger.stores.standby import replay_caught_up
from projections.audit import audit_patient
from tests.conftest import PG_URL, postgres_problem

pytestmark = pytest.mark.postgres

STANDBY_URL = os.environ.get("CHARTLEDGER_STANDBY_URL", "postgresql://postgres@127.0.0.1:5433/test")
REQUIRE = os.environ.get("CHARTLEDGER_REQUIRE_STANDBY") == "1"
ADA = {"given_name": "Ada", "family_name": "Okafor", "sex": "female"}


def _unavailable(reason: str) -> None:
    if REQUIRE:
        pytest.fail(f"A standby is required (CHARTLEDGER_REQUIRE_STANDBY=1) but {reason}")
    pytest.skip(
        f"Standby tests skipped: {reason}; run scripts/standby or set CHARTLEDGER_STANDBY_URL"
    )


def _in_recovery(url: str) -> bool:
    with psycopg.connect(url, connect_timeout=3) as conn:
        row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
    return bool(row and row[0])


@pytest.fixture
def standby() -> str:
    """The standing standby's URL (database `test`, as the primary's tests)."""
    problem = postgres_problem()
    if problem:
        _unavailable(problem)
    try:
        if not _in_recovery(STANDBY_URL):
            _unavailable(f"the server at {STANDBY_URL} is not a standby")
    except psycopg.Error as error:
        _unavailable(f"no standby at {STANDBY_URL} ({str(error).strip().splitlines()[0]})")
    return STANDBY_URL


def _with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


def _wait_for_replay(standby_url: str, primary_url: str = PG_URL) -> None:
    """Wait until the standby has replayed everything the primary had written (synchronously:
    the primary's current WAL position, then the standby's replay position)."""
    standby, primary = parse_store_url(standby_url), parse_store_url(primary_url)
    for _ in range(600):
        if replay_caught_up(standby, primary):
            return
        time.sleep(0.05)
    raise AssertionError("the standby did not replay the primary's WAL within 30 s")


@pytest.fixture
def schema() -> Iterator[str]:
    name = f"cl_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def _init(
    tmp_path: Path, url: str, origin: str = "test.hospital/ledger"
) -> tuple[LedgerHome, Ledger]:
    home = LedgerHome(tmp_path / f"home-{uuid.uuid4().hex[:6]}")
    ledger, _ = home.initialise(admin="admin", origin=origin, db=url)
    return home, ledger


def _staff(ledger: Ledger, admin: Identity, name: str, role: str) -> Identity:
    code = users.invite(ledger, name, [role], actor=admin)
    person = Identity.generate(name)
    users.enrol(ledger, person, code, key_protection="none")
    return person


def _stored(url: str) -> list[tuple[int, str, int, str]]:
    """Every stored event as (notification id, aggregate, version, hash of its bytes)."""
    store = parse_store_url(url)
    with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
        rows = conn.execute(
            "SELECT notification_id, originator_id::text, originator_version, md5(state) "
            f'FROM "{store.schema}".chartledger_events ORDER BY notification_id'
        ).fetchall()
    return [(row[0], row[1], row[2], row[3]) for row in rows]


def test_a_report_reads_the_standby_and_records_its_access_on_the_primary(
    standby: str, schema: str, tmp_path: Path
) -> None:
    primary_url = _with_schema(PG_URL, schema)
    home, ledger = _init(tmp_path, primary_url)
    admin = load_identity("admin", home.key_path("admin"))
    tech = _staff(ledger, admin, "tech1", "technician")
    officer = _staff(ledger, admin, "privacy1", "compliance-officer")
    ada = patients.register_patient(ledger, ADA, actor=tech, likely_matches=[])
    access.record_access(
        ledger, [ada], actor=tech, action="query", sections=["chart"], purpose="treatment"
    )
    audit_patient(ledger, ada, reader=officer)  # the audit view, caught up on the primary
    ledger.close()
    _wait_for_replay(standby)
    before = _stored(primary_url)

    reader = home.open_reports(read_db=_with_schema(standby, schema))
    assert reader.writer is not None
    _, rows = audit_patient(reader, ada, reader=officer)
    assert ("tech1", "query") in [(row.actor, row.action) for row in rows]  # replicated
    lag = reader.standby_lag()
    assert lag is not None and lag.primary_log == len(before) + 1  # the audit read, on the primary
    assert len(before) <= lag.standby_log <= lag.primary_log and lag.replayed_at is not None
    assert reader.verify().events >= len(before)  # verify reads the standby's copy
    reader.close()

    after = _stored(primary_url)
    assert after[: len(before)] == before and len(after) == len(before) + 1
    check = Ledger(parse_store_url(primary_url), master_key=home.master_key())
    recorded = check.recorder.select_notifications(start=after[-1][0], limit=1)[0]
    assert "access" in recorded.topic.lower()  # the audit read, recorded on the primary
    check.close()


def test_a_read_store_that_is_not_a_standby_of_the_ledger_is_refused(
    standby: str, schema: str, tmp_path: Path
) -> None:
    primary_url = _with_schema(PG_URL, schema)
    home, ledger = _init(tmp_path, primary_url)
    ledger.close()
    other_schema = f"{schema}_other"
    _, other = _init(tmp_path, _with_schema(PG_URL, other_schema), origin="other/ledger")
    other.close()
    try:
        _wait_for_replay(standby)
        with pytest.raises(ConfigurationError, match="not a standby in recovery"):
            home.open_reports(read_db=primary_url)
        with pytest.raises(StoreUnavailable, match="cannot be reached"):
            home.open_reports(
                read_db=_with_schema(f"postgresql://postgres@127.0.0.1:{_free_port()}/test", schema)
            )
        with pytest.raises(ConfigurationError, match="holds another ledger"):
            home.open_reports(read_db=_with_schema(standby, other_schema))
        with pytest.raises(ConfigurationError, match="needs a PostgreSQL standby"):
            home.open_reports(read_db=f"sqlite:///{tmp_path / 'copy.db'}")
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{other_schema}" CASCADE')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg(program: str, *args: str) -> None:
    binary = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{program}"))[-1]
    command = [str(binary), *args]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, check=True, capture_output=True, timeout=120)


@pytest.fixture
def throwaway_standby(standby: str) -> Iterator[str]:
    """A standby of the primary of its own, which the test may promote (removed after)."""
    folder = Path(f"/tmp/chartledger-standby-{uuid.uuid4().hex[:8]}")
    port = _free_port()
    primary = parse_store_url(PG_URL).env
    if os.geteuid() == 0:
        folder.mkdir(mode=0o700)
        shutil.chown(folder, "postgres", "postgres")
    _pg(
        "pg_basebackup",
        "-h",
        primary["POSTGRES_HOST"],
        "-p",
        primary["POSTGRES_PORT"],
        "-U",
        "postgres",
        "-D",
        str(folder),
        "-R",
        "-X",
        "stream",
        "-c",
        "fast",
    )
    with psycopg.connect(PG_URL) as conn:
        limits = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
            for name in ("max_connections", "max_worker_processes", "max_wal_senders")
        }
    settings = "\n".join(f"{name} = {value}" for name, value in limits.items())
    for name, text in {
        "postgresql.conf": (
            f"port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{folder}'\n"
            f"hot_standby = on\nshared_buffers = 16MB\n{settings}\n"
        ),
        "pg_hba.conf": "local all all trust\nhost all all 127.0.0.1/32 trust\n",
        "pg_ident.conf": "",
    }.items():
        (folder / name).write_text(text)
        if os.geteuid() == 0:
            shutil.chown(folder / name, "postgres", "postgres")
    try:
        _pg("pg_ctl", "-D", str(folder), "-l", str(folder / "log"), "-w", "-t", "60", "start")
        yield f"postgresql://postgres@127.0.0.1:{port}/test"
    finally:
        try:
            _pg("pg_ctl", "-D", str(folder), "-m", "immediate", "-w", "stop")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(folder, ignore_errors=True)


def test_a_standby_promoted_mid_run_continues_the_ledger_with_nothing_lost(
    throwaway_standby: str, schema: str, tmp_path: Path
) -> None:
    primary_url = _with_schema(PG_URL, schema)
    standby_url = _with_schema(throwaway_standby, schema)
    home, ledger = _init(tmp_path, primary_url)
    admin = load_identity("admin", home.key_path("admin"))
    tech = _staff(ledger, admin, "tech1", "technician")
    acknowledged: list[str] = []
    for _ in range(5):  # the run: writes on the primary, the standby replaying behind it
        acknowledged.append(patients.register_patient(ledger, ADA, actor=tech, likely_matches=[]))
    ledger.checkpoint(home.node_identity())
    acknowledged.append(patients.register_patient(ledger, ADA, actor=tech, likely_matches=[]))
    ledger.close()
    _wait_for_replay(throwaway_standby)  # every acknowledged commit replayed before promotion
    before = _stored(primary_url)

    with psycopg.connect(throwaway_standby, autocommit=True) as conn:
        assert conn.execute("SELECT pg_promote(true, 60)").fetchone() == (True,)
    assert not _in_recovery(throwaway_standby)

    # The promoted server is now the ledger's store: the home points at it, and it goes on.
    promoted = Ledger(parse_store_url(standby_url), master_key=home.master_key())
    assert _stored(standby_url) == before  # nothing the primary acknowledged is lost
    for mrn in acknowledged:
        assert promoted.patient(mrn).mrn == mrn
    nurse = _staff(promoted, admin, "tech2", "technician")
    later = patients.register_patient(promoted, ADA, actor=nurse, likely_matches=[])
    promoted.checkpoint(home.node_identity())
    report = promoted.verify(expected_genesis=promoted.genesis_fingerprint())
    assert report.events == len(_stored(standby_url)) > len(before)
    assert later not in acknowledged and promoted.patient(later).mrn == later
    promoted.close()
