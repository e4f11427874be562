"""The ledger's commands for encounters and chart entries (filled in by the charting work)."""

from __future__ import annotations


class ChartCommands:
    """Mixed into `Ledger`."""
