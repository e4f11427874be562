"""`chartledger policy …`: the access policy configuration, as signed events (issue 4)."""

from __future__ import annotations

import click


@click.group("policy")
def policy() -> None:
    """The access policy: show it, load a new version (a signed event), its history."""
