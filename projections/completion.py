"""Chart completion, read side: every encounter's deficiencies, delinquent records and the
physicians in jeopardy, from the charts' content and `policies.deficiency`.

The facts are gathered from the encounter aggregates (a scan of `Opened` notifications, as
`ledger.charts` does; an encounter index view should replace it) and the documents filed to
each encounter. What is shown names MRNs, deficiency kinds and physicians only; the MRNs shown
are recorded as an access (purpose operations) first.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import cast
from uuid import UUID

from ledger.application import Ledger
from ledger.documents import Document
from ledger.encounter import Encounter
from ledger.keys import Identity
from policies.deficiency import (
    CompletionRules,
    Deficiency,
    Delinquency,
    EncounterFacts,
    EntryFacts,
    Jeopardy,
    deficiencies,
    delinquency_rate,
    delinquent,
    jeopardy,
)

DEFAULT_RULES = CompletionRules()
RATE_MONTHS = 3


def _facts(ledger: Ledger) -> list[EncounterFacts]:
    physicians = {u.name for u in ledger.users() if "physician" in u.roles}
    documents: dict[UUID, list[str]] = defaultdict(list)
    for note in ledger.recorder.select_notifications(
        start=None, limit=10_000_000, topics=[Document.Filed.TOPIC]
    ):
        document = cast(Document, ledger.repository.get(cast(UUID, note.originator_id)))
        if document.encounter_id is not None:
            documents[document.encounter_id].append(document.kind)
    found = []
    for note in ledger.recorder.select_notifications(
        start=None, limit=10_000_000, topics=[Encounter.Opened.TOPIC]
    ):
        encounter = ledger.encounter(cast(UUID, note.originator_id))
        found.append(
            EncounterFacts(
                id=str(encounter.id),
                mrn=encounter.mrn,
                encounter_class=encounter.encounter_class,
                attending=encounter.attending,
                admitted_at=encounter.admitted_at,
                discharged_at=encounter.discharged_at,
                entries=tuple(
                    EntryFacts(
                        id=f"{encounter.id}:{entry.id}",
                        kind=entry.kind,
                        author=entry.author,
                        effective_at=entry.effective_at,
                        signed=entry.signed,
                        physician_entry=entry.author in physicians,
                    )
                    for entry in encounter.entries.values()
                    if not entry.retracted
                ),
                documents=tuple(documents.get(encounter.id, [])),
            )
        )
    return found


def _record(ledger: Ledger, mrns: set[str], actor: Identity) -> None:
    ledger.record_access(
        sorted(mrns), actor=actor, action="query", sections=["completion"], purpose="operations"
    )


def open_deficiencies(
    ledger: Ledger,
    *,
    now: datetime,
    actor: Identity,
    physician: str | None = None,
    rules: CompletionRules = DEFAULT_RULES,
) -> list[Deficiency]:
    found = [d for e in _facts(ledger) for d in deficiencies(e, now=now, rules=rules)]
    if physician is not None:
        found = [d for d in found if d.physician == physician]
    found.sort(key=lambda d: (d.due_at, d.mrn, d.kind))
    _record(ledger, {d.mrn for d in found}, actor)
    return found


def delinquent_records(
    ledger: Ledger, *, now: datetime, actor: Identity, rules: CompletionRules = DEFAULT_RULES
) -> tuple[list[Delinquency], float]:
    """Delinquent records, and the delinquency rate: delinquent records over the average monthly
    discharges of the last `RATE_MONTHS` months (30-day months before `now`)."""
    facts = _facts(ledger)
    found = delinquent(facts, now=now, rules=rules)
    months = [0] * RATE_MONTHS
    for encounter in facts:
        if encounter.discharged_at is None or encounter.discharged_at > now:
            continue
        month = int((now - encounter.discharged_at) / timedelta(days=30))
        if month < RATE_MONTHS:
            months[month] += 1
    _record(ledger, {d.mrn for d in found}, actor)
    return found, delinquency_rate(len({d.encounter for d in found}), months)


def physicians_in_jeopardy(
    ledger: Ledger, *, now: datetime, actor: Identity, rules: CompletionRules = DEFAULT_RULES
) -> list[Jeopardy]:
    facts = _facts(ledger)
    found = jeopardy(facts, now=now, rules=rules)
    mrns = {f.mrn for f in facts if any(f.id in j.records for j in found)}
    _record(ledger, mrns, actor)
    return found
