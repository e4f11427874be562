"""A PostgreSQL hot standby as the place reports read (`--read-db URL`).

A standby is read-only: its ledger tables, the Merkle log and the views are exactly the
primary's, as far as it has replayed the primary's WAL. So a report read there neither admits
events to the log nor catches a view up: it reads what was replicated, and says how far behind
the primary that is (`Lag`). What a report must record (its access events, an export's checkpoint)
is written on the primary. `check_standby` refuses, in one sentence, a read store that is not a
standby in recovery, cannot be reached, or holds another ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.errors import ConfigurationError, StoreUnavailable
from ledger.stores.database import StoreURL, _pg_connect


@dataclass(frozen=True)
class Lag:
    """How far the standby's copy is behind the primary when a report reads it."""

    standby_log: int
    """Events stored on the standby (the last notification id it has replayed)."""
    primary_log: int
    """Events stored on the primary at the same moment."""
    replayed_at: datetime | None
    """When the last transaction the standby replayed was committed on the primary."""

    @property
    def events_behind(self) -> int:
        return max(0, self.primary_log - self.standby_log)

    def sentence(self, display: str) -> str:
        replayed = (
            f"; last replayed a transaction committed at {self.replayed_at:%Y-%m-%d %H:%M:%S}Z"
            if self.replayed_at
            else ""
        )
        return (
            f"Read from the standby {display}: it holds {self.standby_log} of the primary's "
            f"{self.primary_log} events ({self.events_behind} behind){replayed}; what this "
            "command recorded (if anything) went to the primary."
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "standby_log": self.standby_log,
            "primary_log": self.primary_log,
            "events_behind": self.events_behind,
            "replayed_at": self.replayed_at.isoformat() if self.replayed_at else None,
        }


def check_standby(standby: StoreURL, primary: StoreURL) -> None:
    """Refuse a read store that is not a PostgreSQL standby in recovery, or is unreachable.
    (That it holds the same ledger is checked once both are open: `same_ledger`.)"""
    if standby.kind != "postgresql" or primary.kind != "postgresql":
        raise ConfigurationError(
            "--read-db needs a PostgreSQL standby of a PostgreSQL ledger; nothing was read."
        )
    try:
        with _pg_connect(standby) as conn:
            row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
    except StoreUnavailable:
        raise StoreUnavailable(
            f"The standby at {standby.display} cannot be reached; nothing was read."
        ) from None
    if not row or not row[0]:
        raise ConfigurationError(
            f"The database at {standby.display} is not a standby in recovery (a primary, or a "
            "promoted one); give it as --db, or give a standby as --read-db."
        )


def same_ledger(
    standby: StoreURL, primary: StoreURL, found: tuple[str, bytes], wanted: tuple[str, bytes]
) -> None:
    """The standby's (origin, genesis event) must be the primary's."""
    if found != wanted:
        raise ConfigurationError(
            f"The standby at {standby.display} holds another ledger than {primary.display} "
            "(its origin or genesis differs); nothing was read."
        )


def replayed_at(standby: StoreURL) -> datetime | None:
    with _pg_connect(standby) as conn:
        row = conn.execute("SELECT pg_last_xact_replay_timestamp()").fetchone()
    return row[0] if row else None


def replay_caught_up(standby: StoreURL, primary: StoreURL) -> bool:
    """Whether the standby has replayed everything the primary had written when asked."""
    with _pg_connect(primary) as conn:
        row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    target = row[0] if row else None
    with _pg_connect(standby) as conn:
        done = conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,)).fetchone()
    return bool(done and done[0])
