"""Chart completion, read side: open deficiencies (each with when the scan assigned it and when
the physician was told), delinquent records and the physicians in jeopardy.

The rules of `policies.deficiency` run on the charts as they are now (so a list is never staler
than the chart), minus the deficiencies the HIM director waived; the registers that
`deficiency scan` and `deficiency notify` keep (`aggregates.completion`) add the assignment and
notice dates. What is shown names MRNs, deficiency kinds and physicians only; the MRNs shown
are recorded as an access (purpose operations) first.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from uuid import UUID

from ledger.aggregates.access import Shown
from ledger.aggregates.access_policy import current_completion_rules
from ledger.aggregates.completion import (
    Registers,
    encounter_facts,
    physicians_of,
    registers,
    registers_of,
)
from ledger.application import Ledger
from ledger.commands import access
from ledger.integrity.keys import Identity
from ledger.reads.physician_queries import awaiting_by_encounter
from policies.deficiency import (
    CompletionRules,
    Deficiency,
    Delinquency,
    Jeopardy,
    deficiencies,
    delinquency_rate,
    delinquent,
    jeopardy,
)
from projections.completion_view import CompletionWorklist

RATE_MONTHS = 3
END_OF_TIME = datetime(9000, 1, 1, tzinfo=UTC)
"""Later than any deficiency falls due: an encounter with none due then has none at any time."""


def settling_key(rules: CompletionRules, physicians: set[str]) -> str:
    """What else than an encounter's own events decides its deficiencies (stable across runs)."""
    settings = {f.name: getattr(rules, f.name) for f in fields(rules)}
    settings["trainees"] = sorted(rules.trainees)
    return repr((sorted(settings.items()), sorted(physicians)))


def caught_up_worklist(ledger: Ledger) -> CompletionWorklist:
    from ledger.follower import Follower

    view = CompletionWorklist(ledger.db)
    Follower(ledger, [view]).catch_up()
    return view


@dataclass(frozen=True)
class Unsettled:
    """What a worklist must read now: the encounters not settled since they last changed (each
    with that change), their registers and the physicians, under the settling key."""

    view: CompletionWorklist
    which: str
    key: str
    physicians: set[str]
    read: list[tuple[UUID, int]]
    known: Registers

    @property
    def only(self) -> list[UUID]:
        return [encounter for encounter, _ in self.read]

    def settle(self, ledger: Ledger, found: list[tuple[UUID, int, bool]]) -> None:
        """Record which of them settled. A standby's tables are read-only: its marks come
        replicated from the primary, so there nothing is written."""
        if ledger.writer is None:
            self.view.settle(self.which, self.key, found)


def unsettled(ledger: Ledger, which: str, rules: CompletionRules) -> Unsettled:
    """The encounters worklist `which` must read, with what deciding them needs."""
    physicians = physicians_of(ledger)
    key = settling_key(rules, physicians)
    view = caught_up_worklist(ledger)
    read = view.candidates(which, key)
    known = registers_of(ledger, [encounter for encounter, _ in read])
    return Unsettled(view, which, key, physicians, read, known)


@dataclass(frozen=True)
class OpenDeficiency:
    deficiency: Deficiency
    assigned_at: datetime | None
    """When a scan recorded it (None: not scanned yet)."""
    notified_at: datetime | None


@dataclass(frozen=True)
class PhysicianInJeopardy:
    jeopardy: Jeopardy
    notified_at: datetime | None
    """The last time the physician was told of an open deficiency."""
    records: tuple[tuple[str, datetime], ...]
    """The MRN and discharge time of each record behind the warning."""


def open_deficiencies(
    ledger: Ledger,
    *,
    now: datetime,
    actor: Identity,
    physician: str | None = None,
    rules: CompletionRules | None = None,
) -> list[OpenDeficiency]:
    in_force = rules or current_completion_rules(ledger)
    charts = unsettled(ledger, "deficiency", in_force)
    known = charts.known
    every = encounter_facts(
        ledger,
        known,
        queries=awaiting_by_encounter(ledger),
        only=charts.only,
        physicians=charts.physicians,
    )
    charts.settle(
        ledger,
        [
            (encounter, change, not deficiencies(facts, now=END_OF_TIME, rules=in_force))
            for (encounter, change), facts in zip(charts.read, every, strict=True)
        ],
    )
    found = [
        d
        for facts in every
        for d in deficiencies(facts, now=now, rules=in_force)
        if physician is None or d.physician == physician
    ]
    found.sort(key=lambda d: (d.due_at, d.mrn, d.kind))
    listed = access.record_shown(ledger, {d.mrn for d in found}, actor=actor, section="completion")
    kept = [d for d in found if listed.allows(d.mrn)]
    rows: Shown[OpenDeficiency] = Shown([], withheld=len(found) - len(kept))
    for d in kept:
        assignment = known.assignment(d)
        rows.append(
            OpenDeficiency(
                d,
                assignment.assigned_at if assignment else None,
                assignment.notified_at if assignment else None,
            )
        )
    return rows


def delinquent_records(
    ledger: Ledger, *, now: datetime, actor: Identity, rules: CompletionRules | None = None
) -> tuple[list[Delinquency], float]:
    """Delinquent records, and the delinquency rate: delinquent records over the average monthly
    discharges of the last `RATE_MONTHS` months (30-day months before `now`)."""
    in_force = rules or current_completion_rules(ledger)
    facts = encounter_facts(ledger, registers(ledger), queries=awaiting_by_encounter(ledger))
    found = delinquent(facts, now=now, rules=in_force)
    months = [0] * RATE_MONTHS
    for encounter in facts:
        if encounter.discharged_at is None or encounter.discharged_at > now:
            continue
        month = int((now - encounter.discharged_at) / timedelta(days=30))
        if month < RATE_MONTHS:
            months[month] += 1
    listed = access.record_shown(ledger, {d.mrn for d in found}, actor=actor, section="completion")
    kept = [d for d in found if listed.allows(d.mrn)]
    rate = delinquency_rate(len({d.encounter for d in found}), months)
    return Shown(kept, withheld=len(found) - len(kept)), rate


def physicians_in_jeopardy(
    ledger: Ledger, *, now: datetime, actor: Identity, rules: CompletionRules | None = None
) -> Shown[PhysicianInJeopardy]:
    in_force = rules or current_completion_rules(ledger)
    known = registers(ledger)
    facts = encounter_facts(ledger, known, queries=awaiting_by_encounter(ledger))
    found = jeopardy(facts, now=now, rules=in_force)
    behind = {f.id: f for f in facts if any(f.id in j.records for j in found)}
    listed = access.record_shown(
        ledger, {f.mrn for f in behind.values()}, actor=actor, section="completion"
    )
    hidden = {e for e, f in behind.items() if not listed.allows(f.mrn)}
    notices: dict[str, datetime] = {}
    for register in known.by_encounter.values():
        for assignment in register.open.values():
            if assignment.notified_at is not None:
                last = notices.get(assignment.physician, assignment.notified_at)
                notices[assignment.physician] = max(last, assignment.notified_at)
    return Shown(
        [
            PhysicianInJeopardy(
                j,
                notices.get(j.physician),
                tuple(
                    sorted(
                        (behind[e].mrn, behind[e].discharged_at or now)
                        for e in j.records
                        if e not in hidden
                    )
                ),
            )
            for j in found
        ],
        withheld=len(hidden),
    )
