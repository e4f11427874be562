"""Printing: a table for people, `--json` for programs; `rich` is imported only for a table.

Stored values (names, texts, reasons) may hold anything a past version accepted; every table cell
and every line printed through `say` is escaped (`policies.limits.escape`), so a newline cannot
forge a line, an ESC cannot drive the terminal, and `[markup]` is printed as typed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import click

from policies.limits import escape

json_option = click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
"""--json: every listing prints its rows as JSON too (`emit_json`), the access recorded the same."""


def utc(moment: datetime | None) -> str | None:
    """A time in a JSON row: ISO 8601 in UTC (None stays None)."""
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def emit_json(data: Any) -> None:
    # JSON escapes control characters itself; ensure_ascii keeps invalid UTF-8 printable.
    click.echo(json.dumps(data, indent=2, default=str))


def say(line: str) -> None:
    """Echo one line with its stored values escaped (leading blank lines are kept as ours)."""
    text = line.lstrip("\n")
    click.echo(line[: len(line) - len(text)] + escape(text))


def table(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    wrap: Sequence[str] = (),
) -> None:
    """A table of escaped cells; the columns named in `wrap` (long lists in words) wrap at
    60 characters instead of stretching the table."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    click.echo(escape(title))
    grid = Table()
    for column in columns:
        grid.add_column(column, max_width=60 if column in wrap else None)
    for row in rows:
        grid.add_row(*(Text(escape(cell)) for cell in row))
    # On a terminal rich fits the table to the screen; piped, it keeps every cell whole.
    console = Console() if sys.stdout.isatty() else Console(width=1000)
    console.print(grid)


def note_withheld(rows: object, what: str = "line") -> None:
    """Under a list: how many rows the access policy left out (on stderr, so --json stays JSON)."""
    line = getattr(rows, "withheld_line", None)
    note = line(what) if callable(line) else None
    if note:
        click.echo(note, err=True)
