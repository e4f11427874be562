"""Access monitoring over the audit trail: gathers the facts and runs `policies.monitoring`.

The `MonitoringFacts` view remembers what the rules need beyond the trail: which patients died
(an encounter discharged with a disposition such as "deceased" or "expired", or a FHIR import
that said so) and which accesses a compliance officer has reviewed. Staff facts come from the
access policy's `[staff]` section and the users' key history (a revoked key is a deactivation);
patients' family names and addresses from the patient index.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from ledger import catalogue
from ledger.aggregates.access import Shown
from ledger.aggregates.access_policy import current_access_config
from ledger.aggregates.encounter import Encounter
from ledger.aggregates.imported_resource import ImportedResource
from ledger.aggregates.review import AccessReview
from ledger.aggregates.user import User
from ledger.application import Ledger
from ledger.commands import access
from ledger.errors import NotFound, UsageError, require
from ledger.follower import Follower
from ledger.integrity.keys import Identity
from ledger.reads.patient_index import PatientIndex
from ledger.stores.database import Cursor, Database
from policies.access import may_read_audit_trail
from policies.monitoring import (
    RULES,
    AccessLine,
    Alert,
    MonitoringConfig,
    PatientFacts,
    StaffFacts,
    alerts,
)
from projections.audit import AuditRow, AuditTrail, parse_stamp, stamp

DEATH = re.compile(r"\b(deceased|expired|died|death|dead)\b", re.IGNORECASE)
ACCESS_ACTIONS = frozenset({"query", "print", "copy", "admit", "transfer", "discharge", "chart"})
"""Accesses monitoring judges ("admit", "transfer", "discharge": a move that made the actor's own
relationship and broke the glass; "chart": charting that broke the glass or was flagged)."""


class MonitoringFacts:
    """Deaths and reviews, kept by the follower."""

    name = "monitoring-facts"
    tables = ("monitoring_encounters", "monitoring_deceased", "monitoring_reviews")
    topics = catalogue.MONITORING_TOPICS

    def __init__(self, db: Database) -> None:
        self.db = db
        self.encounters = db.table("monitoring_encounters")
        self.deceased = db.table("monitoring_deceased")
        self.reviews = db.table("monitoring_reviews")

    def create_tables(self, cur: Cursor) -> None:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self.encounters} (encounter_id TEXT PRIMARY KEY,"
            " mrn TEXT NOT NULL)"
        )
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self.deceased} (mrn TEXT PRIMARY KEY,"
            " deceased_at TEXT NOT NULL)"
        )
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self.reviews} (event TEXT PRIMARY KEY,"
            " outcome TEXT NOT NULL)"
        )

    def apply(self, cur: Cursor, event: Any, notification_id: int) -> None:
        del notification_id
        if isinstance(event, Encounter.Opened):
            cur.execute(
                f"INSERT INTO {self.encounters} (encounter_id, mrn) VALUES (?, ?)",
                (event.originator_id.hex, event.mrn),
            )
        elif isinstance(event, Encounter.Discharged) and DEATH.search(event.disposition):
            cur.execute(
                f"SELECT mrn FROM {self.encounters} WHERE encounter_id=?",
                (event.originator_id.hex,),
            )
            row = cur.fetchone()
            if row is not None:
                self._died(cur, str(row["mrn"]), event.effective_at)
        elif isinstance(event, ImportedResource.Imported) and event.kind == "patient":
            details = event.details or {}
            if isinstance(details.get("deceased_at"), datetime):
                self._died(cur, event.became, details["deceased_at"])
            elif details.get("deceased"):
                self._died(cur, event.became, event.timestamp)
        elif isinstance(event, AccessReview.Recorded):
            cur.execute(f"DELETE FROM {self.reviews} WHERE event=?", (event.event,))
            cur.execute(
                f"INSERT INTO {self.reviews} (event, outcome) VALUES (?, ?)",
                (event.event, event.outcome),
            )

    def _died(self, cur: Cursor, mrn: str, moment: datetime) -> None:
        cur.execute(f"DELETE FROM {self.deceased} WHERE mrn=?", (mrn,))
        cur.execute(
            f"INSERT INTO {self.deceased} (mrn, deceased_at) VALUES (?, ?)", (mrn, stamp(moment))
        )

    def deaths(self) -> dict[str, datetime]:
        with self.db.transaction(commit=False) as cur:
            cur.execute(f"SELECT mrn, deceased_at FROM {self.deceased}")
            rows = cur.fetchall()
        return {str(r["mrn"]): parse_stamp(r["deceased_at"]) for r in rows}

    def reviewed(self) -> frozenset[str]:
        with self.db.transaction(commit=False) as cur:
            cur.execute(f"SELECT event FROM {self.reviews}")
            return frozenset(str(r["event"]) for r in cur.fetchall())


@dataclass(frozen=True)
class AlertWindow:
    since: datetime | None = None
    until: datetime | None = None
    rule: str | None = None


def _line(row: AuditRow) -> AccessLine:
    return AccessLine(
        event=row.event,
        at=row.recorded_at,
        actor=row.actor,
        mrn=row.mrn,
        purpose=row.purpose,
        granted=row.outcome == "granted",
        break_glass_reason=row.break_glass_reason,
        relationship=row.relationship,
    )


def _deactivations(ledger: Ledger, names: set[str]) -> dict[str, datetime]:
    found: dict[str, datetime] = {}
    for name in names:
        try:
            user = ledger.user(name)
        except NotFound:  # a name in the trail that is no user's
            continue
        if not user.revoked:
            continue
        for event in ledger.events.get(user.id):
            if isinstance(event, User.KeyRevoked):
                found[name] = event.timestamp
    return found


def access_alerts(
    ledger: Ledger,
    *,
    reader: Identity,
    window: AlertWindow = AlertWindow(),
    now: datetime | None = None,
) -> Shown[Alert]:
    """The alerts of a period (default: everything), after the reader's role is checked; the
    MRNs alerted on are recorded as read (an alert the policy withholds is left out, counted)."""
    moment = now or datetime.now(UTC)
    if window.rule is not None and window.rule not in RULES:
        raise UsageError(f"There is no rule '{window.rule}'; the rules are: {', '.join(RULES)}.")
    if window.since is not None and window.since > moment:
        raise UsageError("The start of the period is in the future.")
    require(may_read_audit_trail(ledger.authenticate(reader).roles))
    trail, facts, index = AuditTrail(ledger.db), MonitoringFacts(ledger.db), PatientIndex(ledger.db)
    Follower(ledger, [trail, facts, index]).catch_up()
    config = MonitoringConfig.from_mapping(current_access_config(ledger).raw)
    rows = [
        r
        for r in trail.query(since=window.since, until=window.until)
        if r.action in ACCESS_ACTIONS and "audit-trail" not in r.categories
    ]
    history_rows: Sequence[AuditRow] = []
    if rows:
        start = rows[0].recorded_at - timedelta(days=config.baseline_days)
        history_rows = [
            r
            for r in trail.query(since=start, until=rows[0].recorded_at)
            if r.action in ACCESS_ACTIONS
        ]
    actors = {r.actor for r in rows}
    deactivated = _deactivations(ledger, actors)
    staff = dict(config.staff)
    for name in actors:
        known = staff.get(name, StaffFacts(name))
        staff[name] = StaffFacts(
            name, known.family_name, known.address, known.patient_mrn, deactivated.get(name)
        )
    config = replace(config, staff=staff)
    deaths = facts.deaths()
    patients = {}
    for mrn in {r.mrn for r in rows}:
        indexed = index.get(mrn)
        d = indexed.demographics if indexed is not None else {}
        address = " ".join(str(d.get(k) or "") for k in ("street", "locality"))
        patients[mrn] = PatientFacts(
            mrn, str(d.get("family_name") or ""), address.strip(), deaths.get(mrn)
        )
    found = alerts(
        [_line(r) for r in rows],
        config=config,
        patients=patients,
        reviewed=facts.reviewed(),
        history=[_line(r) for r in history_rows],
    )
    if window.rule is not None:
        found = [a for a in found if a.rule == window.rule]
    listed = access.record_shown(
        ledger, (a.mrn for a in found), actor=reader, section="audit-trail"
    )
    kept = [a for a in found if listed.allows(a.mrn)]
    return Shown(kept, withheld=len(found) - len(kept))
