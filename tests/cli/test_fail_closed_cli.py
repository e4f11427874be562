"""Fail closed: when the access event cannot be written, nothing is shown (every store)."""

from __future__ import annotations

from tests.cli.test_cli import Chartledger
from tests.rawdb import RawDB


def test_a_read_whose_access_cannot_be_recorded_shows_nothing(
    clinic: tuple[Chartledger, str],
) -> None:
    run, mrn = clinic
    shown = run("patient", "show", mrn, "--purpose", "operations", actor="tech1").output
    assert "Okafor" in shown
    raw = RawDB(run.store_url)
    before = raw.rows()
    raw.refuse_inserts("chartledger/access/")
    for command in (
        ("patient", "show", mrn, "--purpose", "operations"),
        ("chart", "show", mrn, "--purpose", "operations"),
        ("chart", "history", mrn, "--purpose", "operations"),
        ("patient", "find", "Okafor", "--purpose", "operations"),
    ):
        result = run(*command, actor="tech1", ok=False)
        assert "Okafor" not in result.output and "Ada" not in result.output
        assert result.output.startswith("Error: The ledger store refused the write")
        assert result.output.count("\n") == 1 and result.exit_code == 3
    assert raw.rows() == before
