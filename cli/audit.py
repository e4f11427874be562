"""`chartledger audit …`: the confidentiality audit trail (issue 4; being built)."""

from __future__ import annotations

import click


@click.group("audit")
def audit() -> None:
    """Who saw, changed or disclosed which record, when and why."""
