"""Every bench script starts (`--help`) as the README runs it, `python bench/X.py`: with the
bench's folder first on sys.path, where `bench/statistics.py` (the name issue 13 gives it) sits
beside scripts that import the standard library's `statistics`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
NOT_SCRIPTS = {"common.py", "coding_ledger.py", "hospital_year.py", "hospital_statistics.py"}
"""Modules the scripts import."""
NO_OPTIONS = {"keys.py", "mpi.py"}
"""Scripts that take no options: `--help` would run their whole measurement."""
SCRIPTS = sorted(p.name for p in BENCH.glob("*.py") if p.name not in NOT_SCRIPTS | NO_OPTIONS)


def test_every_script_is_listed() -> None:
    assert {"statistics.py", "append.py", "cli_help.py", "coding.py", "worklists.py"} <= set(
        SCRIPTS
    )


@pytest.mark.parametrize("script", SCRIPTS)
def test_the_script_starts(script: str) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), "--help"],
        capture_output=True, text=True, timeout=120, cwd=BENCH.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage" in done.stdout.lower(), done.stdout[:500]


def test_a_sibling_gets_the_standard_librarys_statistics() -> None:
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); import statistics; "
        "print(statistics.median([3, 1, 2]), statistics.__file__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(BENCH)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    value, path = done.stdout.split()
    assert value == "2" and Path(path).parent != BENCH
