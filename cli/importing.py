"""`chartledger import …`: records from other systems, each once however often it is run."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cli.main import Session, pass_session

if TYPE_CHECKING:
    from ledger.interfaces.fhir_import import ImportReport

_PHASES = {"checking": "Checking the export", "importing": "Importing"}


@click.group("import")
def import_group() -> None:
    """Load records exported by other systems (each record once, however often it is run)."""


@import_group.command("fhir")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option(
    "--attending-default",
    "attending",
    required=True,
    metavar="NAME",
    help="An enrolled physician to be the attending of every imported encounter (the "
    "source's practitioner is kept in the encounter's service text).",
)
@pass_session
def fhir(session: Session, folder: Path, attending: str) -> None:
    """Import a FHIR R4 bulk export: the .ndjson files in FOLDER, signed by --as (an interface).

    Every line is checked before anything is written; a bad line stops the import with its file
    and line number. Prints counts and MRNs only.
    """
    from ledger.commands import access
    from ledger.interfaces.fhir_import import import_fhir

    actor = session.identity()
    with session.ledger() as ledger, _progress() as progress:
        report = import_fhir(ledger, folder, actor=actor, attending=attending, progress=progress)
        if report.mrns:  # the crosswalk printed below names patients: recorded as shown first
            access.record_access(
                ledger,
                sorted(set(report.mrns.values())),
                actor=actor,
                action="query",
                sections=["demographics"],
                purpose="operations",
            )
    for line in summary(report, actor.name):
        click.echo(line)


def summary(report: ImportReport, actor: str) -> list[str]:
    """The import's result as sentences: counts and MRNs, never a name."""
    lines = [f"Checked {report.lines:,} resources in {len(report.files)} files."]
    imported = sum(report.imported.values())
    if imported:
        entries = ", ".join(f"{kind} {n:,}" for kind, n in sorted(report.entries.items()))
        history = (
            f" (and {report.history_encounters} imported-history encounters)"
            if report.history_encounters
            else ""
        )
        lines.append(
            f"Imported {report.imported['Patient']:,} patients, "
            f"{report.imported['Encounter']:,} encounters{history}, "
            f"{sum(report.entries.values()):,} chart entries ({entries or 'none'}) and "
            f"{report.documents:,} documents: {report.events:,} events signed by {actor}."
        )
    else:
        lines.append("Nothing new to import: no records were written.")
    already = sum(report.already.values())
    if already:
        lines.append(f"Already imported before, left as they were: {already:,} resources.")
    if report.skipped:
        kinds = ", ".join(f"{kind} {n:,}" for kind, n in sorted(report.skipped.items()))
        lines.append(f"Skipped (types this import does not take): {kinds}.")
    if report.practitioners:
        lines.append(f"Read the names of {report.practitioners:,} practitioners.")
    if report.mrns:
        new = set(report.new_mrns)
        listed = ", ".join(
            f"{mrn} (Patient/{pid}{', new' if mrn in new else ''})"
            for pid, mrn in report.mrns.items()
        )
        lines.append(f"MRNs: {listed}.")
    return lines


@contextmanager
def _progress() -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar on a terminal; otherwise a plain count of what was imported."""
    if not sys.stdout.isatty():
        shown: dict[str, int] = {}

        def count(phase: str, done: int, total: int) -> None:
            # Only the import is counted: a failed check then prints its one sentence alone.
            step = max(total // 10, 1)
            if phase == "importing" and (done == total or done // step > shown.get(phase, 0)):
                shown[phase] = done // step
                click.echo(f"{_PHASES[phase]}: {done:,}/{total:,} resources")

        yield count
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), transient=True
    ) as bar:
        tasks = {}

        def update(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(_PHASES.get(phase, phase), total=total)
            bar.update(tasks[phase], completed=done, total=total)

        yield update
