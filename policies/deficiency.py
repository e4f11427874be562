"""Chart completion: what an encounter's record still lacks, who must supply it, and delinquency.

Pure: the facts of an encounter (its times, attending, entries and documents), the rules and
`now` in; deficiencies out, each assigned to a physician. Defaults follow the Medicare
conditions of participation (42 CFR 482.22, 482.24, 482.51):

- `history-and-physical`: an inpatient needs a history and an examination (entries of kind
  "history" and "examination") within `hp_hours` (24) of admission;
- `discharge-summary`: a discharged inpatient needs a discharge summary (a "discharge-summary"
  document) within `summary_days` of discharge;
- `operative-report`: each procedure needs an operative report (an "operative-report" document)
  within `operative_hours` of the procedure;
- `consent`: each procedure needs a consent (a "consent" document) on the chart;
- `progress-notes`: an inpatient stay needs a progress note for every full day in hospital;
- `signature`: every physician's entry must be signed by its author, for its current version.

A record is delinquent `delinquent_days` (30) after discharge while a deficiency remains; its
physician gets a warning at `warning_days` (21) and is in jeopardy of losing admitting privileges
`suspension_after_warning_days` (10) after the warning.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

POLICY_VERSION = "deficiency/1"
DEFICIENCIES = (
    "history-and-physical",
    "discharge-summary",
    "operative-report",
    "consent",
    "progress-notes",
    "signature",
)


@dataclass(frozen=True)
class CompletionRules:
    """The thresholds (configurable; the defaults are the conditions of participation's)."""

    hp_hours: int = 24
    summary_days: int = 30
    operative_hours: int = 24
    delinquent_days: int = 30
    warning_days: int = 21
    suspension_after_warning_days: int = 10


@dataclass(frozen=True)
class EntryFacts:
    id: str
    kind: str
    author: str
    effective_at: datetime
    signed: bool
    physician_entry: bool
    """Written by a physician (so it needs the physician's signature)."""


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


@dataclass(frozen=True)
class Deficiency:
    kind: str
    encounter: str
    mrn: str
    physician: str
    due_at: datetime
    why: str
    entry: str | None = None


def deficiencies(
    encounter: EncounterFacts, *, now: datetime, rules: CompletionRules = CompletionRules()
) -> list[Deficiency]:
    """What the encounter's record lacks now, each due at a moment already passed."""
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
    procedures = [e for e in encounter.entries if e.kind == "procedure"]
    operative_reports = encounter.documents.count("operative-report")
    for number, procedure in enumerate(sorted(procedures, key=lambda e: e.effective_at), 1):
        if number > operative_reports:
            add(
                "operative-report",
                procedure.effective_at + timedelta(hours=rules.operative_hours),
                f"no operative report within {rules.operative_hours} hours of a procedure",
                procedure.author if procedure.physician_entry else None,
                procedure.id,
            )
    if procedures and "consent" not in encounter.documents:
        add("consent", min(p.effective_at for p in procedures), "a procedure with no consent filed")
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
        if entry.physician_entry and not entry.signed:
            add(
                "signature",
                entry.effective_at,
                "an entry not signed by its author",
                entry.author,
                entry.id,
            )
    return found


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
    for encounter in encounters:
        if encounter.discharged_at is None:
            continue
        since = encounter.discharged_at + timedelta(days=rules.delinquent_days)
        if since > now:
            continue
        missing = deficiencies(encounter, now=now, rules=rules)
        for physician in sorted({d.physician for d in missing}):
            kinds = tuple(sorted({d.kind for d in missing if d.physician == physician}))
            found.append(
                Delinquency(
                    encounter.id, encounter.mrn, physician, encounter.discharged_at, since, kinds
                )
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
    for encounter in encounters:
        if encounter.discharged_at is None:
            continue
        warned = encounter.discharged_at + timedelta(days=rules.warning_days)
        if warned > now:
            continue
        for physician in {d.physician for d in deficiencies(encounter, now=now, rules=rules)}:
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
