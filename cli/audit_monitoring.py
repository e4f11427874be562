"""`chartledger audit alerts` and `audit review`: access monitoring (issue 4; being built)."""

from __future__ import annotations

COMMANDS: list[object] = []
"""The click commands this module adds to the `audit` group."""
