"""The confidentiality audit trail: one row per patient per access, change or disclosure.

`AuditRow` is the contract between the audit view, the monitoring rules, the legal package and
the CLI: every field of ASTM E2147 / ONC 170.210(e) (date and time, patient, user, action,
category of data) plus what the access policy decided, and the event id that `chartledger prove`
takes. The view is kept by the `Follower` (so only events the Merkle log admitted, each once) and
indexed by patient, by user and by time, so "every access to this patient" reads one index range
however large the ledger grows.

Rows come from:
- `Access.RecordAccessed` / `AccessDenied`: the action as recorded (query, print, copy …), the
  sections shown as the categories, the purpose, the break-the-glass reason, the decision;
- chart changes: a registration or an encounter opened, an entry recorded or a document filed is
  "create"; corrections, merges, transfers, discharges, amendments, retractions, signatures and
  denied amendment requests are "change" (category: what was changed, an entry's kind); a
  misfiled document moved to another chart is a change on both charts; discrepancies opened
  and resolved are rows too;
- disclosures: the release-of-information `Released` event (matched by its topic), "disclose";
  an export of the whole ledger is one "disclose" row whose MRN is `EVERY_PATIENT` ("*"), shown
  in every patient's trail.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO, cast

from eventsourcing.utils import get_topic

from ledger import catalogue
from ledger.aggregates.access import Shown
from ledger.aggregates.documents import Document
from ledger.aggregates.encounter import Encounter
from ledger.application import Ledger
from ledger.commands import access
from ledger.errors import UsageError, require
from ledger.integrity.keys import Identity
from ledger.reads.as_of import check_as_of
from ledger.stores.database import Cursor, Database
from policies.access import may_read_audit_trail

ACTIONS = ("create", "query", "change", "print", "copy", "disclose")
EVERY_PATIENT = catalogue.EVERY_PATIENT
"""The MRN of a row about every patient at once: an export of the whole ledger."""
_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"
"""Fixed width, UTC: the stored text sorts as the time does."""
_COLUMNS = (
    "position",
    "event",
    "recorded_at",
    "mrn",
    "actor",
    "action",
    "categories",
    "outcome",
    "purpose",
    "break_glass_reason",
    "policy_version",
    "decision",
    "relationship",
    "recipient",
)


@dataclass(frozen=True)
class AuditRow:
    """One line of the audit trail."""

    position: int
    """The notification id of the event (orders the trail)."""
    event: str
    """`ORIGINATOR_ID/VERSION`, as `chartledger prove` takes it."""
    recorded_at: datetime
    """When it happened (the event's timestamp, UTC)."""
    mrn: str
    actor: str
    action: str
    """One of ACTIONS."""
    categories: tuple[str, ...]
    """Category of data: the chart sections shown, changed or disclosed."""
    outcome: str
    """"granted" or "denied" (changes and disclosures are "granted")."""
    purpose: str | None
    break_glass_reason: str | None
    policy_version: str | None
    decision: str | None
    """The policy's reason, as recorded."""
    relationship: str | None
    """The treatment relationship found (attending, care-team, recent-encounter), if any."""
    recipient: str | None = None
    """For a disclosure: to whom."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "recorded_at": self.recorded_at.isoformat(),
            "mrn": self.mrn,
            "actor": self.actor,
            "action": self.action,
            "categories": list(self.categories),
            "outcome": self.outcome,
            "purpose": self.purpose,
            "break_glass_reason": self.break_glass_reason,
            "policy_version": self.policy_version,
            "decision": self.decision,
            "relationship": self.relationship,
            "recipient": self.recipient,
            "position": self.position,
        }


CSV_COLUMNS = (
    "recorded_at",
    "mrn",
    "actor",
    "action",
    "categories",
    "purpose",
    "outcome",
    "break_glass_reason",
    "recipient",
    "relationship",
    "policy_version",
    "decision",
    "event",
)


def write_csv(out: TextIO, rows: Iterable[AuditRow]) -> None:
    """The rows as CSV (RFC 4180 quoting, a header row; categories joined by ';'); a cell a
    spreadsheet would run as a formula (= + - @ tab CR first) is prefixed with `'`."""
    from policies.limits import csv_cell

    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        data = row.as_dict()
        data["categories"] = ";".join(row.categories)
        writer.writerow([csv_cell("" if data[c] is None else data[c]) for c in CSV_COLUMNS])


def stamp(moment: datetime) -> str:
    """A time as the trail stores it (UTC, fixed width: `_TIME`)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_stamp(value: Any) -> datetime:
    """A stored time back (aware, UTC)."""
    return datetime.fromisoformat(str(value))


class AuditTrail:
    """The view: `audit_trail` rows, and what it must remember to name patients and entries."""

    name = "audit-trail"
    version = 2
    """2: rows come from the event catalogue (routing, every release-of-information step, chart
    moves, completion, suspensions and imports reach the trail); a trail built by version 1 lacks
    them and is rebuilt by `chartledger upgrade`."""
    tables = ("audit_trail", "audit_patients", "audit_entries")

    def __init__(self, db: Database) -> None:
        self.db = db
        self.table = db.table("audit_trail")
        self.patients = db.table("audit_patients")
        self.entries = db.table("audit_entries")
        self._mrns: dict[str, str] = {}
        self._pending: list[tuple[Any, ...]] = []

    def create_tables(self, cur: Cursor) -> None:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            " position BIGINT NOT NULL, event TEXT NOT NULL, recorded_at TEXT NOT NULL,"
            " mrn TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,"
            " categories TEXT NOT NULL, outcome TEXT NOT NULL, purpose TEXT,"
            " break_glass_reason TEXT, policy_version TEXT, decision TEXT, relationship TEXT,"
            " recipient TEXT, PRIMARY KEY (position, mrn))"
        )
        for name, columns in (("mrn", "mrn, position"), ("actor", "actor, position")):
            cur.execute(
                f"CREATE INDEX IF NOT EXISTS audit_trail_by_{name} ON {self.table} ({columns})"
            )
        cur.execute(f"CREATE INDEX IF NOT EXISTS audit_trail_by_time ON {self.table} (recorded_at)")
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self.patients} ("
            " patient_id TEXT PRIMARY KEY, mrn TEXT NOT NULL)"
        )
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self.entries} (entry_id TEXT PRIMARY KEY, kind TEXT)"
        )

    # -- keeping it -------------------------------------------------------------------------------
    def apply(self, cur: Cursor, event: Any, notification_id: int) -> None:
        meaning = catalogue.AUDITED.get(get_topic(type(event)))
        if meaning is None:  # not about a patient (the catalogue says why)
            return
        mrns = self._patients(cur, event, meaning)
        categories = meaning.categories
        if meaning.sections:
            categories = tuple(getattr(event, "sections", ()) or ())
        entry = getattr(event, "entry_id", None)
        if isinstance(event, Encounter.EntryRecorded) and entry is not None:
            cur.execute(
                f"INSERT INTO {self.entries} (entry_id, kind) VALUES (?, ?)",
                (entry.hex, event.kind),
            )
            categories = (str(event.kind),)
        elif entry is not None:
            categories = (self._entry_kind(cur, entry.hex), *categories)
        elif isinstance(event, Document.Filed):
            categories = (f"documents:{event.kind}",)
        access = meaning.action == "access"
        self._insert(
            cur,
            event,
            notification_id,
            mrns,
            action=str(event.action) if access else meaning.action,
            categories=categories,
            outcome=meaning.outcome,
            purpose=getattr(event, meaning.purpose, None) if meaning.purpose else None,
            break_glass_reason=event.break_glass_reason if access else None,
            policy_version=event.policy_version if access else None,
            decision=event.decision if access else None,
            relationship=getattr(event, "relationship", None) if access else None,
            recipient=getattr(event, meaning.recipient, None) if meaning.recipient else None,
        )

    def _patients(self, cur: Cursor, event: Any, meaning: catalogue.AuditMeaning) -> list[str]:
        """The MRNs whose trails show the event, found where the catalogue says."""
        if meaning.patient == EVERY_PATIENT:
            return [EVERY_PATIENT]
        if meaning.patient == "mrns":
            return list(event.mrns)
        mrn = getattr(event, "mrn", None)
        if meaning.remembers_mrn:
            key = event.originator_id.hex
            cur.execute(f"INSERT INTO {self.patients} (patient_id, mrn) VALUES (?, ?)", (key, mrn))
            self._mrns[key] = str(mrn)
        if not mrn and meaning.patient != "mrn":
            mrn = self._mrn(cur, getattr(event, meaning.patient).hex)
        mrns = [str(mrn or "")]
        if meaning.also_mrn is not None:
            mrns.append(getattr(event, meaning.also_mrn))
        return mrns

    def _mrn(self, cur: Cursor, patient_id: str) -> str:
        if patient_id not in self._mrns:
            cur.execute(f"SELECT mrn FROM {self.patients} WHERE patient_id=?", (patient_id,))
            row = cur.fetchone()
            self._mrns[patient_id] = str(row["mrn"]) if row is not None else "?"
        return self._mrns[patient_id]

    def _entry_kind(self, cur: Cursor, entry_id: str) -> str:
        cur.execute(f"SELECT kind FROM {self.entries} WHERE entry_id=?", (entry_id,))
        row = cur.fetchone()
        return str(row["kind"]) if row is not None else "entries"

    def _insert(
        self,
        cur: Cursor,
        event: Any,
        notification_id: int,
        mrns: Iterable[str],
        *,
        action: str,
        categories: tuple[str, ...],
        outcome: str = "granted",
        purpose: str | None = None,
        break_glass_reason: str | None = None,
        policy_version: str | None = None,
        decision: str | None = None,
        relationship: str | None = None,
        recipient: str | None = None,
    ) -> None:
        common = (
            notification_id,
            f"{event.originator_id}/{event.originator_version}",
            stamp(event.timestamp),
        )
        rest = (
            str(getattr(event, "actor", "")),
            action,
            ",".join(categories),
            outcome,
            purpose,
            break_glass_reason,
            policy_version,
            decision,
            relationship,
            recipient,
        )
        self._pending.extend((*common, mrn, *rest) for mrn in sorted(set(mrns)))

    def flush(self, cur: Cursor) -> None:
        """Write the rows of the batch in one statement (the follower calls it before it
        records how far the view has come, in the same transaction)."""
        placeholders = ", ".join("?" * len(_COLUMNS))
        rows, self._pending = self._pending, []
        cur.executemany(
            f"INSERT INTO {self.table} ({', '.join(_COLUMNS)}) VALUES ({placeholders})", rows
        )

    def discard(self) -> None:
        """Forget the rows of a batch whose transaction failed."""
        self._pending = []

    # -- reading it -------------------------------------------------------------------------------
    def query(
        self,
        *,
        mrn: str | None = None,
        mrns: Sequence[str] | None = None,
        actor: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        as_of: datetime | None = None,
        purpose: str | None = None,
        break_glass: bool | None = None,
        denied: bool | None = None,
        limit: int | None = None,
    ) -> list[AuditRow]:
        """Rows in log order; `since` inclusive, `until` exclusive, `as_of` the trail as it stood
        then (rows recorded at or before it: the rule of `ledger.reads.as_of`); filters combine with
        AND."""
        where: list[str] = []
        params: list[Any] = []
        wanted = [*(mrns or ()), *([mrn] if mrn else [])]
        if wanted:
            where.append(f"mrn IN ({', '.join('?' * len(wanted))})")
            params.extend(m.strip().upper() for m in wanted)
        if actor is not None:
            where.append("actor = ?")
            params.append(actor)
        if since is not None:
            where.append("recorded_at >= ?")
            params.append(stamp(since))
        if until is not None:
            where.append("recorded_at < ?")
            params.append(stamp(until))
        if as_of is not None:
            where.append("recorded_at <= ?")
            params.append(stamp(as_of))
        if purpose is not None:
            where.append("purpose = ?")
            params.append(purpose)
        if break_glass is not None:
            where.append(
                "break_glass_reason IS NOT NULL" if break_glass else "break_glass_reason IS NULL"
            )
        if denied is not None:
            where.append("outcome = ?")
            params.append("denied" if denied else "granted")
        sql = f"SELECT * FROM {self.table}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY position, mrn"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self.db.transaction(commit=False) as cur:
            cur.execute(sql, tuple(params))
            rows = cur.fetchall()
        return [_row(r) for r in rows]


def _row(row: Any) -> AuditRow:
    return AuditRow(
        position=int(row["position"]),
        event=str(row["event"]),
        recorded_at=parse_stamp(row["recorded_at"]),
        mrn=str(row["mrn"]),
        actor=str(row["actor"]),
        action=str(row["action"]),
        categories=tuple(c for c in str(row["categories"]).split(",") if c),
        outcome=str(row["outcome"]),
        purpose=row["purpose"],
        break_glass_reason=row["break_glass_reason"],
        policy_version=row["policy_version"],
        decision=row["decision"],
        relationship=row["relationship"],
        recipient=row["recipient"],
    )


def caught_up_trail(ledger: Ledger) -> AuditTrail:
    """The audit view, brought up to date with the log before it answers."""
    from ledger.follower import Follower

    kept = ledger.__dict__.get("_audit_follower")
    if kept is None:  # tables checked once per ledger object, not at every query
        trail = AuditTrail(ledger.db)
        kept = ledger.__dict__["_audit_follower"] = (Follower(ledger, [trail]), trail)
    follower, trail = kept
    follower.catch_up()
    return cast(AuditTrail, trail)


@dataclass(frozen=True)
class AuditFilter:
    """What `audit` narrows the trail to, beyond whose or which period."""

    since: datetime | None = None
    until: datetime | None = None
    as_of: datetime | None = None
    """The trail as it stood then: rows recorded at or before it (`ledger.reads.as_of`)."""
    purpose: str | None = None
    break_glass: bool | None = None
    denied: bool | None = None


def _checked(window: AuditFilter, now: datetime) -> None:
    if window.as_of is not None:
        check_as_of(window.as_of, now=now)
    if window.since is not None and window.since > now:
        raise UsageError("The start of the period is in the future.")
    if window.since is not None and window.until is not None and window.since >= window.until:
        raise UsageError("The start of the period must come before its end.")


def _read(
    ledger: Ledger,
    *,
    reader: Identity,
    purpose_of_use: str,
    window: AuditFilter,
    now: datetime | None,
    mrns: Sequence[str] = (),
    actor: str | None = None,
    named: Sequence[str] = (),
) -> Shown[AuditRow]:
    """The rows asked for, after the reader's role is checked and the read is recorded."""
    _checked(window, now or datetime.now(UTC))
    require(may_read_audit_trail(ledger.authenticate(reader).roles))
    trail = caught_up_trail(ledger)
    found = trail.query(
        mrns=[*mrns, EVERY_PATIENT] if mrns else None,
        actor=actor,
        since=window.since,
        until=window.until,
        as_of=window.as_of,
        purpose=window.purpose,
        break_glass=window.break_glass,
        denied=window.denied,
    )
    listed = access.record_shown(
        ledger,
        {*named, *(row.mrn for row in found)} - {EVERY_PATIENT},
        actor=reader,
        section="audit-trail",
        purpose=purpose_of_use,
    )
    kept = [r for r in found if r.mrn == EVERY_PATIENT or listed.allows(r.mrn)]
    return Shown(kept, withheld=len(found) - len(kept))


def audit_patient(
    ledger: Ledger,
    mrn: str,
    *,
    reader: Identity,
    purpose_of_use: str = "operations",
    window: AuditFilter = AuditFilter(),
    now: datetime | None = None,
) -> tuple[list[str], Shown[AuditRow]]:
    """Every access, change and disclosure of a patient (and of records merged into it).

    Returns the MRNs covered (the patient's and those it absorbed) and the rows.
    """
    patient = ledger.patient(mrn)  # a wrong MRN is one sentence, nothing recorded
    mrns = [patient.mrn, *patient.absorbed]
    rows = _read(
        ledger,
        reader=reader,
        purpose_of_use=purpose_of_use,
        window=window,
        now=now,
        mrns=mrns,
        named=[patient.mrn],
    )
    return mrns, rows


def audit_user(
    ledger: Ledger,
    name: str,
    *,
    reader: Identity,
    purpose_of_use: str = "operations",
    window: AuditFilter = AuditFilter(),
    now: datetime | None = None,
) -> Shown[AuditRow]:
    """Everything one user did to patients' records."""
    ledger.user(name)  # an unknown user is one sentence, nothing recorded
    return _read(
        ledger, reader=reader, purpose_of_use=purpose_of_use, window=window, now=now, actor=name
    )


def audit_between(
    ledger: Ledger,
    *,
    reader: Identity,
    purpose_of_use: str = "operations",
    window: AuditFilter,
    now: datetime | None = None,
) -> Shown[AuditRow]:
    """Everything in a period (both ends required)."""
    if window.since is None or window.until is None:
        raise UsageError("Give both the start and the end of the period.")
    return _read(ledger, reader=reader, purpose_of_use=purpose_of_use, window=window, now=now)
