"""Where every chart volume is: a view of the current holder and every movement, kept by the
follower, answering `location where`, `overdue`, `pending` (the pull list) and `missing`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eventsourcing.utils import get_topic

from ledger import catalogue
from ledger.aggregates.access import Shown
from ledger.aggregates.chart_volume import ChartVolume
from ledger.application import Ledger
from ledger.commands import access
from ledger.integrity.keys import Identity
from ledger.stores.database import Cursor, Database
from projections.audit import parse_stamp, stamp

_WHAT = catalogue.LOCATION_TOPICS


def _time(value: Any) -> datetime | None:
    return None if value is None else parse_stamp(value)


@dataclass(frozen=True)
class Movement:
    at: datetime
    what: str
    holder: str | None
    detail: str | None
    actor: str


@dataclass(frozen=True)
class Volume:
    barcode: str
    mrn: str
    record_type: str
    volume: int
    home: str
    status: str
    holder: str
    holder_kind: str
    since: datetime
    due: datetime | None
    requestor: str | None
    needed_by: datetime | None
    movements: tuple[Movement, ...] = ()


class ChartLocations:
    name = "chart-locations"
    tables = ("chart_volumes", "chart_movements")
    topics = frozenset(_WHAT)

    def __init__(self, db: Database) -> None:
        self.db = db
        self.volumes = db.table("chart_volumes")
        self.moves = db.table("chart_movements")

    def create_tables(self, cur: Cursor) -> None:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self.volumes} (barcode TEXT PRIMARY KEY,"
            " volume_id TEXT NOT NULL UNIQUE, mrn TEXT NOT NULL, record_type TEXT NOT NULL,"
            " volume INTEGER NOT NULL,"
            " home TEXT NOT NULL, status TEXT NOT NULL, holder TEXT NOT NULL,"
            " holder_kind TEXT NOT NULL, since TEXT NOT NULL, due TEXT, requestor TEXT,"
            " needed_by TEXT)"
        )
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self.moves} (position BIGINT PRIMARY KEY,"
            " barcode TEXT NOT NULL, at TEXT NOT NULL, what TEXT NOT NULL, holder TEXT,"
            " detail TEXT, actor TEXT NOT NULL)"
        )

    def apply(self, cur: Cursor, event: Any, notification_id: int) -> None:
        what = _WHAT.get(get_topic(type(event)))
        if what is None:
            return
        at = stamp(event.timestamp)
        if isinstance(event, ChartVolume.Registered):
            cur.execute(
                f"INSERT INTO {self.volumes} (barcode, volume_id, mrn, record_type, volume, "
                "home, status, holder, holder_kind, since) "
                "VALUES (?, ?, ?, ?, ?, ?, 'in', ?, 'file-room', ?)",
                (
                    event.barcode,
                    event.originator_id.hex,
                    event.mrn,
                    event.record_type,
                    event.volume,
                    event.home,
                    event.home,
                    at,
                ),
            )
            barcode = str(event.barcode)
        else:
            cur.execute(
                f"SELECT barcode FROM {self.volumes} WHERE volume_id=?", (event.originator_id.hex,)
            )
            barcode = str(cur.fetchone()["barcode"])
        holder, detail = None, None
        if isinstance(event, ChartVolume.Requested):
            detail = f"for {event.requestor} by {event.needed_by.isoformat()}: {event.purpose}"
            cur.execute(
                f"UPDATE {self.volumes} SET requestor=?, needed_by=? WHERE barcode=?",
                (event.requestor, stamp(event.needed_by), barcode),
            )
        elif isinstance(event, ChartVolume.CheckedOut):  # transferred and routed too
            holder = event.holder
            detail = f"{event.holder_kind}, due {event.due.isoformat()}"
            if isinstance(event, ChartVolume.Routed):
                detail += f", for {event.purpose}: {event.decision}"
            cur.execute(
                f"UPDATE {self.volumes} SET status='out', holder=?, holder_kind=?, since=?, "
                "due=?, requestor=NULL, needed_by=NULL WHERE barcode=?",
                (event.holder, event.holder_kind, at, stamp(event.due), barcode),
            )
        elif isinstance(event, ChartVolume.CheckedIn):  # found too
            holder = event.location
            cur.execute(
                f"UPDATE {self.volumes} SET status='in', holder=?, holder_kind='file-room', "
                "since=?, due=NULL WHERE barcode=?",
                (event.location, at, barcode),
            )
        elif isinstance(event, ChartVolume.Lost):
            detail = event.note
            cur.execute(
                f"UPDATE {self.volumes} SET status='lost', since=? WHERE barcode=?", (at, barcode)
            )
        elif isinstance(event, ChartVolume.LooseFiled):
            detail = event.what
        cur.execute(
            f"INSERT INTO {self.moves} VALUES (?, ?, ?, ?, ?, ?, ?)",
            (notification_id, barcode, at, what, holder, detail, event.actor),
        )

    # -- reading ----------------------------------------------------------------------------------
    def _volumes(self, where: str = "", params: tuple[Any, ...] = ()) -> list[Volume]:
        with self.db.transaction(commit=False) as cur:
            cur.execute(f"SELECT * FROM {self.volumes} {where}", params)
            rows = cur.fetchall()
        return [
            Volume(
                str(r["barcode"]),
                str(r["mrn"]),
                str(r["record_type"]),
                int(r["volume"]),
                str(r["home"]),
                str(r["status"]),
                str(r["holder"]),
                str(r["holder_kind"]),
                _time(r["since"]) or datetime.now(UTC),
                _time(r["due"]),
                r["requestor"],
                _time(r["needed_by"]),
            )
            for r in rows
        ]

    def movements(self, barcode: str) -> tuple[Movement, ...]:
        with self.db.transaction(commit=False) as cur:
            cur.execute(f"SELECT * FROM {self.moves} WHERE barcode=? ORDER BY position", (barcode,))
            rows = cur.fetchall()
        return tuple(
            Movement(
                _time(r["at"]) or datetime.now(UTC),
                str(r["what"]),
                r["holder"],
                r["detail"],
                str(r["actor"]),
            )
            for r in rows
        )

    def where(self, key: str) -> list[Volume]:
        key = key.strip().upper()
        found = self._volumes("WHERE barcode=? OR mrn=? ORDER BY mrn, volume", (key, key))
        return [Volume(**{**v.__dict__, "movements": self.movements(v.barcode)}) for v in found]

    def overdue(self, now: datetime) -> list[Volume]:
        return self._volumes("WHERE status='out' AND due < ? ORDER BY due", (stamp(now),))

    def pending(self) -> list[Volume]:
        return self._volumes("WHERE requestor IS NOT NULL ORDER BY needed_by")

    def missing(self) -> list[Volume]:
        return self._volumes("WHERE status='lost' ORDER BY since")


def shown(ledger: Ledger, volumes: list[Volume], *, actor: Identity) -> Shown[Volume]:
    """Record that these volumes' MRNs are about to be shown (an access for operations, which
    also checks the reader's key and role), then return those the reader may see."""
    listed = access.record_shown(ledger, (v.mrn for v in volumes), actor=actor, section="locations")
    kept = [v for v in volumes if listed.allows(v.mrn)]
    return Shown(kept, withheld=len(volumes) - len(kept))


def caught_up_locations(ledger: Ledger) -> ChartLocations:
    from ledger.follower import Follower

    view = ChartLocations(ledger.db)
    Follower(ledger, [view]).catch_up()
    return view
