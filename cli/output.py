"""Printing: a table for people, `--json` for programs; `rich` is imported only for a table."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import click


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    click.echo(title)
    grid = Table()
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*("" if cell is None else str(cell) for cell in row))
    # On a terminal rich fits the table to the screen; piped, it keeps every cell whole.
    console = Console() if sys.stdout.isatty() else Console(width=1000)
    console.print(grid)
