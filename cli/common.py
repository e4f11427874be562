"""Options shared by the commands that show patient data: the purpose of use, break-the-glass."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

PURPOSES = (
    "treatment",
    "payment",
    "operations",
    "legal",
    "patient-request",
    "research",
    "public-health",
)


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


def why(purpose: str, break_glass: str | None) -> Any:
    from projections.queries import Purpose

    return Purpose(purpose, break_glass)
