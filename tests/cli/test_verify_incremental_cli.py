"""`chartledger verify --record` and `--since-last`: a nightly verify reads only the new events."""

from __future__ import annotations

import json

from tests.cli.test_cli import Chartledger
from tests.rawdb import RawDB


def test_a_recorded_verification_is_resumed(clinic: tuple[Chartledger, str]) -> None:
    run, _ = clinic
    first = json.loads(run("verify", "--record", "--json").output)
    assert first["since"] == 0 and first["recorded"]
    run.enrol("nurse1", "nurse")
    second = json.loads(run("verify", "--since-last", "--record", "--json").output)
    assert second["since"] == first["tree_size"]
    assert second["events"] == len(RawDB(run.store_url).rows()) - 1 - first["tree_size"]
    text = run("verify", "--since-last").output
    assert f"Resumed at log position {second['tree_size']}" in text
    full = json.loads(run("verify", "--json").output)
    assert full["since"] == 0 and full["recorded"] is None and full["root"]


def test_recording_needs_a_key_and_a_database(clinic: tuple[Chartledger, str]) -> None:
    run, _ = clinic
    before = RawDB(run.store_url).rows()
    refused = run("verify", "--record", actor=None, ok=False)
    assert refused.exit_code != 0 and len(refused.output.strip().splitlines()) == 1
    refused = run("verify", "--since-last", "--export", str(run.home), ok=False)
    assert "not a folder" in refused.output and refused.exit_code == 2
    assert RawDB(run.store_url).rows() == before


def test_only_those_answering_for_integrity_record_a_verification(
    clinic: tuple[Chartledger, str],
) -> None:
    """A technician may verify, but not sign the attestation the next --since-last builds on:
    one sentence, refused before the work, nothing written."""
    run, _ = clinic
    before = RawDB(run.store_url).rows()
    assert run("verify", actor="tech1").exit_code == 0
    refused = run("verify", "--record", actor="tech1", ok=False)
    lines = refused.output.strip().splitlines()
    assert len(lines) == 1 and "may record a verification" in lines[0], refused.output
    assert "Verified" not in refused.output
    assert RawDB(run.store_url).rows() == before
    run.enrol("privacy1", "compliance-officer")
    assert json.loads(run("verify", "--record", "--json", actor="privacy1").output)["recorded"]
