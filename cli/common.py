"""Options shared by commands: the purpose of use and break-the-glass of those that show patient
data, and `--force` of those that write a file or folder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from policies.purposes import PURPOSES


def purpose_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--purpose (required: every read records why) and --break-glass REASON."""
    command = click.option(
        "--break-glass",
        "break_glass",
        metavar="REASON",
        help="Emergency access outside your role's purposes (always reviewed).",
    )(command)
    return click.option(
        "--purpose",
        envvar="CHARTLEDGER_PURPOSE",
        type=click.Choice(PURPOSES),
        required=True,
        help="Why you are looking (recorded with the access). Env: CHARTLEDGER_PURPOSE.",
    )(command)


force_option = click.option(
    "--force", is_flag=True, help="Replace an existing file or write into a non-empty folder."
)
"""--force: a command that writes a file refuses an existing one (or a full folder) without it."""


def why(purpose: str, break_glass: str | None) -> Any:
    from projections.queries import Purpose

    return Purpose(purpose, break_glass)
