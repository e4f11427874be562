"""Keep read models current: the ledger's events, applied once each, in log order.

A view only sees events the Merkle log has admitted (each signature checked once, there), and
each row is checked against the log's recorded hash before it is projected, so a tampered row
never reaches a read model. View rows and the `eventsourcing` tracking record are written in one
transaction; a failing handler stops the follower loudly (a skipped audit row is a lost one).
A view that names its `topics` is given only those events (the others are still checked against
the log, but not decoded); one that has a `flush(cur)` may buffer its rows and write them at the
end of the batch (and `discard()` them if the batch fails); one that has a `prepare(cur, events)`
is shown the batch's events (every one checked first) before it applies them, to read what they
need in a few queries rather than one a event.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, cast
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Tracking

from ledger.errors import IntegrityViolation, LedgerError, StaleView
from ledger.integrity import merkle_log
from ledger.stores.database import Cursor
from ledger.verifier.envelope import opened_hash

if TYPE_CHECKING:
    from ledger.application import Ledger


class View(Protocol):
    """A read model: its tables, and what each event does to them.

    A view may say `version` (default 1) and list its `tables` (base names). Raise the version
    whenever the rows it would build from the same events change: tables built by an older
    version are stale, no command reads them, and `chartledger upgrade` rebuilds them
    (`rebuild_stale_views`) from the first event.
    """

    name: str

    def create_tables(self, cur: Cursor) -> None: ...

    def apply(self, cur: Cursor, event: Any, notification_id: int) -> None: ...


def view_version(view: View) -> int:
    return int(getattr(view, "version", 1))


class Follower:
    """Catches views up with the log (polling works on both stores; a CLI catches up first)."""

    def __init__(self, ledger: Ledger, views: Sequence[View], *, rebuilding: bool = False) -> None:
        self.ledger = ledger
        self.views = list(views)
        self.tracking: Any = ledger.factory.tracking_recorder()
        for view in self.views:  # once per store, safe under concurrent opens
            if ledger.writer is not None and ledger.db.tables_version(view.name) is None:
                raise StaleView(
                    f"The {view.name} view is not on the standby yet; run the command once "
                    "against the primary (without --read-db), then again here."
                )
            built = ledger.db.create_tables(
                view.name, view.create_tables, version=view_version(view)
            )
            if built < view_version(view) and not rebuilding:
                raise StaleView(
                    f"The {view.name} view of this ledger was built by an older version of "
                    "Chartledger; run 'chartledger upgrade' to rebuild it (nothing is lost)."
                )

    def catch_up(self, batch_size: int = 2000) -> int:
        """Apply every admitted event each view has not seen; returns how many were applied.
        On a hot standby the views are the primary's as replicated: nothing is applied."""
        if self.ledger.writer is not None:
            return 0
        self.ledger.merkle_log.catch_up()
        applied = 0
        for view in self.views:
            while True:
                last = self.tracking.max_tracking_id(view.name) or 0
                try:
                    done = self._batch(view, last, batch_size)
                except IntegrityError as error:
                    if (self.tracking.max_tracking_id(view.name) or 0) > last:
                        continue  # another process applied the same events first: go on
                    raise IntegrityViolation(
                        "view",
                        f"the {view.name} view cannot be brought up to date "
                        f"({str(error).strip().splitlines()[0]})",
                    ) from None
                if not done:
                    break
                applied += done
        if applied >= merkle_log.ANALYZE_AFTER:
            self.ledger.db.refresh_statistics()  # the views grew a lot: tell the planner
        return applied

    def _batch(self, view: View, last: int, batch_size: int) -> int:
        rows = self._admitted_after(last, batch_size)
        if not rows:
            return 0
        mapper = self.ledger.signed_events.signed_mapper
        topics: frozenset[str] | None = getattr(view, "topics", None)
        flush = getattr(view, "flush", None)
        prepare = getattr(view, "prepare", None)
        try:
            with self.ledger.db.transaction(commit=True, derived=True) as cur:
                given: list[tuple[Any, int]] = []
                for note, recorded in rows:
                    opened, _, digest = opened_hash(note)
                    if digest != recorded:
                        raise IntegrityViolation(
                            "log",
                            "the stored event differs from the one the Merkle log recorded",
                            originator_id=cast(UUID, note.originator_id),
                            originator_version=note.originator_version,
                        )
                    if topics is None or note.topic in topics:
                        event = mapper.from_body(note, opened)
                        if prepare is None:
                            view.apply(cur, event, note.id)
                        else:
                            given.append((event, note.id))
                if prepare is not None:
                    prepare(cur, [event for event, _ in given])
                    for event, position in given:
                        view.apply(cur, event, position)
                if flush is not None:
                    flush(cur)
                self.tracking._insert_tracking(cur.raw, Tracking(view.name, rows[-1][0].id))
        except BaseException:
            discard = getattr(view, "discard", None)
            if discard is not None:
                discard()
            raise
        return len(rows)

    def _admitted_after(self, last: int, limit: int) -> list[tuple[Any, bytes]]:
        """Notifications after `last` that the log admitted, with the hash it recorded."""
        log = self.ledger.merkle_log
        with self.ledger.db.transaction(commit=False) as cur:
            cur.execute(
                f"SELECT notification_id, event_hash FROM {log.t_leaves} "
                "WHERE notification_id > ? ORDER BY notification_id LIMIT ?",
                (last, limit),
            )
            recorded = {int(r["notification_id"]): bytes(r["event_hash"]) for r in cur.fetchall()}
        if not recorded:
            return []
        notes = self.ledger.recorder.select_notifications(
            start=last + 1, limit=limit, stop=max(recorded)
        )
        outside = [note for note in notes if note.id not in recorded]
        if outside:
            raise IntegrityViolation(
                "log",
                "a stored event lies between events the Merkle log admitted but is not in it",
                originator_id=cast(UUID, outside[0].originator_id),
                originator_version=outside[0].originator_version,
            )
        return [(note, recorded[note.id]) for note in notes]


def rebuild_stale_views(ledger: Ledger, views: Sequence[View]) -> list[tuple[str, int]]:
    """Rebuild every view whose tables an older version built: drop them, then catch up from
    the first event. Returns (view name, events applied) for each view rebuilt."""
    rebuilt = []
    tracking: Any = ledger.factory.tracking_recorder()
    table = _tracking_table(ledger, tracking)
    for view in views:
        stored = ledger.db.tables_version(view.name)
        if stored is None or stored >= view_version(view):
            continue
        tables = tuple(getattr(view, "tables", ()))
        if not tables:
            raise LedgerError(f"The {view.name} view does not name its tables to rebuild.")
        ledger.db.rebuild_tables(
            view.name,
            tables,
            view.create_tables,
            version=view_version(view),
            tracking_table=table,
        )
        rebuilt.append((view.name, Follower(ledger, [view], rebuilding=True).catch_up()))
    return rebuilt


def _tracking_table(ledger: Ledger, tracking: Any) -> str:
    """Where the library keeps the views' tracking records (named as `Database.table` would)."""
    if ledger.db.is_postgres:
        return ledger.db.table(str(tracking.tracking_table_name))
    return "tracking"
