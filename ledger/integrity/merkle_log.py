"""The Merkle log: every event in notification order, admitted once, kept by a tracking follower.

An event enters the log only after its signature verifies against the key that was valid for its
signer at that position and its `prev` names the hash the log holds for the aggregate's previous
event. Leaves, tree nodes (by level and index), key changes and the tracking record are written in
one transaction, so a restart rebuilds nothing and no event enters twice. PostgreSQL notification
ids have gaps; the log keeps its own dense leaf positions.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    Notification,
    StoredEvent,
    Tracking,
    Transcoder,
)

from ledger.errors import IntegrityViolation, NotFound
from ledger.stores.database import Cursor, Database
from ledger.verifier import envelope, merkle
from ledger.verifier.log_entry import admit
from ledger.verifier.registry import Invitation, KeyRecord, KeyRegistry

LOG_NAME = "merkle-log"

ANALYZE_AFTER = 10_000
"""Events the log grows by before the planner's statistics are refreshed (PostgreSQL)."""
_TABLES = (
    "CREATE TABLE IF NOT EXISTS {leaves} ("
    " position BIGINT PRIMARY KEY,"
    " notification_id BIGINT NOT NULL UNIQUE,"
    " originator_id {uuid} NOT NULL,"
    " originator_version BIGINT NOT NULL,"
    " event_hash {blob} NOT NULL,"
    " UNIQUE (originator_id, originator_version))",
    "CREATE TABLE IF NOT EXISTS {nodes} ("
    " level INTEGER NOT NULL, idx BIGINT NOT NULL, hash {blob} NOT NULL,"
    " PRIMARY KEY (level, idx))",
    "CREATE TABLE IF NOT EXISTS {keys} ("
    " fingerprint {blob} PRIMARY KEY, public_key {blob} NOT NULL, user_name TEXT NOT NULL,"
    " user_id TEXT NOT NULL, roles TEXT NOT NULL, valid_from BIGINT NOT NULL,"
    " revoked_at BIGINT)",
    "CREATE TABLE IF NOT EXISTS {invitations} ("
    " user_id TEXT PRIMARY KEY, user_name TEXT NOT NULL, roles TEXT NOT NULL,"
    " code_hash {blob} NOT NULL, expires TEXT NOT NULL, opened_at BIGINT NOT NULL,"
    " used_at BIGINT)",
    "CREATE TABLE IF NOT EXISTS {checkpoints} ("
    " tree_size BIGINT PRIMARY KEY, root {blob} NOT NULL, note TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {meta} (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
)


@dataclass(frozen=True)
class Leaf:
    """Where one event sits in the log."""

    position: int
    notification_id: int
    originator_id: UUID
    originator_version: int
    event_hash: bytes


class _DbNodes:
    """Stored tree nodes read through one cursor, as `merkle.NodeReader` wants them."""

    def __init__(self, cursor: Cursor, table: str) -> None:
        self.cursor = cursor
        self.table = table
        self.cache: dict[tuple[int, int], bytes] = {}

    def node(self, level: int, index: int) -> bytes:
        key = (level, index)
        if key not in self.cache:
            self.cursor.execute(
                f"SELECT hash FROM {self.table} WHERE level=? AND idx=?", (level, index)
            )
            row = self.cursor.fetchone()
            if row is None:
                raise IntegrityViolation(
                    "log", f"the stored Merkle tree has no node at level {level}, index {index}"
                )
            self.cache[key] = bytes(row["hash"])
        return self.cache[key]


class MerkleLog:
    """The ledger's Merkle log over its own database."""

    read_only = False
    """True on a read-only hot standby: the primary admits events, the standby replays them."""

    def __init__(
        self,
        db: Database,
        recorder: ApplicationRecorder,
        tracking: Any,
        transcoder: Transcoder,
    ) -> None:
        self.db = db
        self.recorder = recorder
        self.tracking = tracking
        self.transcoder = transcoder
        self.t_leaves = db.table("merkle_leaves")
        self.t_nodes = db.table("merkle_nodes")
        self.t_keys = db.table("ledger_keys")
        self.t_invitations = db.table("ledger_invitations")
        self.t_checkpoints = db.table("ledger_checkpoints")
        self.t_meta = db.table("ledger_meta")
        self.t_events = db.table(recorder.events_table_name)  # type: ignore[attr-defined]
        self._registry: KeyRegistry | None = None
        self._registry_size = -1
        """The log size the cached registry is known to be current for (several processes
        write one log: a registry cached before another process admitted a key change is
        stale)."""

    def create_tables(self) -> None:
        names = {
            "leaves": self.t_leaves,
            "nodes": self.t_nodes,
            "keys": self.t_keys,
            "invitations": self.t_invitations,
            "checkpoints": self.t_checkpoints,
            "meta": self.t_meta,
            "blob": "{blob}",
            "uuid": "{uuid}",
        }
        with self.db.transaction(commit=True) as cur:
            for statement in _TABLES:
                cur.execute(statement.format(**names))

    # -- following the notification log ---------------------------------------------------
    def catch_up(self, batch_size: int = 1000) -> int:
        """Admit every event not yet in the log; raise at the first one that fails its checks.
        A log read on a hot standby (`read_only`) is the primary's as replicated: nothing to do."""
        if self.read_only:
            return 0
        added = 0
        while True:
            last = self.tracking.max_tracking_id(LOG_NAME) or 0
            batch = self.recorder.select_notifications(start=last + 1, limit=batch_size)
            if not batch:
                if added:
                    self._refresh_statistics_if_grown()
                return added
            try:
                added += self._admit_batch(batch)
            except (IntegrityError, IntegrityViolation) as error:
                # Another process may have admitted the same events first (the insert collides,
                # or their key changes were already in the registry this batch read): go on
                # from where it got to. Only a failure nobody got past is a violation.
                self._registry = None
                if (self.tracking.max_tracking_id(LOG_NAME) or 0) > last:
                    continue
                if isinstance(error, IntegrityViolation):
                    raise
                raise IntegrityViolation(
                    "log",
                    "the Merkle log cannot admit the next events "
                    f"({str(error).strip().splitlines()[0]})",
                ) from None

    def _refresh_statistics_if_grown(self) -> None:
        """Refresh the planner's statistics when the log has grown by a tenth (at least
        `ANALYZE_AFTER` events) since they were last taken: autovacuum's own rule."""
        if not self.db.is_postgres:
            return
        size = self.size()
        taken = int(self.meta("statistics_at_size") or 0)
        if size - taken >= max(ANALYZE_AFTER, taken // 10):
            self.db.refresh_statistics()
            self.set_meta("statistics_at_size", str(size))

    def follow(self, stop: threading.Event, *, poll_seconds: float = 0.5) -> None:
        """Keep the log current until `stop` is set: LISTEN/NOTIFY on PostgreSQL, polling on SQLite.

        A failing event stops the follower loudly (its `IntegrityViolation` propagates): a log
        that skipped an event would be a log that lies.
        """
        self.catch_up()
        if not self.db.is_postgres:
            while not stop.wait(poll_seconds):
                self.catch_up()
            return
        while not stop.is_set():
            last = self.tracking.max_tracking_id(LOG_NAME) or 0
            with self.recorder.subscribe(gt=last) as subscription:
                watcher = threading.Thread(
                    target=lambda s=subscription: (stop.wait(), s.stop()), daemon=True
                )
                watcher.start()
                for note in subscription:
                    if note.id > last:
                        self.catch_up()
                        last = self.tracking.max_tracking_id(LOG_NAME) or last
                    if stop.is_set():
                        break

    def _admit_batch(self, batch: Sequence[Notification]) -> int:
        size = self.size()
        if self._registry_size != size:  # another process admitted events (maybe key changes)
            self._registry = None
        registry = self.registry()
        heads: dict[UUID, tuple[int, bytes]] = {}
        leaves: list[Leaf] = []
        changed: dict[bytes | UUID, KeyRecord | Invitation] = {}
        failure: IntegrityViolation | None = None
        for note in batch:
            try:
                leaf, records = self._admit(note, size + len(leaves), registry, heads)
            except IntegrityViolation as violation:
                failure = violation
                break
            leaves.append(leaf)
            changed.update(
                (r.fingerprint if isinstance(r, KeyRecord) else r.user_id, r) for r in records
            )
        if leaves:
            self._write(size, leaves, list(changed.values()))
            self._registry_size = size + len(leaves)
        if failure is not None:
            self._registry = None
            raise failure
        return len(leaves)

    def _admit(
        self,
        note: Notification,
        position: int,
        registry: KeyRegistry,
        heads: dict[UUID, tuple[int, bytes]],
    ) -> tuple[Leaf, list[KeyRecord | Invitation]]:
        oid = cast(UUID, note.originator_id)
        version = note.originator_version
        if version == 1:
            expected: bytes | None = envelope.GENESIS_PREV
        elif oid in heads and heads[oid][0] == version - 1:
            expected = heads[oid][1]
        else:
            expected = self.logged_hashes(oid).get(version - 1)
        admitted = admit(note, position, registry, self.transcoder, expected, check_signature=True)
        heads[oid] = (version, admitted.digest)
        return Leaf(position, note.id, oid, version, admitted.digest), admitted.key_changes

    def _write(self, size: int, leaves: list[Leaf], records: list[KeyRecord | Invitation]) -> None:
        with self.db.transaction(commit=True, derived=True) as cur:
            nodes = merkle.nodes_to_store(
                size,
                [merkle.leaf_hash(leaf.event_hash) for leaf in leaves],
                _DbNodes(cur, self.t_nodes),
            )
            cur.executemany(
                f"INSERT INTO {self.t_leaves} VALUES (?, ?, ?, ?, ?)",
                [
                    (
                        leaf.position,
                        leaf.notification_id,
                        self.db.uuid_param(leaf.originator_id),
                        leaf.originator_version,
                        leaf.event_hash,
                    )
                    for leaf in leaves
                ],
            )
            cur.executemany(
                f"INSERT INTO {self.t_nodes} VALUES (?, ?, ?)",
                [(level, index, digest) for level, index, digest in nodes],
            )
            for record in records:
                if isinstance(record, Invitation):
                    self._write_invitation(cur, record)
                    continue
                cur.execute(f"DELETE FROM {self.t_keys} WHERE fingerprint=?", (record.fingerprint,))
                cur.execute(
                    f"INSERT INTO {self.t_keys} VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        record.fingerprint,
                        record.public_key,
                        record.user,
                        record.user_id.hex,
                        json.dumps(record.roles),
                        record.valid_from,
                        record.revoked_at,
                    ),
                )
            self.tracking._insert_tracking(cur.raw, Tracking(LOG_NAME, leaves[-1].notification_id))

    def _write_invitation(self, cur: Cursor, invitation: Invitation) -> None:
        cur.execute(f"DELETE FROM {self.t_invitations} WHERE user_id=?", (invitation.user_id.hex,))
        cur.execute(
            f"INSERT INTO {self.t_invitations} VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                invitation.user_id.hex,
                invitation.user,
                json.dumps(invitation.roles),
                invitation.code_hash,
                invitation.expires.isoformat(),
                invitation.opened_at,
                invitation.used_at,
            ),
        )

    # -- reading the log ------------------------------------------------------------------
    def size(self) -> int:
        with self.db.transaction(commit=False) as cur:
            cur.execute(f"SELECT MAX(position) AS top FROM {self.t_leaves}")
            row = cur.fetchone()
        return 0 if row is None or row["top"] is None else int(row["top"]) + 1

    def waiting(self) -> int:
        """How many stored events wait to enter the log: those after the last one admitted,
        counted by position (an index range, not a read of the history)."""
        admitted = self.tracking.max_tracking_id(LOG_NAME) or 0
        position = "notification_id" if self.db.is_postgres else "rowid"
        with self.db.transaction(commit=False) as cur:
            cur.execute(
                f"SELECT COUNT(*) AS waiting FROM {self.t_events} WHERE {position} > ?", (admitted,)
            )
            row = cur.fetchone()
        return int(row["waiting"])

    def registry(self) -> KeyRegistry:
        """The key registry as of the last admitted event (cached until the next failure)."""
        if self._registry is None:
            self._registry_size = self.size()  # read first: the keys are at least this new
            with self.db.transaction(commit=False) as cur:
                cur.execute(f"SELECT * FROM {self.t_keys}")
                rows = cur.fetchall()
                cur.execute(f"SELECT * FROM {self.t_invitations}")
                invited = cur.fetchall()
            records = [
                KeyRecord(
                    fingerprint=bytes(r["fingerprint"]),
                    public_key=bytes(r["public_key"]),
                    user=r["user_name"],
                    user_id=UUID(r["user_id"]),
                    roles=json.loads(r["roles"]),
                    valid_from=int(r["valid_from"]),
                    revoked_at=None if r["revoked_at"] is None else int(r["revoked_at"]),
                )
                for r in rows
            ]
            invitations = [
                Invitation(
                    user_id=UUID(r["user_id"]),
                    user=r["user_name"],
                    roles=json.loads(r["roles"]),
                    code_hash=bytes(r["code_hash"]),
                    expires=datetime.fromisoformat(r["expires"]),
                    opened_at=int(r["opened_at"]),
                    used_at=None if r["used_at"] is None else int(r["used_at"]),
                )
                for r in invited
            ]
            genesis = min(records, key=lambda r: r.valid_from).fingerprint if records else None
            self._registry = KeyRegistry.from_records(records, genesis, invitations)
        return self._registry

    def logged_hashes(self, originator_id: UUID) -> dict[int, bytes]:
        with self.db.transaction(commit=False) as cur:
            cur.execute(
                f"SELECT originator_version, event_hash FROM {self.t_leaves} WHERE originator_id=?",
                (self.db.uuid_param(originator_id),),
            )
            return {int(r["originator_version"]): bytes(r["event_hash"]) for r in cur.fetchall()}

    def select_with_log(
        self,
        originator_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> tuple[list[StoredEvent], dict[int, bytes], int]:
        """An aggregate's stored events, what the log recorded for each, and its last logged
        version, in one round trip (reads check every row against the log)."""
        oid = self.db.uuid_param(originator_id)
        statement = (
            "SELECT e.originator_version AS v, e.topic AS topic, e.state AS state, "
            "l.event_hash AS h, "
            f"(SELECT MAX(originator_version) FROM {self.t_leaves} WHERE originator_id=?) AS top "
            f"FROM {self.t_events} e LEFT JOIN {self.t_leaves} l "
            "ON l.originator_id = e.originator_id AND l.originator_version = e.originator_version "
            "WHERE e.originator_id=? "
        )
        params: list[Any] = [oid, oid]
        if gt is not None:
            statement += "AND e.originator_version>? "
            params.append(gt)
        if lte is not None:
            statement += "AND e.originator_version<=? "
            params.append(lte)
        statement += "ORDER BY e.originator_version " + ("DESC " if desc else "ASC ")
        if limit is not None:
            statement += "LIMIT ?"
            params.append(limit)
        with self.db.transaction(commit=False) as cur:
            cur.execute(statement, params)
            rows = cur.fetchall()
            if rows:
                top = rows[0]["top"]
            else:
                cur.execute(
                    f"SELECT MAX(originator_version) AS top FROM {self.t_leaves} "
                    "WHERE originator_id=?",
                    (oid,),
                )
                top = cur.fetchone()["top"]
        events = [
            StoredEvent(originator_id, int(r["v"]), str(r["topic"]), bytes(r["state"]))
            for r in rows
        ]
        logged = {int(r["v"]): bytes(r["h"]) for r in rows if r["h"] is not None}
        return events, logged, int(top or 0)

    def public_key_for(self, signer: bytes) -> bytes | None:
        """The signer's key if it is valid now (as of the last event the log admitted)."""
        return self.registry().current_key(signer)

    def leaves(self, start: int = 0, limit: int = 10_000) -> list[Leaf]:
        with self.db.transaction(commit=False) as cur:
            cur.execute(
                f"SELECT * FROM {self.t_leaves} WHERE position>=? ORDER BY position LIMIT ?",
                (start, limit),
            )
            return [_leaf(r) for r in cur.fetchall()]

    def find(self, originator_id: UUID, originator_version: int) -> Leaf:
        with self.db.transaction(commit=False) as cur:
            cur.execute(
                f"SELECT * FROM {self.t_leaves} WHERE originator_id=? AND originator_version=?",
                (self.db.uuid_param(originator_id), originator_version),
            )
            row = cur.fetchone()
        if row is None:
            raise NotFound(
                f"Event {originator_id}/{originator_version} is not in the log "
                "(no such event, or the log has not reached it yet)."
            )
        return _leaf(row)

    def at(self, position: int) -> Leaf:
        with self.db.transaction(commit=False) as cur:
            cur.execute(f"SELECT * FROM {self.t_leaves} WHERE position=?", (position,))
            row = cur.fetchone()
        if row is None:
            raise NotFound(f"The log has no event at position {position}.")
        return _leaf(row)

    def root(self, size: int) -> bytes:
        with self.db.transaction(commit=False) as cur:
            return merkle.root_from_nodes(size, _DbNodes(cur, self.t_nodes))

    def inclusion_proof(self, position: int, size: int) -> list[bytes]:
        with self.db.transaction(commit=False) as cur:
            return merkle.inclusion_proof(position, size, _DbNodes(cur, self.t_nodes))

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        with self.db.transaction(commit=False) as cur:
            return merkle.consistency_proof(old_size, new_size, _DbNodes(cur, self.t_nodes))

    def meta(self, name: str) -> str | None:
        """A setting the ledger keeps about itself (its origin name)."""
        with self.db.transaction(commit=False) as cur:
            cur.execute(f"SELECT value FROM {self.t_meta} WHERE name=?", (name,))
            row = cur.fetchone()
        return None if row is None else str(row["value"])

    def set_meta(self, name: str, value: str) -> None:
        with self.db.transaction(commit=True) as cur:
            cur.execute(f"DELETE FROM {self.t_meta} WHERE name=?", (name,))
            cur.execute(f"INSERT INTO {self.t_meta} VALUES (?, ?)", (name, value))

    def stored_hashes(self, start: int = 0, batch_size: int = 5000) -> Iterator[bytes]:
        """Every event hash the log recorded from position `start` on, by position, read a
        batch at a time (a short transaction each) so a long log is never held whole."""
        while True:
            with self.db.transaction(commit=False) as cur:
                cur.execute(
                    f"SELECT event_hash FROM {self.t_leaves} WHERE position>=? "
                    "ORDER BY position LIMIT ?",
                    (start, batch_size),
                )
                rows = [bytes(r["event_hash"]) for r in cur.fetchall()]
            yield from rows
            if len(rows) < batch_size:
                return
            start += len(rows)

    # -- checkpoints ----------------------------------------------------------------------
    def store_checkpoint(self, size: int, root: bytes, note: str) -> None:
        with self.db.transaction(commit=True) as cur:
            cur.execute(f"INSERT INTO {self.t_checkpoints} VALUES (?, ?, ?)", (size, root, note))

    def checkpoints(self) -> list[tuple[int, str]]:
        """Every stored checkpoint note, smallest tree first."""
        with self.db.transaction(commit=False) as cur:
            cur.execute(f"SELECT tree_size, note FROM {self.t_checkpoints} ORDER BY tree_size")
            return [(int(r["tree_size"]), str(r["note"])) for r in cur.fetchall()]


def _leaf(row: Any) -> Leaf:
    return Leaf(
        position=int(row["position"]),
        notification_id=int(row["notification_id"]),
        originator_id=Database.uuid_value(row["originator_id"]),
        originator_version=int(row["originator_version"]),
        event_hash=bytes(row["event_hash"]),
    )
