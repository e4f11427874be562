"""Chart completion: what an encounter's record still lacks, who must supply it, and delinquency.

Pure: the facts of an encounter (its times, attending, entries and documents), the rules and
`now` in; deficiencies out, each assigned to a physician. Defaults follow the Medicare
conditions of participation (42 CFR 482.22, 482.24, 482.51):

- `history-and-physical`: an inpatient needs a history and an examination (entries of kind
  "history" and "examination") within `hp_hours` (24) of admission;
- `discharge-summary`: a discharged inpatient needs a discharge summary (a "discharge-summary"
  document) within `summary_days` of discharge;
- `operative-report`: each operative procedure needs an operative report (an
  "operative-report" document) within `operative_hours` of the procedure;
- `consent`: an operative procedure needs a consent (a "consent" document) on the chart;
- `progress-notes`: an inpatient stay needs a progress note for every full day in hospital;
- `signature`: every physician's entry must be signed by its author, for its current version
  (the attending's signature on it does not stand in for the author's);
- `co-signature`: an entry written by a physician in training (`trainees`) must also be signed
  by the encounter's attending;
- `query`: a physician query sent to a physician and not yet answered (nor withdrawn) is theirs
  to answer from the moment it was sent; it is overdue, and may be escalated,
  `query_overdue_days` (7) later (`policies.queries`).

Each deficiency names what the physician must do (`ACTIONS`): the three reports are dictated,
notes written, a consent obtained, entries signed or co-signed, queries answered.

A procedure is operative when its entry says so (field `operative`), or when its code is an
ICD-10-PCS code in the Medical and Surgical section (seven characters, the first "0"). Records
discharged before `tracking_starts` (the day the hospital began completion tracking on this
ledger; migrated history is not re-analysed) have no deficiencies. A deficiency the records
department waived (resolved with a reason while the chart still lacks it) is not raised again.

A record is delinquent `delinquent_days` (30) after discharge while a deficiency remains (an
unanswered query included: its answer is documentation the record still lacks); its
physician gets a warning at `warning_days` (21) and is in jeopardy of losing admitting privileges
`suspension_after_warning_days` (10) after the warning.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from policies.queries import OVERDUE_DAYS

POLICY_VERSION = "deficiency/2"
ACTIONS = {  # for each of `policies.records.DEFICIENCIES`, what the physician does about it
    "history-and-physical": "dictate",
    "discharge-summary": "dictate",
    "operative-report": "dictate",
    "consent": "obtain",
    "progress-notes": "write",
    "signature": "sign",
    "co-signature": "co-sign",
    "query": "answer",
}
"""What the physician must do about each kind of deficiency."""
TRUE_WORDS = frozenset({"yes", "true", "1", "y"})


@dataclass(frozen=True)
class CompletionRules:
    """The thresholds (configurable; the defaults are the conditions of participation's)."""

    hp_hours: int = 24
    summary_days: int = 30
    operative_hours: int = 24
    delinquent_days: int = 30
    warning_days: int = 21
    suspension_after_warning_days: int = 10
    query_overdue_days: int = OVERDUE_DAYS
    """Days from sending until an unanswered physician query is overdue."""
    tracking_starts: datetime | None = None
    trainees: frozenset[str] = frozenset()
    """Physicians in training, whose entries the attending must co-sign."""

    @classmethod
    def from_mapping(cls, document: Mapping[str, Any]) -> CompletionRules:
        """The `[completion]` table of the policy document; a `ValueError` names a problem."""
        section = document.get("completion", {})
        if not isinstance(section, Mapping):
            raise ValueError("[completion] must be a table")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(section) - known)
        if unknown:
            raise ValueError(f"[completion] has an unknown setting '{unknown[0]}'")
        values: dict[str, Any] = {}
        for name in known - {"tracking_starts", "trainees"}:
            if name in section:
                value = section[name]
                if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= 3650:
                    raise ValueError(f"[completion] {name} must be a whole number from 1 to 3650")
                values[name] = value
        if "tracking_starts" in section:
            start = section["tracking_starts"]
            if isinstance(start, datetime):
                values["tracking_starts"] = start if start.tzinfo else start.replace(tzinfo=UTC)
            elif isinstance(start, date):
                values["tracking_starts"] = datetime.combine(start, time(), tzinfo=UTC)
            else:
                raise ValueError("[completion] tracking_starts must be a date, e.g. 2026-01-01")
        trainees = section.get("trainees", [])
        if not isinstance(trainees, list) or not all(isinstance(t, str) for t in trainees):
            raise ValueError("[completion] trainees must be a list of user names")
        values["trainees"] = frozenset(t.strip() for t in trainees)
        return cls(**values)


@dataclass(frozen=True)
class EntryFacts:
    id: str
    kind: str
    author: str
    effective_at: datetime
    physician_entry: bool
    """Written by a physician (so it needs the physician's signature)."""
    operative: bool = False
    """An operative procedure (see `is_operative`)."""
    signers: tuple[str, ...] = ()
    """Who signed the entry's current version."""


def is_operative(entry_fields: Mapping[str, Any]) -> bool:
    """Whether a procedure entry is an operative one: flagged so, or coded in ICD-10-PCS's
    Medical and Surgical section."""
    flag = entry_fields.get("operative")
    if flag is not None:
        return flag is True or str(flag).strip().lower() in TRUE_WORDS
    code = str(entry_fields.get("code") or "").strip().upper()
    system = str(entry_fields.get("system") or "")
    pcs = not system or "icd-10-pcs" in system.lower() or "icd10pcs" in system.lower()
    return pcs and len(code) == 7 and code.isalnum() and code.startswith("0")


@dataclass(frozen=True)
class QueryFacts:
    """A physician query of the encounter that was sent and is not answered or withdrawn."""

    id: str
    physician: str
    sent_at: datetime


@dataclass(frozen=True)
class EncounterFacts:
    id: str
    mrn: str
    encounter_class: str
    attending: str
    admitted_at: datetime
    discharged_at: datetime | None
    entries: tuple[EntryFacts, ...]
    documents: tuple[str, ...]
    """The kinds of the documents filed to the encounter."""
    waived: frozenset[str] = frozenset()
    """Keys of deficiencies the records department waived."""
    queries: tuple[QueryFacts, ...] = ()
    """The physician queries awaiting an answer."""


@dataclass(frozen=True)
class Deficiency:
    kind: str
    encounter: str
    mrn: str
    physician: str
    due_at: datetime
    why: str
    entry: str | None = None

    @property
    def action(self) -> str:
        return ACTIONS[self.kind]

    @property
    def key(self) -> str:
        """Names the deficiency within its encounter, the same from one scan to the next."""
        return self.kind if self.entry is None else f"{self.kind}:{self.entry}"


def tracked(encounter: EncounterFacts, rules: CompletionRules) -> bool:
    """Whether completion tracking covers the encounter (not discharged before it started)."""
    return (
        rules.tracking_starts is None
        or encounter.discharged_at is None
        or encounter.discharged_at >= rules.tracking_starts
    )


def deficiencies(
    encounter: EncounterFacts, *, now: datetime, rules: CompletionRules = CompletionRules()
) -> list[Deficiency]:
    """What the encounter's record lacks now, each due at a moment already passed."""
    if not tracked(encounter, rules):
        return []
    found: list[Deficiency] = []
    kinds = {e.kind for e in encounter.entries}
    inpatient = encounter.encounter_class == "inpatient"

    def add(
        kind: str, due: datetime, why: str, physician: str | None = None, entry: str | None = None
    ) -> None:
        if due <= now:
            found.append(
                Deficiency(
                    kind,
                    encounter.id,
                    encounter.mrn,
                    physician or encounter.attending,
                    due,
                    why,
                    entry,
                )
            )

    if inpatient and not {"history", "examination"} <= kinds:
        add(
            "history-and-physical",
            encounter.admitted_at + timedelta(hours=rules.hp_hours),
            f"no history and physical within {rules.hp_hours} hours of admission",
        )
    if (
        inpatient
        and encounter.discharged_at is not None
        and "discharge-summary" not in encounter.documents
    ):
        add(
            "discharge-summary",
            encounter.discharged_at + timedelta(days=rules.summary_days),
            f"no discharge summary {rules.summary_days} days after discharge",
        )
    procedures = [e for e in encounter.entries if e.kind == "procedure" and e.operative]
    operative_reports = encounter.documents.count("operative-report")
    for number, procedure in enumerate(sorted(procedures, key=lambda e: e.effective_at), 1):
        if number > operative_reports:
            add(
                "operative-report",
                procedure.effective_at + timedelta(hours=rules.operative_hours),
                f"no operative report within {rules.operative_hours} hours of an operation",
                procedure.author if procedure.physician_entry else None,
                procedure.id,
            )
    if procedures and "consent" not in encounter.documents:
        add(
            "consent",
            min(p.effective_at for p in procedures),
            "an operative procedure with no consent filed",
        )
    if inpatient:
        end = encounter.discharged_at or now
        days = int((end - encounter.admitted_at) / timedelta(days=1))
        notes = sum(1 for e in encounter.entries if e.kind == "progress-note")
        if notes < days:
            add(
                "progress-notes",
                encounter.admitted_at + timedelta(days=notes + 1),
                f"{notes} progress notes for {days} full days in hospital",
            )
    for entry in encounter.entries:
        if entry.physician_entry and entry.author not in entry.signers:
            add(
                "signature",
                entry.effective_at,
                "an entry not signed by its author",
                entry.author,
                entry.id,
            )
        if entry.author in rules.trainees and encounter.attending not in entry.signers:
            add(
                "co-signature",
                entry.effective_at,
                f"an entry by {entry.author} not co-signed by the attending",
                encounter.attending,
                entry.id,
            )
    for query in encounter.queries:
        add(
            "query",
            query.sent_at,
            f"a physician query sent {query.sent_at.date().isoformat()} awaits an answer "
            f"(overdue after {rules.query_overdue_days} days)",
            query.physician,
            f"{encounter.id}:{query.id}",
        )
    return [d for d in found if d.key not in encounter.waived]


def _deficient_after(
    encounters: Iterable[EncounterFacts], *, days: int, now: datetime, rules: CompletionRules
) -> Iterator[tuple[EncounterFacts, datetime, datetime, list[Deficiency]]]:
    """Each encounter discharged at least `days` before `now`: with its discharge, the moment
    it passed that mark, and what it still lacks."""
    for encounter in encounters:
        discharged = encounter.discharged_at
        if discharged is not None and discharged + timedelta(days=days) <= now:
            missing = deficiencies(encounter, now=now, rules=rules)
            yield encounter, discharged, discharged + timedelta(days=days), missing


@dataclass(frozen=True)
class Delinquency:
    encounter: str
    mrn: str
    physician: str
    discharged_at: datetime
    delinquent_since: datetime
    deficiencies: tuple[str, ...]


def delinquent(
    encounters: Iterable[EncounterFacts],
    *,
    now: datetime,
    rules: CompletionRules = CompletionRules(),
) -> list[Delinquency]:
    """Records still deficient `delinquent_days` after discharge, oldest first."""
    found = []
    for encounter, discharged, since, missing in _deficient_after(
        encounters, days=rules.delinquent_days, now=now, rules=rules
    ):
        for physician in sorted({d.physician for d in missing}):
            kinds = tuple(sorted({d.kind for d in missing if d.physician == physician}))
            found.append(
                Delinquency(encounter.id, encounter.mrn, physician, discharged, since, kinds)
            )
    return sorted(found, key=lambda d: (d.delinquent_since, d.encounter, d.physician))


@dataclass(frozen=True)
class Jeopardy:
    physician: str
    warned_at: datetime
    suspension_at: datetime
    records: tuple[str, ...]
    """The encounters behind the warning."""


def jeopardy(
    encounters: Sequence[EncounterFacts],
    *,
    now: datetime,
    rules: CompletionRules = CompletionRules(),
) -> list[Jeopardy]:
    """Physicians warned (a deficient record `warning_days` after discharge), with the day their
    admitting privileges are suspended if the records stay incomplete."""
    oldest: dict[str, datetime] = {}
    records: dict[str, list[str]] = defaultdict(list)
    for encounter, _, warned, missing in _deficient_after(
        encounters, days=rules.warning_days, now=now, rules=rules
    ):
        for physician in {d.physician for d in missing}:
            records[physician].append(encounter.id)
            oldest[physician] = min(oldest.get(physician, warned), warned)
    return [
        Jeopardy(
            physician,
            warned,
            warned + timedelta(days=rules.suspension_after_warning_days),
            tuple(sorted(records[physician])),
        )
        for physician, warned in sorted(oldest.items(), key=lambda item: item[1])
    ]


def delinquency_rate(delinquent_records: int, discharges_by_month: Sequence[int]) -> float:
    """Delinquent records divided by the average monthly discharges (0 when none)."""
    if not discharges_by_month or not sum(discharges_by_month):
        return 0.0
    return delinquent_records / (sum(discharges_by_month) / len(discharges_by_month))
