"""Coding and abstracting, the reads: the abstract of a stay (`coding_abstract`).

Each read that names a patient records its access first, through the gate
(`ledger.commands.access`): who may read a stay's coding at all is `policies.coding`
(coders, the HIM director, the compliance officer; a physician their own stays), and the
access policy then decides for the purpose (coders read under `operations` or `payment`).
What is returned is frozen dataclasses; `--json` prints their `as_dict()`.

The department's lists, each one pass over the coding events (a scan of their topic, decisions
§42): the coding worklist (`coding_worklist`: discharged stays not yet final, what holds them),
each coder's productivity and case mix index (`coding_productivity`: names no patient, so it
records no access), and the disease, operation and physician indexes (`disease_index`,
`operation_index`, `physician_index`), decided row by row (`access.record_shown`, section
"coding") before anything is returned.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TextIO, cast
from uuid import UUID

from ledger.aggregates.access import Shown
from ledger.aggregates.access_policy import current_completion_rules
from ledger.aggregates.coding import CodingAbstract, dotted_diagnosis, plain_code
from ledger.aggregates.completion import facts_of
from ledger.aggregates.encounter import Encounter
from ledger.application import Ledger
from ledger.commands import access
from ledger.commands.coding import GROUPING_SECTIONS, abstract_of
from ledger.errors import UsageError, require
from ledger.integrity.keys import Identity
from ledger.reads import physician_queries as stored_queries
from ledger.reads.charts import chart_mrn
from policies import coding as rules
from policies.deficiency import QueryFacts, deficiencies, tracked
from policies.limits import csv_cell
from projections.completion import unsettled

# -- the abstract of a stay -----------------------------------------------------------------------


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _plain(value: Any) -> Any:
    """A recorded value as JSON carries it (Decimals as text, so no digit is lost)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def plain_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """A grouping's recorded fields as JSON carries them (`--json`)."""
    return {str(k): _plain(v) for k, v in fields.items()}


@dataclass(frozen=True)
class DiagnosisLine:
    """One coded diagnosis as shown."""

    code: str
    """As people read it (`E11.65`)."""
    description: str | None
    poa: str
    poa_meaning: str
    principal: bool
    coded_by: str
    coded_at: datetime
    suggested_by: str | None
    query_id: UUID | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "description": self.description,
            "poa": self.poa,
            "poa_meaning": self.poa_meaning,
            "principal": self.principal,
            "coded_by": self.coded_by,
            "coded_at": self.coded_at.isoformat(),
            "suggested_by": self.suggested_by,
            "query_id": None if self.query_id is None else str(self.query_id),
        }


@dataclass(frozen=True)
class ProcedureLine:
    """One coded procedure as shown."""

    code: str
    title: str | None
    on: date
    operating_physician: str
    coded_by: str
    coded_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title,
            "on": self.on.isoformat(),
            "operating_physician": self.operating_physician,
            "coded_by": self.coded_by,
            "coded_at": self.coded_at.isoformat(),
        }


@dataclass(frozen=True)
class GroupingLine:
    """A recorded grouping, as `code show` summarises it (`fields` holds all it recorded)."""

    version: int
    """The abstract's version of its `Grouped` event."""
    recorded_at: datetime
    recorded_by: str
    current: bool
    """Made after the abstract's last change."""
    fields: dict[str, Any]

    @property
    def drg(self) -> int | None:
        value = self.fields.get("drg")
        return None if value is None else int(value)

    @property
    def cross_check_agrees(self) -> bool | None:
        check = self.fields.get("cross_check") or {}
        agrees = check.get("agrees") if isinstance(check, dict) else None
        return None if agrees is None else bool(agrees)

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "recorded_at": self.recorded_at.isoformat(),
            "recorded_by": self.recorded_by,
            "current": self.current,
            **{k: _plain(v) for k, v in self.fields.items()},
        }


@dataclass(frozen=True)
class ChangeLine:
    """One step of the abstract's history."""

    version: int
    recorded_at: datetime
    actor: str
    what: str
    detail: str
    reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "recorded_at": self.recorded_at.isoformat(),
            "actor": self.actor,
            "what": self.what,
            "detail": self.detail,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class CodingAbstractView:
    """What `code show` displays: the stay, its codes, its last grouping and its history."""

    encounter_id: UUID
    mrn: str
    encounter_class: str
    attending: str
    admitted_at: datetime
    discharged_at: datetime | None
    disposition: str | None
    status: str
    """"not coded", "in progress" or "final"."""
    diagnoses: tuple[DiagnosisLine, ...]
    """The principal first, then the secondary diagnoses in the order coded."""
    procedures: tuple[ProcedureLine, ...]
    discharge_status: str | None
    discharge_status_meaning: str | None
    admission_source: str | None
    admission_source_meaning: str | None
    grouping: GroupingLine | None
    """The last recorded grouping."""
    groupings: int
    signed_by: str | None
    signed_at: datetime | None
    history: tuple[ChangeLine, ...]
    purpose: str

    @property
    def principal(self) -> DiagnosisLine | None:
        return next((d for d in self.diagnoses if d.principal), None)

    def as_dict(self) -> dict[str, Any]:
        """`code show --json`."""
        return {
            "encounter": str(self.encounter_id),
            "mrn": self.mrn,
            "class": self.encounter_class,
            "attending": self.attending,
            "admitted_at": self.admitted_at.isoformat(),
            "discharged_at": _iso(self.discharged_at),
            "disposition": self.disposition,
            "status": self.status,
            "diagnoses": [d.as_dict() for d in self.diagnoses],
            "procedures": [p.as_dict() for p in self.procedures],
            "discharge_status": self.discharge_status,
            "discharge_status_meaning": self.discharge_status_meaning,
            "admission_source": self.admission_source,
            "admission_source_meaning": self.admission_source_meaning,
            "grouping": None if self.grouping is None else self.grouping.as_dict(),
            "groupings": self.groupings,
            "signed_by": self.signed_by,
            "signed_at": _iso(self.signed_at),
            "history": [c.as_dict() for c in self.history],
            "purpose": self.purpose,
        }


def own_stay(encounter: Encounter, abstract: CodingAbstract | None, reader: str) -> bool:
    """Whether the reader took part in the stay: attending or on its care team, or an
    operating physician of one of its coded procedures."""
    if reader == encounter.attending or reader in encounter.care_team:
        return True
    return abstract is not None and any(
        p.operating_physician == reader for p in abstract.procedures
    )


def coding_abstract(
    ledger: Ledger, encounter_id: UUID, *, purpose: str, actor: Identity
) -> CodingAbstractView:
    """The abstract of a stay, after recording the access: a reader `policies.coding` does not
    let read coding is refused and the refusal recorded; then the access policy decides for
    the purpose (the section is "coding")."""
    from ledger.coding import icd10cm, icd10pcs

    with ledger.one_read():
        encounter = ledger.encounter(encounter_id)  # a wrong id is an error before any access
        mrn = chart_mrn(ledger, encounter.mrn)
        abstract = abstract_of(ledger, encounter.id)
        reader = ledger.authenticate(actor)
        allowed = rules.may_read_coding(
            reader.roles, own_stay=own_stay(encounter, abstract, actor.name)
        )
        facts: dict[str, Any] = {
            "actor": actor,
            "action": "query",
            "sections": GROUPING_SECTIONS,
            "purpose": purpose,
        }
        if not allowed.allowed:
            access.record_refusal(ledger, [mrn], refusal=allowed, **facts)
        access.record_access(ledger, [mrn], **facts)
        if abstract is None:
            return _view(encounter, mrn, None, purpose, describe=None, title=None)
        return _view(
            encounter, mrn, abstract, purpose, describe=icd10cm.describe, title=icd10pcs.title
        )


def _view(
    encounter: Encounter,
    mrn: str,
    abstract: CodingAbstract | None,
    purpose: str,
    *,
    describe: Any,
    title: Any,
) -> CodingAbstractView:
    status = "not coded"
    if abstract is not None and (abstract.coded or abstract.history):
        status = "final" if abstract.final else "in progress"
    diagnoses = () if abstract is None else (
        *(d for d in abstract.diagnoses if d.principal),
        *abstract.secondary,
    )  # fmt: skip
    last = None if abstract is None else abstract.last_grouping
    return CodingAbstractView(
        encounter_id=encounter.id,
        mrn=mrn,
        encounter_class=encounter.encounter_class,
        attending=encounter.attending,
        admitted_at=encounter.admitted_at,
        discharged_at=encounter.discharged_at,
        disposition=encounter.disposition,
        status=status,
        diagnoses=tuple(
            DiagnosisLine(
                code=dotted_diagnosis(d.code),
                description=describe(d.code) if describe else None,
                poa=d.poa,
                poa_meaning=rules.POA_INDICATORS.get(d.poa, "unknown"),
                principal=d.principal,
                coded_by=d.coded_by,
                coded_at=d.coded_at,
                suggested_by=d.suggested_by,
                query_id=d.query_id,
            )
            for d in diagnoses
        ),
        procedures=tuple(
            ProcedureLine(
                code=p.code,
                title=title(p.code) if title else None,
                on=p.on,
                operating_physician=p.operating_physician,
                coded_by=p.coded_by,
                coded_at=p.coded_at,
            )
            for p in (abstract.procedures if abstract else ())
        ),
        discharge_status=abstract.discharge_status if abstract else None,
        discharge_status_meaning=(
            rules.DISCHARGE_STATUSES.get(abstract.discharge_status)
            if abstract and abstract.discharge_status
            else None
        ),
        admission_source=abstract.admission_source if abstract else None,
        admission_source_meaning=(
            rules.ADMISSION_SOURCES.get(abstract.admission_source)
            if abstract and abstract.admission_source
            else None
        ),
        grouping=None
        if last is None or abstract is None
        else GroupingLine(
            last.version, last.recorded_at, last.actor, abstract.grouped_current, dict(last.fields)
        ),
        groupings=len(abstract.groupings) if abstract else 0,
        signed_by=abstract.signed_by if abstract else None,
        signed_at=abstract.signed_at if abstract else None,
        history=tuple(
            ChangeLine(c.version, c.recorded_at, c.actor, c.what, c.detail, c.reason)
            for c in (abstract.history if abstract else ())
        ),
        purpose=purpose,
    )


# -- the department's lists: what they share ------------------------------------------------------

LIST_SECTION = "coding"
"""What every coding list asks the access policy for, row by row (`access.record_shown`)."""


def _refuse_unless_reader(ledger: Ledger, actor: Identity, purpose: str) -> None:
    """Who reads the coding lists at all (`policies.coding.may_read_coding`: coders, the HIM
    director, compliance; a physician reads their own stays' abstracts, not the department's
    lists): a refusal is recorded before any chart is read, so it names no patient."""
    reader = ledger.authenticate(actor)
    allowed = rules.may_read_coding(reader.roles)
    if not allowed.allowed:
        access.record_refusal(
            ledger, [], refusal=allowed, actor=actor, action="query", sections=[LIST_SECTION],
            purpose=purpose,
        )  # fmt: skip


def _utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


class _Mrns:
    """The chart MRN of each encounter's MRN (merges followed), each patient read once."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.known: dict[str, str] = {}

    def __call__(self, mrn: str) -> str:
        if mrn not in self.known:
            self.known[mrn] = chart_mrn(self.ledger, mrn)
        return self.known[mrn]


def _coders(abstract: CodingAbstract | None) -> tuple[str, ...]:
    """Who worked on an abstract, in the order they first did."""
    if abstract is None:
        return ()
    return tuple(dict.fromkeys([abstract.started_by, *(c.actor for c in abstract.history)]))


def _weight(fields: dict[str, Any]) -> Decimal | None:
    value = fields.get("relative_weight")
    return None if value is None else Decimal(str(value))


def _mean(values: Sequence[Decimal], places: str = "0.0001") -> Decimal | None:
    if not values:
        return None
    return (sum(values, Decimal(0)) / len(values)).quantize(Decimal(places), ROUND_HALF_UP)


# -- the coding worklist (DNFB) -------------------------------------------------------------------


@dataclass(frozen=True)
class Hold:
    """What a stay waits for before it can be signed final: an open physician query, or
    documentation the chart lacks (a deficiency of `policies.deficiency`, due or not yet)."""

    kind: str
    """"query" or "deficiency"."""
    what: str
    """The query's status ("raised", "sent", "escalated") or the deficiency's kind."""
    physician: str
    reference: str
    """The query's id, or the deficiency's key within the encounter."""
    due_at: datetime | None
    overdue: bool

    def sentence(self) -> str:
        if self.kind == "query":
            state = f"query {self.what}" + (", overdue" if self.overdue else "")
            return f"{state} ({self.physician}, {self.reference})"
        due = "" if self.due_at is None else f", due {_utc_day(self.due_at).isoformat()}"
        late = ", overdue" if self.overdue else ""
        return f"{self.what} ({self.physician}{due}{late})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "what": self.what,
            "physician": self.physician,
            "reference": self.reference,
            "due_at": _iso(self.due_at),
            "overdue": self.overdue,
        }


@dataclass(frozen=True)
class WorklistRow:
    """One discharged stay not yet signed final (DNFB: discharged, not final billed)."""

    encounter_id: UUID
    mrn: str
    attending: str
    admitted_at: datetime
    discharged_at: datetime
    days_since_discharge: int
    """Whole days from the discharge date to today (UTC dates)."""
    status: str
    """"not coded", "in progress", "grouped" (grouped after its last change: ready to sign) or
    "reopened" (signed final once, reopened since)."""
    coders: tuple[str, ...]
    """Who has worked on its abstract, in the order they first did."""
    holds: tuple[Hold, ...]
    drg: int | None
    """The DRG of the last recorded grouping, if any."""
    drg_current: bool
    """That grouping was made after the abstract's last change."""
    relative_weight: Decimal | None

    @property
    def held(self) -> bool:
        return bool(self.holds)

    def as_dict(self) -> dict[str, Any]:
        return {
            "encounter": str(self.encounter_id),
            "mrn": self.mrn,
            "attending": self.attending,
            "admitted_at": self.admitted_at.isoformat(),
            "discharged_at": self.discharged_at.isoformat(),
            "days_since_discharge": self.days_since_discharge,
            "status": self.status,
            "coders": list(self.coders),
            "held": self.held,
            "holds": [h.as_dict() for h in self.holds],
            "drg": self.drg,
            "drg_current": self.drg_current,
            "relative_weight": _plain(self.relative_weight),
        }


LACKS_HORIZON = timedelta(days=36_500)
"""How far ahead the worklist looks for what a discharged chart lacks: every deficiency the
rules would ever raise on it, the ones not yet due (a discharge summary within its 30 days)
included, since the coder waits for them either way."""


def _status(abstract: CodingAbstract | None) -> str:
    if abstract is None or not abstract.coded:
        return "not coded"
    if abstract.reopened:
        return "reopened"
    last = abstract.last_grouping
    if abstract.grouped_current and last is not None and last.drg is not None:
        return "grouped"
    return "in progress"


def coding_worklist(
    ledger: Ledger,
    *,
    purpose: str,
    actor: Identity,
    coder: str | None = None,
    now: datetime | None = None,
) -> Shown[WorklistRow]:
    """The inpatient stays discharged and not yet signed final, oldest discharge first, each
    with the days since discharge, what holds it (open physician queries, documentation the
    chart lacks) and its last grouping's DRG; `coder`: only the stays that coder has worked on.

    One pass over the encounters (the chart index), their abstracts (found by id), one scan of
    the queries and of the deficiency registers. Stays discharged before completion tracking
    started (`[completion] tracking_starts`: migrated history) are not on it. The MRNs are
    decided row by row and recorded before anything is returned; the withheld are counted."""
    _refuse_unless_reader(ledger, actor, purpose)
    with ledger.one_read():
        moment = now or ledger.now()
        completion = current_completion_rules(ledger)
        charts = unsettled(ledger, "coding", completion)
        open_queries: dict[UUID, list[Any]] = defaultdict(list)
        for query in stored_queries.open_queries(ledger):
            if query.is_open:
                open_queries[query.encounter_id].append(query)
        index = ledger.chart_index()
        documents = index.document_kinds_by_encounter()
        mrn_of = _Mrns(ledger)
        found: list[WorklistRow] = []
        settled: list[tuple[UUID, int, bool]] = []
        for encounter_id, change in charts.read:
            encounter = ledger.encounter(encounter_id)
            discharged = encounter.discharged_at
            abstract = abstract_of(ledger, encounter_id)
            facts = facts_of(
                encounter,
                documents.get(encounter_id, []),
                charts.physicians,
                charts.known,
                tuple(
                    QueryFacts(str(q.id), q.physician, q.sent_at)
                    for q in open_queries.get(encounter_id, [])
                    if q.awaiting_answer and q.sent_at is not None
                ),
            )
            off = (
                discharged is None
                or encounter.encounter_class not in rules.WORKLIST_CLASSES
                or (abstract is not None and abstract.final)
                or not tracked(facts, completion)
            )  # none of these changes but by an event of the stay's, or of the rules
            settled.append((encounter_id, change, off))
            if off or discharged is None:
                continue
            coders = _coders(abstract)
            if coder is not None and coder not in coders:
                continue
            queries = open_queries.get(encounter_id, [])
            lacking = [
                d
                for d in deficiencies(facts, now=moment + LACKS_HORIZON, rules=completion)
                if d.kind != "query"  # the query itself is the hold, listed below
            ]
            holds = tuple(
                [
                    Hold("query", q.status, q.physician, str(q.id), q.due_at,
                         q.is_overdue(moment))
                    for q in sorted(queries, key=lambda q: q.raised_at)
                ]
                + [
                    Hold("deficiency", d.kind, d.physician, d.key, d.due_at, d.due_at <= moment)
                    for d in sorted(lacking, key=lambda d: (d.due_at, d.kind))
                ]
            )  # fmt: skip
            last = abstract.last_grouping if abstract is not None else None
            found.append(
                WorklistRow(
                    encounter_id=encounter.id,
                    mrn=mrn_of(encounter.mrn),
                    attending=encounter.attending,
                    admitted_at=encounter.admitted_at,
                    discharged_at=discharged,
                    days_since_discharge=(_utc_day(moment) - _utc_day(discharged)).days,
                    status=_status(abstract),
                    coders=coders,
                    holds=holds,
                    drg=None if last is None else last.drg,
                    drg_current=bool(abstract and last and abstract.grouped_current),
                    relative_weight=None if last is None else _weight(last.fields),
                )
            )
        charts.settle(ledger, settled)
        found.sort(key=lambda r: (r.discharged_at, r.mrn, str(r.encounter_id)))
        listed = access.record_shown(
            ledger, {r.mrn for r in found}, actor=actor, section=LIST_SECTION, purpose=purpose
        )
    kept = [r for r in found if listed.allows(r.mrn)]
    return Shown(kept, withheld=len(found) - len(kept))


# -- per-coder productivity and case mix index ----------------------------------------------------


@dataclass(frozen=True)
class Signing:
    """One final signature of an abstract, with the weight of the grouping it signed."""

    stay: UUID
    """The abstract's encounter."""
    coder: str
    signed_at: datetime
    drg: int
    relative_weight: Decimal | None
    """Table 5's weight of the grouping signed (None: the table has none for the DRG)."""


@dataclass(frozen=True)
class CoderDay:
    coder: str
    day: date
    stays: int
    """Stays the coder signed final that day (each stay once: see `tally`)."""
    case_mix_index: Decimal | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "stays": self.stays,
            "case_mix_index": _plain(self.case_mix_index),
        }


@dataclass(frozen=True)
class CoderProductivity:
    coder: str
    days: tuple[CoderDay, ...]
    """The days the coder signed stays final, in order."""
    stays: int
    weighted: int
    """Of `stays`, those whose grouping has a relative weight (the CMI's denominator)."""
    case_mix_index: Decimal | None
    """The mean relative weight of the final groupings of the coder's stays."""

    @property
    def per_day(self) -> Decimal:
        """Stays per day the coder signed any (0 when none)."""
        return _mean([Decimal(d.stays) for d in self.days], "0.01") or Decimal(0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "coder": self.coder,
            "stays": self.stays,
            "days_worked": len(self.days),
            "stays_per_day": str(self.per_day),
            "weighted": self.weighted,
            "case_mix_index": _plain(self.case_mix_index),
            "days": [d.as_dict() for d in self.days],
        }


@dataclass(frozen=True)
class Productivity:
    """`code productivity`: stays signed final per coder per day, and case mix indexes."""

    since: date
    until: date
    coders: tuple[CoderProductivity, ...]
    stays: int
    weighted: int
    case_mix_index: Decimal | None
    """The department's: the mean relative weight of every stay counted."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.since.isoformat(),
            "to": self.until.isoformat(),
            "stays": self.stays,
            "weighted": self.weighted,
            "case_mix_index": _plain(self.case_mix_index),
            "coders": [c.as_dict() for c in self.coders],
        }


def tally(signings: Iterable[Signing], *, since: date, until: date) -> Productivity:
    """Productivity from final signatures (pure). A stay counts once: for whoever signed it
    final last within the days `since`…`until` (UTC, inclusive), on that day, with the weight
    of the grouping that signature named (a stay reopened and signed again is the claim that
    stands, not two stays). A stay whose grouping has no weight is counted, and left out of the
    case mix index (its mean relative weight)."""
    last: dict[UUID, Signing] = {}
    for signing in sorted(signings, key=lambda s: s.signed_at):
        if since <= _utc_day(signing.signed_at) <= until:
            last[signing.stay] = signing
    by_coder: dict[str, dict[date, list[Signing]]] = defaultdict(lambda: defaultdict(list))
    for signing in last.values():
        by_coder[signing.coder][_utc_day(signing.signed_at)].append(signing)

    def weights(found: Iterable[Signing]) -> list[Decimal]:
        return [s.relative_weight for s in found if s.relative_weight is not None]

    coders = []
    for name in sorted(by_coder):
        days = by_coder[name]
        mine = [s for day in days.values() for s in day]
        coders.append(
            CoderProductivity(
                coder=name,
                days=tuple(
                    CoderDay(name, day, len(days[day]), _mean(weights(days[day])))
                    for day in sorted(days)
                ),
                stays=len(mine),
                weighted=len(weights(mine)),
                case_mix_index=_mean(weights(mine)),
            )
        )
    every = list(last.values())
    return Productivity(
        since=since,
        until=until,
        coders=tuple(coders),
        stays=len(every),
        weighted=len(weights(every)),
        case_mix_index=_mean(weights(every)),
    )


def signings(ledger: Ledger) -> list[Signing]:
    """Every final signature, with the weight of the grouping it signed: one scan of the
    `SignedFinal` topic, then each signed abstract's events (read once)."""
    notes = ledger.recorder.select_notifications(
        start=None, limit=10_000_000, topics=[CodingAbstract.SignedFinal.TOPIC]
    )
    found: list[Signing] = []
    for originator in dict.fromkeys(cast(UUID, n.originator_id) for n in notes):
        events = list(ledger.events.get(originator))
        grouped = {e.originator_version: e for e in events if isinstance(e, CodingAbstract.Grouped)}
        stay = next(e.encounter_id for e in events if isinstance(e, CodingAbstract.Started))
        for event in events:
            if isinstance(event, CodingAbstract.SignedFinal):
                grouping = grouped.get(event.grouping_version)
                weight = None if grouping is None else grouping.relative_weight
                found.append(
                    Signing(
                        stay,
                        event.actor,
                        event.timestamp,
                        event.drg,
                        None if weight is None else Decimal(str(weight)),
                    )
                )
    return found


def coding_productivity(
    ledger: Ledger, *, since: date, until: date, actor: Identity, coder: str | None = None
) -> Productivity:
    """Stays each coder signed final per day from `since` to `until`, and the case mix index of
    what they coded. It names no patient and no stay (coders, days, counts and mean weights), so
    it records no access: there is no patient whose trail it would belong to. The HIM director
    and compliance see every coder (or `coder`); a coder sees their own
    (`policies.coding.may_read_productivity`)."""
    if until < since:
        raise UsageError(
            f"The period ends ({until.isoformat()}) before it starts ({since.isoformat()})."
        )
    reader = ledger.authenticate(actor)
    if coder is None and not rules.PRODUCTIVITY_ROLES & set(reader.roles):
        coder = actor.name  # a coder's own report
    require(rules.may_read_productivity(reader.roles, own=coder == actor.name))
    report = tally(signings(ledger), since=since, until=until)
    if coder is None:
        return report
    mine = [c for c in report.coders if c.coder == coder]  # tallied with everyone's signatures
    return Productivity(
        since=since,
        until=until,
        coders=tuple(mine),
        stays=sum(c.stays for c in mine),
        weighted=sum(c.weighted for c in mine),
        case_mix_index=mine[0].case_mix_index if mine else None,
    )


# -- the disease, operation and physician indexes -------------------------------------------------

_CM_PREFIX = re.compile(r"[A-Z]([0-9][0-9A-Z]{0,5})?")
_PCS_PREFIX = re.compile(r"[0-9A-HJ-NP-Z]{1,7}")
_ROOT_NAME = re.compile(r"[A-Za-z][A-Za-z -]{0,39}")


def _quoted(value: str) -> str:
    text = value.strip()
    return text if len(text) <= 40 else text[:40] + "…"


def diagnosis_prefix(code: str) -> str:
    """An ICD-10-CM code or the start of one (`E11`, `E11.6`, `E11.65`) as the index matches it
    (CMS form, no dot); a sentence for anything else."""
    plain = plain_code(code)
    if not _CM_PREFIX.fullmatch(plain):
        raise UsageError(
            f"'{_quoted(code)}' is not an ICD-10-CM code or category: give one such as E11, "
            "E11.6 or E11.65."
        )
    return plain


def procedure_prefix(code: str) -> str:
    """An ICD-10-PCS code or the start of one (`0DT`, `0DTJ4ZZ`); a sentence for anything else."""
    plain = plain_code(code)
    if not _PCS_PREFIX.fullmatch(plain):
        raise UsageError(
            f"'{_quoted(code)}' is not an ICD-10-PCS code or the start of one: give one such as "
            "0DT or 0DTJ4ZZ (digits and letters other than I and O)."
        )
    return plain


def root_operation(value: str) -> str:
    """A root operation as the index matches it: its character (the code's 3rd, `T`) or its
    name (`resection`, any case); a sentence for anything else."""
    from ledger.coding import icd10pcs

    text = value.strip()
    if len(text) == 1 and _PCS_PREFIX.fullmatch(text.upper()):
        return text.upper()
    if _ROOT_NAME.fullmatch(text) and text.lower() in icd10pcs.root_operation_names():
        return text.lower()
    raise UsageError(
        f"'{_quoted(text)}' is not a root operation: give its character (the code's 3rd, "
        "e.g. T) or its name (e.g. resection)."
    )


def _period(since: date | None, until: date | None) -> None:
    if since is not None and until is not None and until < since:
        raise UsageError(
            f"The period ends ({until.isoformat()}) before it starts ({since.isoformat()})."
        )


@dataclass(frozen=True)
class _Stay:
    """A coded stay in an index's period, as its one pass found it."""

    encounter: Encounter
    abstract: CodingAbstract
    mrn: str
    discharged_on: date


def _coded_stays(
    ledger: Ledger, *, since: date | None, until: date | None, include_unfinal: bool
) -> Iterator[_Stay]:
    """The discharged stays with a coding abstract, discharged (UTC date) within the period:
    the final ones, and with `include_unfinal` the rest. One scan of the abstracts' `Started`
    topic; each abstract and its encounter read once."""
    mrn_of = _Mrns(ledger)
    notes = ledger.recorder.select_notifications(
        start=None, limit=10_000_000, topics=[CodingAbstract.Started.TOPIC]
    )
    for note in notes:
        abstract = cast(CodingAbstract, ledger.repository.get(cast(UUID, note.originator_id)))
        if not (abstract.final or include_unfinal):
            continue
        encounter = ledger.encounter(abstract.encounter_id)
        if encounter.discharged_at is None:
            continue  # an open stay coded concurrently: in no discharge period yet
        day = _utc_day(encounter.discharged_at)
        if (since is not None and day < since) or (until is not None and day > until):
            continue
        yield _Stay(encounter, abstract, mrn_of(encounter.mrn), day)


def _listed(
    ledger: Ledger, rows: list[Any], *, actor: Identity, purpose: str
) -> tuple[list[Any], int]:
    """The rows the reader may see (decided row by row and recorded first), and how many of
    the rows were withheld."""
    listed = access.record_shown(
        ledger, {r.mrn for r in rows}, actor=actor, section=LIST_SECTION, purpose=purpose
    )
    kept = [r for r in rows if listed.allows(r.mrn)]
    return kept, len(rows) - len(kept)


@dataclass(frozen=True)
class DiseaseIndexRow:
    """One diagnosis on one stay."""

    code: str
    """As people read it (`E11.65`)."""
    description: str | None
    mrn: str
    encounter_id: UUID
    admitted_on: date
    discharged_on: date
    principal: bool
    poa: str
    attending: str
    final: bool

    CSV_COLUMNS = (
        "code", "description", "mrn", "encounter", "admitted", "discharged", "place", "poa",
        "attending", "final",
    )  # fmt: skip

    @property
    def place(self) -> str:
        return "principal" if self.principal else "secondary"

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "description": self.description,
            "mrn": self.mrn,
            "encounter": str(self.encounter_id),
            "admitted": self.admitted_on.isoformat(),
            "discharged": self.discharged_on.isoformat(),
            "place": self.place,
            "poa": self.poa,
            "attending": self.attending,
            "final": self.final,
        }

    def csv_rows(self) -> list[dict[str, Any]]:
        return [self.as_dict()]


def disease_index(
    ledger: Ledger,
    *,
    purpose: str,
    actor: Identity,
    code: str | None = None,
    since: date | None = None,
    until: date | None = None,
    include_unfinal: bool = False,
) -> Shown[DiseaseIndexRow]:
    """The disease index: each ICD-10-CM code (or, with `code`, those it starts: `E11` is every
    E11.*) with the patients and stays it was coded on, principal or secondary, for the stays
    discharged in the period; final-coded stays only unless `include_unfinal` (marked)."""
    wanted = None if code is None else diagnosis_prefix(code)
    _period(since, until)
    _refuse_unless_reader(ledger, actor, purpose)
    with ledger.one_read():
        found = [
            (stay, d)
            for stay in _coded_stays(
                ledger, since=since, until=until, include_unfinal=include_unfinal
            )
            for d in stay.abstract.diagnoses
            if wanted is None or d.code.startswith(wanted)
        ]
        describe = _describer() if found else None
        rows = [
            DiseaseIndexRow(
                code=dotted_diagnosis(d.code),
                description=describe(d.code) if describe else None,
                mrn=stay.mrn,
                encounter_id=stay.encounter.id,
                admitted_on=_utc_day(stay.encounter.admitted_at),
                discharged_on=stay.discharged_on,
                principal=d.principal,
                poa=d.poa,
                attending=stay.encounter.attending,
                final=stay.abstract.final,
            )
            for stay, d in found
        ]
        rows.sort(key=lambda r: (plain_code(r.code), r.discharged_on, r.mrn, str(r.encounter_id)))
        kept, withheld = _listed(ledger, rows, actor=actor, purpose=purpose)
    return Shown(kept, withheld=withheld)


def _describer() -> Any:
    from ledger.coding import icd10cm  # simple_icd_10_cm takes ~2 s: only when there are rows

    return icd10cm.describe


@dataclass(frozen=True)
class OperationIndexRow:
    """One procedure on one stay, with its surgeon."""

    code: str
    title: str | None
    root_operation: str
    """The code's 3rd character."""
    root_operation_name: str | None
    mrn: str
    encounter_id: UUID
    performed_on: date
    surgeon: str
    discharged_on: date
    final: bool

    CSV_COLUMNS = (
        "code", "title", "root_operation", "root_operation_name", "mrn", "encounter",
        "performed", "surgeon", "discharged", "final",
    )  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title,
            "root_operation": self.root_operation,
            "root_operation_name": self.root_operation_name,
            "mrn": self.mrn,
            "encounter": str(self.encounter_id),
            "performed": self.performed_on.isoformat(),
            "surgeon": self.surgeon,
            "discharged": self.discharged_on.isoformat(),
            "final": self.final,
        }

    def csv_rows(self) -> list[dict[str, Any]]:
        return [self.as_dict()]


def operation_index(
    ledger: Ledger,
    *,
    purpose: str,
    actor: Identity,
    code: str | None = None,
    root: str | None = None,
    surgeon: str | None = None,
    since: date | None = None,
    until: date | None = None,
    include_unfinal: bool = False,
) -> Shown[OperationIndexRow]:
    """The operation index: each ICD-10-PCS procedure (or those `code` starts, or of a root
    operation: `root` "T" or "resection") with its surgeon, date, patient and stay, for the
    stays discharged in the period; final-coded stays only unless `include_unfinal` (marked)."""
    from ledger.coding import icd10pcs

    wanted = None if code is None else procedure_prefix(code)
    operation = None if root is None else root_operation(root)
    _period(since, until)
    _refuse_unless_reader(ledger, actor, purpose)

    def matches(plain: str) -> bool:
        if wanted is not None and not plain.startswith(wanted):
            return False
        if operation is None:
            return True
        if len(operation) == 1:
            return plain[2:3] == operation
        return (icd10pcs.root_operation_name(plain) or "").lower() == operation

    with ledger.one_read():
        rows = [
            OperationIndexRow(
                code=p.code,
                title=icd10pcs.title(p.code),
                root_operation=p.code[2:3],
                root_operation_name=icd10pcs.root_operation_name(p.code),
                mrn=stay.mrn,
                encounter_id=stay.encounter.id,
                performed_on=p.on,
                surgeon=p.operating_physician,
                discharged_on=stay.discharged_on,
                final=stay.abstract.final,
            )
            for stay in _coded_stays(
                ledger, since=since, until=until, include_unfinal=include_unfinal
            )
            for p in stay.abstract.procedures
            if matches(p.code) and (surgeon is None or p.operating_physician == surgeon)
        ]
        rows.sort(key=lambda r: (r.code, r.performed_on, r.mrn, str(r.encounter_id)))
        kept, withheld = _listed(ledger, rows, actor=actor, purpose=purpose)
    return Shown(kept, withheld=withheld)


@dataclass(frozen=True)
class PhysicianStay:
    """One stay of an attending, as the physician index lists it."""

    encounter_id: UUID
    mrn: str
    admitted_on: date
    discharged_on: date
    length_of_stay: int
    """Days from the admission date to the discharge date; a stay begun and ended the same
    day counts one."""
    drg: int | None
    """The DRG of its final grouping (not final: its last grouping's, if any)."""
    drg_title: str | None
    relative_weight: Decimal | None
    final: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "encounter": str(self.encounter_id),
            "mrn": self.mrn,
            "admitted": self.admitted_on.isoformat(),
            "discharged": self.discharged_on.isoformat(),
            "length_of_stay": self.length_of_stay,
            "drg": self.drg,
            "drg_title": self.drg_title,
            "relative_weight": _plain(self.relative_weight),
            "final": self.final,
        }


@dataclass(frozen=True)
class DrgCount:
    drg: int
    title: str | None
    stays: int

    def as_dict(self) -> dict[str, Any]:
        return {"drg": self.drg, "title": self.title, "stays": self.stays}


@dataclass(frozen=True)
class PhysicianIndexRow:
    """An attending's stays discharged in the period: the physician index's entry."""

    physician: str
    stays: tuple[PhysicianStay, ...]
    """In order of discharge."""
    drgs: tuple[DrgCount, ...]
    """The DRGs of the stays, the most frequent first."""

    CSV_COLUMNS = (
        "physician", "mrn", "encounter", "admitted", "discharged", "length_of_stay", "drg",
        "drg_title", "relative_weight", "final",
    )  # fmt: skip

    @property
    def mrns(self) -> frozenset[str]:
        return frozenset(s.mrn for s in self.stays)

    @property
    def discharges(self) -> int:
        return len(self.stays)

    @property
    def patients(self) -> int:
        return len(self.mrns)

    @property
    def patient_days(self) -> int:
        return sum(s.length_of_stay for s in self.stays)

    @property
    def average_length_of_stay(self) -> Decimal | None:
        return _mean([Decimal(s.length_of_stay) for s in self.stays], "0.01")

    @property
    def case_mix_index(self) -> Decimal | None:
        """The mean relative weight of the attending's final-coded stays."""
        return _mean(
            [s.relative_weight for s in self.stays if s.final and s.relative_weight is not None]
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "physician": self.physician,
            "discharges": self.discharges,
            "patients": self.patients,
            "patient_days": self.patient_days,
            "average_length_of_stay": _plain(self.average_length_of_stay),
            "case_mix_index": _plain(self.case_mix_index),
            "drgs": [d.as_dict() for d in self.drgs],
            "stays": [s.as_dict() for s in self.stays],
        }

    def csv_rows(self) -> list[dict[str, Any]]:
        return [{"physician": self.physician, **s.as_dict()} for s in self.stays]


def length_of_stay(admitted: date, discharged: date) -> int:
    """Days from admission to discharge (the midnights in between); a same-day stay is one."""
    return max((discharged - admitted).days, 1)


def physician_index(
    ledger: Ledger,
    *,
    purpose: str,
    actor: Identity,
    physician: str | None = None,
    since: date | None = None,
    until: date | None = None,
    include_unfinal: bool = False,
) -> Shown[PhysicianIndexRow]:
    """The physician index: by attending (at discharge), their stays discharged in the
    period, the discharges, patients, average length of stay and the DRGs; final-coded stays
    only unless `include_unfinal` (marked). Each stay's MRN is decided and recorded first; a
    withheld stay is left out of its physician's figures too (and counted)."""
    _period(since, until)
    _refuse_unless_reader(ledger, actor, purpose)
    with ledger.one_read():
        stays = [
            (stay.encounter.attending, _physician_stay(stay))
            for stay in _coded_stays(
                ledger, since=since, until=until, include_unfinal=include_unfinal
            )
            if physician is None or stay.encounter.attending == physician
        ]
        listed = access.record_shown(
            ledger, {s.mrn for _, s in stays}, actor=actor, section=LIST_SECTION, purpose=purpose
        )
    by_physician: dict[str, list[PhysicianStay]] = defaultdict(list)
    for name, stay in stays:
        if listed.allows(stay.mrn):
            by_physician[name].append(stay)
    rows = []
    for name in sorted(by_physician):
        mine = sorted(by_physician[name], key=lambda s: (s.discharged_on, s.mrn))
        counts: dict[int, int] = defaultdict(int)
        titles: dict[int, str | None] = {}
        for s in mine:
            if s.drg is not None:
                counts[s.drg] += 1
                titles[s.drg] = s.drg_title
        drgs = tuple(
            DrgCount(drg, titles[drg], n)
            for drg, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        )
        rows.append(PhysicianIndexRow(name, tuple(mine), drgs))
    shown = sum(len(r.stays) for r in rows)
    return Shown(rows, withheld=len(stays) - shown)


def _physician_stay(stay: _Stay) -> PhysicianStay:
    last = stay.abstract.last_grouping
    fields = {} if last is None else last.fields
    admitted = _utc_day(stay.encounter.admitted_at)
    return PhysicianStay(
        encounter_id=stay.encounter.id,
        mrn=stay.mrn,
        admitted_on=admitted,
        discharged_on=stay.discharged_on,
        length_of_stay=length_of_stay(admitted, stay.discharged_on),
        drg=None if last is None else last.drg,
        drg_title=fields.get("drg_title"),
        relative_weight=_weight(fields),
        final=stay.abstract.final,
    )


def write_index_csv(out: TextIO, columns: Sequence[str], rows: Iterable[Any]) -> None:
    """An index as CSV (RFC 4180 quoting, a header row, one line per stay's code, procedure or
    stay); a cell a spreadsheet would run as a formula (= + - @ tab CR first) is prefixed with
    `'` (`policies.limits.csv_cell`), as every CSV the ledger writes."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        for line in row.csv_rows():
            writer.writerow([csv_cell(_csv_text(line.get(c))) for c in columns])


def _csv_text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value
