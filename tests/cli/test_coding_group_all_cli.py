"""`chartledger code group-all` on every store: one line of counts (no MRN), the stays it did not
group by encounter id, nothing to do said so, `--again`, `--json`, and refusals that write
nothing."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_cli import Chartledger
from tests.rawdb import RawDB


def _events(run: Chartledger) -> int:
    db = RawDB(run.store_url)
    return int(db._run(f"SELECT COUNT(*) FROM {db.events}", fetch=True)[0][0])


def _stay(run: Chartledger, mrn: str, day: int) -> str:
    out = run(
        "encounter", "admit", mrn, "--attending", "dr1", "--service", "medicine",
        "--at", f"2026-03-{day:02d}T08:00+00:00", actor="tech1",
    ).output  # fmt: skip
    encounter = out.split("encounter ")[1].split()[0]
    run("encounter", "discharge", encounter, "--disposition", "home",
        "--at", f"2026-03-{day + 3:02d}T11:00+00:00", actor="tech1")  # fmt: skip
    return encounter


@pytest.fixture
def stays(clinic: tuple[Chartledger, str]) -> tuple[Chartledger, str, str, str]:
    """Ada's two stays: the first coded with a principal diagnosis, the second without one."""
    run, mrn = clinic
    first, second = _stay(run, mrn, 2), _stay(run, mrn, 10)
    run("code", "dx", first, "I50.21", "--poa", "Y", "--principal", actor="coder1")
    run("code", "dx", first, "N17.9", "--poa", "Y", actor="coder1")
    run("code", "dx", second, "E11.65", "--poa", "Y", actor="coder1")
    return run, mrn, first, second


def test_group_all_prints_counts_and_names_no_stay(
    stays: tuple[Chartledger, str, str, str],
) -> None:
    run, mrn, _, second = stays
    before = _events(run)
    out = run("code", "group-all", actor="coder1").output
    assert out.strip() == (
        "Grouped 1 of 2 stays in 1 save; 1 not grouped ('code worklist' lists them, "
        "'code group' says why)."
    )
    # It recorded no access, so it names no stay: neither the MRN nor the encounter.
    assert mrn not in out and second not in out and _events(run) == before + 1
    why = run("code", "group", second, actor="coder1", ok=False).output
    assert "no principal diagnosis" in why
    out = run("code", "group-all", "--to", "2026-03-08", actor="coder1").output
    assert out.strip().startswith("No stays to group")
    out = run("code", "group-all", "--to", "2026-03-08", "--again", actor="coder1").output
    assert out.strip() == "Grouped 1 of 1 stays in 1 save."
    data = json.loads(run("code", "group-all", "--again", "--json", actor="coder1").output)
    assert data == {"grouped": 1, "saves": 1, "not_grouped": 1}
    assert _events(run) == before + 3


def test_group_all_refusals_write_nothing(stays: tuple[Chartledger, str, str, str]) -> None:
    run = stays[0]
    before = _events(run)
    for args, actor, words in (
        (("code", "group-all"), "tech1", "coder"),
        (("code", "group-all", "--from", "2026-13-01"), "coder1", "is not a date"),
    ):
        result = run(*args, actor=actor, ok=False)
        lines = result.output.strip().splitlines()
        assert result.exit_code != 0 and len(lines) == 1, result.output
        assert lines[0].startswith("Error: ") and words in lines[0], result.output
    assert _events(run) == before
