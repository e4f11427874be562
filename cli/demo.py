"""`chartledger demo`: a small hospital's ledger at work, start to finish, on SQLite."""

from __future__ import annotations

import click


@click.command()
def demo() -> None:
    """Seed a small hospital and walk through the ledger's main commands."""
    raise NotImplementedError
