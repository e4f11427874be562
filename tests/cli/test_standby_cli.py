"""`--read-db`: reports read a hot standby and record their access on the primary.

On SQLite (no standby there) `--read-db` is refused in one sentence; on PostgreSQL the standby
of `tests/integration/test_standby.py` (skipped, with the reason, when there is none, unless
`CHARTLEDGER_REQUIRE_STANDBY=1`) is read.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.stores.database import parse_store_url
from tests.cli.test_cli import Chartledger
from tests.integration.test_standby import _stored, _wait_for_replay, _with_schema
from tests.integration.test_standby import standby as standby  # the fixture


def _events(run: Chartledger) -> int:
    from ledger.home import LedgerHome

    with LedgerHome(run.home).open(run.store_url) as ledger:
        return ledger.recorder.max_notification_id() or 0


def test_reports_read_the_standby_and_record_on_the_primary(
    clinic: tuple[Chartledger, str], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    run, mrn = clinic
    run.enrol("privacy1", "compliance-officer")
    if parse_store_url(run.store_url).kind == "sqlite":
        before = _events(run)
        result = run(
            "audit", "patient", mrn, "--purpose", "operations",
            "--read-db", "sqlite:///elsewhere.db", actor="privacy1", ok=False,
        )  # fmt: skip
        assert "needs a PostgreSQL standby" in result.output
        assert _events(run) == before
        return
    standby = request.getfixturevalue("standby")
    read_db = _with_schema(standby, parse_store_url(run.store_url).schema)
    run("audit", "patient", mrn, "--purpose", "operations", actor="privacy1")  # view built
    _wait_for_replay(standby)
    before = _events(run)

    shown = run(
        "audit", "patient", mrn, "--purpose", "operations", "--read-db", read_db, actor="privacy1"
    )
    assert "registered" in shown.output or mrn in shown.output
    assert "Read from the standby" in shown.output and "what this command recorded" in shown.output
    assert _events(run) == before + 1  # the audit read, recorded on the primary

    verified = run("verify", "--read-db", read_db)
    assert f"Verified {parse_store_url(read_db).display}" in verified.output
    assert _events(run) == before + 1  # verify records nothing

    folder = tmp_path / "export"
    run("export", str(folder), "--purpose", "outside audit", "--read-db", read_db)
    checked = run("verify", "--export", str(folder))
    assert "every event in it is under that signed root" in checked.output
    assert _events(run) > before + 1  # the export's record, on the primary

    # The worklists read the standby too; the marks they keep there are left to replication.
    run.enrol("him1", "him-director")
    worklists = (
        (("deficiency", "list"), "him1"),
        (("code", "worklist", "--purpose", "operations"), "coder1"),
    )
    for args, actor in worklists:
        run(*args, actor=actor)  # their views built on the primary
    _wait_for_replay(standby)
    for args, actor in worklists:
        listed = run(*args, "--read-db", read_db, actor=actor)
        assert "Read from the standby" in listed.output, listed.output
    refused = run("verify", "--read-db", run.store_url, ok=False)
    assert "is not a standby in recovery" in refused.output
    assert len(_stored(run.store_url)) == _events(run)
