"""Fixtures for CLI tests: a ledger home with staff and one registered patient."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ledger.commands import patients
from ledger.home import LedgerHome
from tests.cli.test_cli import Chartledger

ADA = {"given_name": "Ada", "family_name": "Okafor", "birth_date": date(1961, 4, 2)}


@pytest.fixture
def clinic(store_url: str, tmp_path: Path) -> tuple[Chartledger, str]:
    run = Chartledger(tmp_path / "home", store_url)
    run("init", "--no-passphrase")
    run.enrol("tech1", "technician")
    run.enrol("coder1", "coder")
    run.enrol("dr1", "physician")
    home = LedgerHome(run.home)
    tech = run.identity("tech1")
    with home.open(store_url) as ledger:
        mrn = patients.register_patient(ledger, ADA, actor=tech, likely_matches=[])
    return run, mrn
