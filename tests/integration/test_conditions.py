"""Hostile conditions: stores that are not there, several processes at once, lost connections.

Each test works on a real store (SQLite file or PostgreSQL schema) and real processes; nothing
is mocked.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ledger.application import Ledger
from ledger.commands import patients
from ledger.errors import ConfigurationError, LedgerError, StoreUnavailable
from ledger.home import LedgerHome
from ledger.integrity.keys import load_identity, write_key_file
from ledger.stores.database import SCHEMA_VERSION, parse_store_url
from tests.conftest import Hospital
from tests.rawdb import RawDB

WRITERS = 4
PATIENT_REGISTERED = "chartledger/patient/registered"
PATIENTS_EACH = 6


def _pg_schema_exists(url: str) -> bool:
    import psycopg

    store = parse_store_url(url)
    with psycopg.connect(url.split("?")[0]) as conn:
        row = conn.execute(
            "SELECT 1 FROM pg_namespace WHERE nspname=%s", (store.schema,)
        ).fetchone()
    return row is not None


def test_opening_a_store_without_a_ledger_refuses_and_creates_nothing(
    store_url: str, tmp_path: Path
) -> None:
    store = parse_store_url(store_url)
    with pytest.raises(ConfigurationError, match=r"There is no ledger at .*chartledger init"):
        Ledger(store)
    if store.kind == "sqlite":
        assert store.sqlite_path is not None
        assert not store.sqlite_path.exists()
        nested = parse_store_url(f"sqlite:///{tmp_path / 'no' / 'such' / 'ledger.db'}")
        with pytest.raises(ConfigurationError, match="There is no ledger"):
            Ledger(nested)
        assert not (tmp_path / "no").exists()
        store.sqlite_path.write_bytes(b"")  # an empty file is no ledger either
        with pytest.raises(ConfigurationError, match="There is no ledger"):
            Ledger(store)
        assert store.sqlite_path.stat().st_size == 0
    else:
        assert not _pg_schema_exists(store_url)


def test_a_schema_without_ledger_tables_is_refused(store_url: str) -> None:
    store = parse_store_url(store_url)
    if store.kind == "postgresql":
        import psycopg

        with psycopg.connect(store_url.split("?")[0], autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{store.schema}"')
    else:
        import sqlite3

        assert store.sqlite_path is not None
        conn = sqlite3.connect(store.sqlite_path)
        conn.execute("CREATE TABLE unrelated (x INTEGER)")
        conn.commit()
        conn.close()
    with pytest.raises(ConfigurationError, match="There is no ledger"):
        Ledger(store)
    raw = RawDB(store_url)
    tables = (
        raw._run(
            "SELECT table_name FROM information_schema.tables WHERE table_schema=?",
            (store.schema,),
            fetch=True,
        )
        if raw.pg
        else raw._run("SELECT name FROM sqlite_master WHERE type='table'", fetch=True)
    )
    assert [str(t[0]) for t in tables] == ([] if raw.pg else ["unrelated"])


@pytest.mark.parametrize(
    "content", [b"this is a text file, not a database\n" * 40, bytes(range(256)) * 16]
)
def test_a_file_that_is_not_a_database_gives_one_sentence_and_is_left_alone(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "ledger.db"
    path.write_bytes(content)
    with pytest.raises(ConfigurationError, match="is not a ledger database") as caught:
        Ledger(parse_store_url(f"sqlite:///{path}"))
    assert "\n" not in str(caught.value)
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.db"]


def test_a_newer_schema_version_is_refused_and_upgrade_is_idempotent(hospital: Hospital) -> None:
    store = parse_store_url(hospital.store_url)
    assert Ledger.upgrade(store) == (SCHEMA_VERSION, SCHEMA_VERSION)
    assert Ledger.upgrade(store) == (SCHEMA_VERSION, SCHEMA_VERSION)
    hospital.ledger.merkle_log.set_meta("schema_version", str(SCHEMA_VERSION + 1))
    with pytest.raises(ConfigurationError, match="newer Chartledger"):
        Ledger(store)
    with pytest.raises(ConfigurationError, match="newer Chartledger"):
        Ledger.upgrade(store)
    hospital.ledger.merkle_log.set_meta("schema_version", "0")
    with pytest.raises(ConfigurationError, match="chartledger upgrade"):
        Ledger(store)
    assert Ledger.upgrade(store) == (0, SCHEMA_VERSION)
    reopened = Ledger(store)
    assert reopened.verify().events >= 2
    reopened.close()


def test_upgrade_of_a_store_without_a_ledger_refuses_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "typo.db"
    with pytest.raises(ConfigurationError, match="There is no ledger"):
        Ledger.upgrade(parse_store_url(f"sqlite:///{path}"))
    assert not path.exists()


# -- several processes ----------------------------------------------------------------------


def _open_and_follow(url: str, home: str, barrier: Any, out: Any) -> None:
    """Open the ledger at the same moment as the others, and bring views up to date."""
    try:
        barrier.wait(timeout=60)
        ledger = LedgerHome(Path(home)).open(url)
        from projections.audit import caught_up_trail

        caught_up_trail(ledger)
        ledger.chart_index()
        ledger.close()
        out.put("ok")
    except BaseException as error:
        out.put(f"{type(error).__name__}: {error}")


def test_simultaneous_opens_do_not_collide_on_the_schema(hospital: Hospital) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(8), ctx.Queue()
    procs = [
        ctx.Process(
            target=_open_and_follow,
            args=(hospital.store_url, str(hospital.home.path), barrier, out),
        )
        for _ in range(8)
    ]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    assert results == ["ok"] * 8


def _write_patients(url: str, home: str, name: str, key: str, barrier: Any, out: Any) -> None:
    """Register patients as fast as possible, alongside the other writers."""
    saved: list[str] = []
    try:
        me = load_identity(name, Path(key))
        ledger = LedgerHome(Path(home)).open(url)
        barrier.wait(timeout=60)
        for i in range(PATIENTS_EACH):
            demographics = {
                "given_name": f"Writer{name[-1]}",
                "family_name": f"Patient{i}",
                "birth_date": date(1950 + i, 1, 1 + int(name[-1])),
            }
            saved.append(
                patients.register_patient(ledger, demographics, actor=me, likely_matches=[])
            )
            ledger.merkle_log.catch_up()
        ledger.close()
        out.put((name, saved, None))
    except BaseException as error:
        out.put((name, saved, f"{type(error).__name__}: {error}"))


def test_writers_in_several_processes_wait_for_each_other(
    hospital: Hospital, tmp_path: Path
) -> None:
    keys = tmp_path / "workstations"
    writers = []
    for n in range(WRITERS):
        name = f"clerk{n}"
        identity = hospital.enrol(name, ["technician"])
        write_key_file(identity, keys / f"{name}.key")
        writers.append(name)
    events_before = len(list(hospital.ledger.log_events()))
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(WRITERS), ctx.Queue()
    procs = [
        ctx.Process(
            target=_write_patients,
            args=(
                hospital.store_url,
                str(hospital.home.path),
                name,
                str(keys / f"{name}.key"),
                barrier,
                out,
            ),
        )
        for name in writers
    ]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    assert [error for _, _, error in results] == [None] * WRITERS
    mrns = [mrn for _, saved, _ in results for mrn in saved]
    assert len(mrns) == WRITERS * PATIENTS_EACH
    assert len(set(mrns)) == len(mrns)
    ledger = hospital.reopen()
    registered = [e for e in ledger.log_events() if e.topic == PATIENT_REGISTERED]
    assert len(registered) == WRITERS * PATIENTS_EACH  # no event lost
    report = ledger.verify()
    assert report.events == len(list(ledger.log_events())) > events_before


# -- PostgreSQL: the connection lost mid-command ------------------------------------------------


def _pg(url: str) -> Any:
    import psycopg

    return psycopg.connect(url.split("?")[0], autocommit=True)


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)  # a PostgreSQL condition
def test_a_connection_lost_mid_command_gives_one_sentence_and_a_retry_works(
    hospital: Hospital,
) -> None:
    ledger = hospital.reopen()
    clerk = hospital.enrol("clerk", ["technician"])
    events = ledger.recorder.max_notification_id()
    schema = parse_store_url(hospital.store_url).schema
    blocker = _pg(hospital.store_url)
    blocker.execute("BEGIN")
    blocker.execute(f'LOCK TABLE "{schema}"."chartledger_events" IN ACCESS EXCLUSIVE MODE')
    killed: list[int] = []

    def terminate_the_waiting_command() -> None:
        with _pg(hospital.store_url) as admin:
            for _ in range(100):
                rows = admin.execute(
                    "SELECT pid FROM pg_stat_activity WHERE wait_event_type='Lock' "
                    "AND datname=current_database() AND pid <> pg_backend_pid()"
                ).fetchall()
                if rows:
                    for (pid,) in rows:
                        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
                        killed.append(pid)
                    return
                time.sleep(0.05)

    killer = threading.Thread(target=terminate_the_waiting_command)
    killer.start()
    demographics = {"given_name": "Lost", "family_name": "Line", "birth_date": date(1970, 1, 1)}
    with pytest.raises(LedgerError) as caught:
        patients.register_patient(ledger, demographics, actor=clerk, likely_matches=[])
    killer.join()
    blocker.execute("ROLLBACK")
    blocker.close()
    assert killed, "the command never waited on the lock"
    assert isinstance(caught.value, StoreUnavailable)
    assert "\n" not in str(caught.value) and "Lost" not in str(caught.value)
    assert ledger.recorder.max_notification_id() == events  # nothing half-written
    for _ in range(3):  # the pool may still hold a dead connection or two: a retry works
        try:
            mrn = patients.register_patient(ledger, demographics, actor=clerk, likely_matches=[])
            break
        except StoreUnavailable:
            continue
    else:
        pytest.fail("the ledger did not recover once the database was back")
    assert mrn
    assert ledger.verify().events == len(list(ledger.log_events()))


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)  # a PostgreSQL privilege
def test_an_open_runs_no_ddl_a_role_without_create_can_work(hospital: Hospital) -> None:
    """Opening, writing and verifying need no CREATE privilege: the schema was made at init."""
    store = parse_store_url(hospital.store_url)
    clerk = hospital.enrol("clerk", ["technician"])
    role = f"cl_worker_{store.schema[3:]}"
    with _pg(hospital.store_url) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        admin.execute(f'GRANT USAGE ON SCHEMA "{store.schema}" TO "{role}"')
        admin.execute(f'GRANT ALL ON ALL TABLES IN SCHEMA "{store.schema}" TO "{role}"')
        admin.execute(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA "{store.schema}" TO "{role}"')
    try:
        url = hospital.store_url.replace("://postgres@", f"://{role}@", 1)
        assert url != hospital.store_url
        ledger = Ledger(parse_store_url(url), master_key=hospital.home.master_key())
        demographics = {"given_name": "No", "family_name": "Ddl", "birth_date": date(1980, 2, 2)}
        assert patients.register_patient(ledger, demographics, actor=clerk, likely_matches=[])
        assert ledger.verify().events == len(list(ledger.log_events()))
        ledger.close()
    finally:
        with _pg(hospital.store_url) as admin:
            admin.execute(f'DROP OWNED BY "{role}"')
            admin.execute(f'DROP ROLE "{role}"')
