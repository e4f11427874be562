"""The work items of the records department, by patient and by whether they are still open.

Physician queries, discrepancies and release-of-information requests each begin with one event
and end with another. Finding the open ones, or one patient's, used to mean reading every such
aggregate the ledger ever held (a topic scan, then a replay each), which grows with the years.
This view, kept by the `Follower` like the chart index, holds one row per item: its kind, its
patient (id and MRN as first recorded), its log position and whether it is open. The lists read
the few rows they need, then the aggregates themselves, so what they show still comes from the
events. It holds identifiers only.

Open means: a query raised and not yet answered or withdrawn (`policies.queries.OPEN_STATUSES`),
a discrepancy not yet resolved, a release request neither released nor denied. The view keys on
topic strings, not classes, so it loads no aggregate module of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from ledger.follower import Follower
from ledger.stores.database import Cursor, Database

if TYPE_CHECKING:
    from ledger.application import Ledger

Kind = Literal["query", "discrepancy", "release-request"]

OPENED: dict[str, Kind] = {
    "chartledger/physician-query/raised": "query",
    "chartledger/discrepancy/opened": "discrepancy",
    "chartledger/release-request/requested": "release-request",
}
"""The event that begins each kind of item."""

CLOSED: frozenset[str] = frozenset(
    {
        "chartledger/physician-query/answered",
        "chartledger/physician-query/withdrawn",
        "chartledger/discrepancy/resolved",
        "chartledger/release-request/released",
        "chartledger/release-request/denied",
    }
)
"""The events that end an item (a test checks these against the aggregates' own states)."""


class WorkItems:
    """Queries, discrepancies and release requests: one row each, by patient and open state."""

    name = "work-items"
    tables = ("work_items",)
    version = 1
    topics = frozenset(OPENED) | CLOSED

    def __init__(self, db: Database) -> None:
        self.db = db
        self.table = db.table("work_items")

    def create_tables(self, cur: Cursor) -> None:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} (aggregate_id TEXT PRIMARY KEY,"
            " kind TEXT NOT NULL, patient_id TEXT NOT NULL, mrn TEXT NOT NULL,"
            " position BIGINT NOT NULL, is_open INTEGER NOT NULL)"
        )
        cur.execute(
            f"CREATE INDEX IF NOT EXISTS work_items_open ON {self.table} (kind, is_open, position)"
        )
        cur.execute(
            "CREATE INDEX IF NOT EXISTS work_items_by_patient "
            f"ON {self.table} (kind, patient_id, position)"
        )

    def apply(self, cur: Cursor, event: Any, notification_id: int) -> None:
        topic = type(event).TOPIC
        kind = OPENED.get(topic)
        if kind is not None:
            cur.execute(
                f"INSERT INTO {self.table} (aggregate_id, kind, patient_id, mrn, position, "
                "is_open) VALUES (?, ?, ?, ?, ?, 1)",
                (event.originator_id.hex, kind, event.patient_id.hex, event.mrn, notification_id),
            )
        elif topic in CLOSED:
            cur.execute(
                f"UPDATE {self.table} SET is_open=0 WHERE aggregate_id=?",
                (event.originator_id.hex,),
            )

    def ids(
        self, kind: Kind, *, open_only: bool = False, patient_ids: Iterable[UUID] | None = None
    ) -> list[UUID]:
        """The items of `kind` in the order they began: the open ones, one patient's, or all."""
        where, params = ["kind=?"], [str(kind)]
        if open_only:
            where.append("is_open=1")
        if patient_ids is not None:
            wanted = [p.hex for p in patient_ids]
            if not wanted:
                return []
            where.append(f"patient_id IN ({', '.join('?' * len(wanted))})")
            params += wanted
        with self.db.transaction(commit=False) as cur:
            cur.execute(
                f"SELECT aggregate_id FROM {self.table} WHERE {' AND '.join(where)} "
                "ORDER BY position",
                params,
            )
            rows = cur.fetchall()
        return [UUID(str(row["aggregate_id"])) for row in rows]


def work_items(ledger: Ledger) -> WorkItems:
    """The work items, caught up with the log first."""
    items = WorkItems(ledger.db)
    Follower(ledger, [items]).catch_up()
    return items
