"""The one place the ledger reads the time.

Commands read it through `Ledger.now()` (aware, UTC) and pass the moment down; policies never
read a clock, they are given `now`. A test or a replay may give a `Ledger` another clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime


def utc_now() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(UTC)


def utc_today() -> date:
    """Today's date in UTC (the ledger's day; a hospital's own time zone is for display)."""
    return utc_now().date()
