"""Arbitrary text in every free-text option and argument of every command (issue 10): never a
traceback, exit 0 or one sentence, no partial write, and `verify` passes at the end.

The parameters are found by walking the CLI's own command tree, so a new command or option is
fuzzed without anyone adding it here.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.main import cli
from tests.cli.test_cli import Chartledger
from tests.cli.tree import command_at, subcommands
from tests.rawdb import RawDB

SKIPPED_COMMANDS = {("demo",), ("log", "follow")}  # a long tour; a worker that runs forever
ALSO = {  # optional parameters a command needs one of to get past its first check
    ("patient", "correct"): ("street",),
    ("roi", "request"): ("purpose",),
}
SHARED = {"_home_path", "_db", "_actor", "_key_file"}  # where the store is, not free text

HOSTILE = [
    "",
    "\udcff\udcfe",
    "Ada\x00",
    "\x1b[2J\x1b[31mred",
    "Eve\nMR0000001  Forged, Line",
    "=cmd|' /C calc'!A0",
    "NaN",
    "-inf",
    "x" * 200_001,
    "../../etc/passwd",
    "\u202egnp.exe",
    "'; DROP TABLE stored_events; --",
    "[bold]markup[/bold]",
    "\t\r\n",
]
TEXTS = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=50),
    st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, categories=None), max_size=50),
)


def _commands(
    group: click.Group, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in subcommands(group):
        here = (*path, name)
        if here in SKIPPED_COMMANDS:
            continue
        if isinstance(command, click.Group):
            yield from _commands(command, here)
        else:
            yield here, command


def _is_text(param: click.Parameter) -> bool:
    return isinstance(param.type, click.types.StringParamType) and param.name not in SHARED


TARGETS = [
    (path, param.name)
    for path, command in _commands(cli)
    for param in command.params
    if _is_text(param) and param.name is not None
]


class Prepared:
    """A ledger with a patient, an encounter, an entry, a document and a release request."""

    def __init__(self, run: Chartledger, mrn: str, tmp_path: Path) -> None:
        self.run, self.tmp = run, tmp_path
        run.enrol(
            "all",
            "technician",
            "physician",
            "roi-specialist",
            "compliance-officer",
            "him-director",
            "coder",
        )
        out = run(
            "encounter", "admit", mrn, "--attending", "all", "--service", "medicine", actor="tech1"
        ).output
        self.encounter = out.split(" encounter ")[1].split()[0]
        out = run(
            "chart", "add", self.encounter, "--kind", "history", "--text", "well", actor="all"
        ).output
        self.entry = out.split()[-1]
        out = run(
            "query", "raise", self.encounter, "--physician", "all", "--indicator", self.entry,
            "--question", "What condition does the history support?", "--option", "Asthma",
            "--option", "COPD", "--option", "Other", "--option", "Clinically undetermined",
            actor="all",
        ).output  # fmt: skip
        self.query = out.split("Raised query ")[1].split()[0]
        run("query", "send", self.query, actor="all")
        scan = tmp_path / "scan.txt"
        scan.write_text("scan")
        self.input_file = scan
        out = run("chart", "file", mrn, str(scan), "--kind", "other", actor="tech1").output
        self.document = out.split("document ")[1].split()[0]
        out = run(
            "roi",
            "request",
            mrn,
            "--requester-kind",
            "patient",
            "--requester",
            "p",
            "--asks",
            "all",
            "--purpose",
            "patient-request",
            actor="all",
        ).output
        self.request = out.split("release request ")[1].split()[0]
        run("unit", "open", "4W", "--name", "Four West", "--beds", "10", "--from", "2026-01-01",
            actor="all")  # fmt: skip
        rows = run("audit", "patient", mrn, "--json", actor="all").output
        self.event = rows.split('"event": "')[1].split('"')[0]
        self.baseline = {
            "mrn": mrn,
            "survivor": mrn,
            "retired": mrn,
            "to_mrn": mrn,
            "encounter_id": self.encounter,
            "encounter": self.encounter,
            "entry": self.entry,
            "reference": self.entry,
            "document_id": self.document,
            "request_id": self.request,
            "event": self.event,
            "name": "all",
            "attending": "all",
            "physician": "all",
            "as_of": "now",
            "start": "2026-01-01T00:00",
            "end": "now",
            "roles": "technician",
            "text": "note",
            "reason": "a reason",
            "barcode": "B1",
            "key": mrn,
            "discrepancy_id": self.request,
            "description": "d",
            "analysis": "a",
            "query_id": self.query,
            "indicators": self.entry,
            "question": "What condition does the history support?",
            "diagnosis": "I50.21",
            "old": "I50.21",
            "new": "I50.21",
            "poa": "Y",
            "principal": "I50.21",
            "procedure": "02HV33Z",
            "on": date.today().isoformat(),
            "surgeon": "all",
            "since": "2026-01-01",
            "until": date.today().isoformat(),
            "unit_code": "4W",
            "effective_from": date.today().isoformat(),
        }
        self.outputs = itertools.count()

    def events(self) -> int:
        db = RawDB(self.run.store_url)
        return int(db._run(f"SELECT COUNT(*) FROM {db.events}", fetch=True)[0][0])

    def value(self, param: click.Parameter) -> str:
        if isinstance(param.type, click.Choice):
            return str(param.type.choices[0])
        if isinstance(param.type, click.Path):
            if param.name in ("out", "html_path"):
                return str(self.tmp / f"out-{next(self.outputs)}")  # a new file or folder
            if param.name == "path" or (param.type.file_okay and not param.type.dir_okay):
                return str(self.input_file)
            return str(self.tmp / f"out-{next(self.outputs)}")  # a new folder
        if isinstance(param.type, click.types.IntParamType | click.types.FloatParamType):
            return "1"
        return self.baseline.get(param.name or "", "x")

    def args(
        self, path: tuple[str, ...], command: click.Command, target: str, text: str
    ) -> list[str]:
        args = list(path)
        for param in command.params:
            if param.name in SHARED:
                continue
            if param.name == target:
                value = text
            elif param.required or isinstance(param, click.Argument):
                value = self.value(param)
            elif param.name in ALSO.get(path, ()):
                value = self.value(param)
            else:
                continue
            if isinstance(param, click.Argument):
                args.append(value)
            elif isinstance(param, click.Option) and not param.is_flag:
                args += [param.opts[0], value]
        return args


def _command(path: tuple[str, ...]) -> click.Command:
    return command_at(path)


EXITS: dict[int, int] = {}


def _check(prepared: Prepared, path: tuple[str, ...], target: str, text: str) -> None:
    """One command with `text` in `target`: the properties the module's docstring names."""
    actor = "admin" if path[0] in ("user", "init") else "all"
    env = {
        "CHARTLEDGER_HOME": str(prepared.run.home_of(actor)),  # each person's own home
        "CHARTLEDGER_DB": prepared.run.store_url,
        "CHARTLEDGER_USER": actor,
    }
    args = prepared.args(path, _command(path), target, text)
    before = prepared.events()
    result = CliRunner().invoke(cli, args, env=env, catch_exceptions=True)
    EXITS[result.exit_code] = EXITS.get(result.exit_code, 0) + 1
    where = f"{' '.join(path)} {target}={text[:40]!r}"
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        where,
        result.exc_info,
    )
    assert "Traceback" not in result.output, where
    if result.exit_code != 0:
        last = result.output.strip().splitlines()[-1]
        assert last.startswith("Error: "), (where, result.output)
        if result.exit_code != 4:  # a refusal records the denial; nothing else writes
            assert prepared.events() == before, (where, result.output)


def _fuzz(prepared: Prepared, examples: int) -> None:
    for path, target in TARGETS:
        _property(prepared, path, target, examples)()


def _property(
    prepared: Prepared, path: tuple[str, ...], target: str, examples: int
) -> Callable[[], None]:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(text=TEXTS)
    def one(text: str) -> None:
        _check(prepared, path, target, text)

    return one


@pytest.mark.parametrize("examples", [pytest.param(10, id="ten")])
def test_every_free_text_parameter_ends_cleanly(
    clinic: tuple[Chartledger, str], tmp_path: Path, examples: int
) -> None:
    run, mrn = clinic
    assert len(TARGETS) > 100  # the walk found the commands' text parameters
    prepared = Prepared(run, mrn, tmp_path)
    on_pg = run.store_url.startswith("postgresql")
    old = os.getcwd()
    os.chdir(tmp_path)  # a relative path given as text lands here
    try:
        _fuzz(prepared, 3 if on_pg else examples)
    finally:
        os.chdir(old)
    assert "verified" in run("verify").output.lower()
    assert EXITS.get(0, 0) >= len(TARGETS) // 3  # the fuzzed text reached real work
