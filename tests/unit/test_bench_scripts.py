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
    listed = {"statistics.py", "append.py", "cli_help.py", "cli_start.py", "coding.py"}
    assert listed | {"worklists.py"} <= set(SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_the_script_starts(script: str) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), "--help"],
        capture_output=True, text=True, timeout=120, cwd=BENCH.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage" in done.stdout.lower(), done.stdout[:500]


def test_the_mpi_scale_bench_runs_at_a_tiny_size() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "mpi_scale.py"), "--sizes", "50", "--runs", "2",
         "--store", "sqlite"],
        capture_output=True, text=True, timeout=300, cwd=BENCH.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "sqlite" in done.stdout and "50" in done.stdout, done.stdout[-2000:]


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


@pytest.mark.parametrize(
    "script, options",
    [
        ("hospital.py", ["--patients", "20", "--events", "300", "--chunk", "20"]),
        ("scale.py", ["--events", "300", "--samples", "2", "--rounds", "1"]),
    ],
)
def test_the_generator_and_the_scale_bench_run_at_a_tiny_size(
    script: str, options: list[str]
) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), "--store", "sqlite", *options],
        capture_output=True, text=True, timeout=300, cwd=BENCH.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "events" in done.stdout
    if script == "scale.py":
        goals = [line for line in done.stdout.splitlines() if line.startswith("GOAL ")]
        assert len(goals) == 9 and all(line.endswith("MET") for line in goals), goals
