"""`chartledger roi …`: release of information and the accounting of disclosures (issue 4)."""

from __future__ import annotations

import click


@click.group("roi")
def roi() -> None:
    """Release of information: requests, validation, release, accounting of disclosures."""
