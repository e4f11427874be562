"""The SQLite database is its owner's only, whatever the umask of the process that made it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ledger.home import LedgerHome


def test_a_new_sqlite_ledger_and_its_wal_are_0600_under_a_permissive_umask(
    tmp_path: Path,
) -> None:
    old = os.umask(0o022)
    try:
        database = tmp_path / "store" / "ledger.db"
        ledger, _ = LedgerHome(tmp_path / "home").initialise(
            admin="admin", origin="modes.hospital/ledger", db=f"sqlite:///{database}"
        )
        try:
            made = [database, *(Path(f"{database}{s}") for s in ("-wal", "-shm"))]
            present = [p for p in made if p.exists()]
            assert database in present
            assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in present} == {
                p.name: 0o600 for p in present
            }
            assert stat.S_IMODE((tmp_path / "store").stat().st_mode) == 0o700
        finally:
            ledger.close()
    finally:
        os.umask(old)
