"""Chart completion rules (policies/deficiency.py): each deficiency at its boundary, delinquency,
jeopardy and the delinquency rate."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from policies.deficiency import (
    CompletionRules,
    EncounterFacts,
    EntryFacts,
    deficiencies,
    delinquency_rate,
    delinquent,
    jeopardy,
)

ADMIT = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
DISCHARGE = ADMIT + timedelta(days=2)


def entry(kind: str, *, hours: float = 1, signed: bool = True, ident: str = "") -> EntryFacts:
    return EntryFacts(
        ident or f"{kind}-{hours}", kind, "doc1", ADMIT + timedelta(hours=hours), signed, True
    )


COMPLETE = EncounterFacts(
    id="enc1",
    mrn="MR0000001",
    encounter_class="inpatient",
    attending="doc1",
    admitted_at=ADMIT,
    discharged_at=DISCHARGE,
    entries=(
        entry("history"),
        entry("examination"),
        entry("progress-note", hours=20),
        entry("progress-note", hours=44),
        entry("procedure", hours=30),
    ),
    documents=("discharge-summary", "operative-report", "consent"),
)


def kinds(encounter: EncounterFacts, now: datetime) -> set[str]:
    return {d.kind for d in deficiencies(encounter, now=now)}


def test_a_complete_record_has_no_deficiency() -> None:
    assert kinds(COMPLETE, DISCHARGE + timedelta(days=60)) == set()


def test_history_and_physical_is_due_24_hours_after_admission() -> None:
    missing = replace(COMPLETE, entries=COMPLETE.entries[1:])
    due = ADMIT + timedelta(hours=24)
    assert "history-and-physical" not in kinds(missing, due - timedelta(seconds=1))
    assert "history-and-physical" in kinds(missing, due)
    outpatient = replace(missing, encounter_class="outpatient")
    assert "history-and-physical" not in kinds(outpatient, due + timedelta(days=5))


def test_the_discharge_summary_is_due_30_days_after_discharge() -> None:
    missing = replace(COMPLETE, documents=("operative-report", "consent"))
    due = DISCHARGE + timedelta(days=30)
    assert "discharge-summary" not in kinds(missing, due - timedelta(seconds=1))
    found = [d for d in deficiencies(missing, now=due) if d.kind == "discharge-summary"]
    assert found and found[0].physician == "doc1"


def test_each_procedure_needs_an_operative_report_and_a_consent() -> None:
    no_report = replace(COMPLETE, documents=("discharge-summary", "consent"))
    due = ADMIT + timedelta(hours=30 + 24)
    assert "operative-report" not in kinds(no_report, due - timedelta(seconds=1))
    assert "operative-report" in kinds(no_report, due)
    no_consent = replace(COMPLETE, documents=("discharge-summary", "operative-report"))
    assert "consent" in kinds(no_consent, DISCHARGE)
    two_procedures = replace(COMPLETE, entries=(*COMPLETE.entries, entry("procedure", hours=40)))
    assert "operative-report" in kinds(two_procedures, DISCHARGE + timedelta(days=3))


def test_a_progress_note_for_every_full_day() -> None:
    one_note = replace(
        COMPLETE, entries=tuple(e for e in COMPLETE.entries if e.id != "progress-note-44")
    )
    assert "progress-notes" in kinds(one_note, DISCHARGE)
    assert "progress-notes" not in kinds(COMPLETE, DISCHARGE)


def test_an_unsigned_physician_entry_is_a_signature_deficiency() -> None:
    unsigned = replace(COMPLETE, entries=(*COMPLETE.entries, entry("diagnosis", signed=False)))
    found = [d for d in deficiencies(unsigned, now=DISCHARGE) if d.kind == "signature"]
    assert [(d.physician, d.entry) for d in found] == [("doc1", "diagnosis-1")]
    nurse_note = replace(entry("progress-note", signed=False), physician_entry=False)
    assert "signature" not in kinds(
        replace(COMPLETE, entries=(*COMPLETE.entries, nurse_note)), DISCHARGE
    )


def test_delinquent_30_days_after_discharge_warning_at_21_suspension_10_days_later() -> None:
    missing = replace(COMPLETE, documents=("operative-report", "consent"))
    day30 = DISCHARGE + timedelta(days=30)
    assert delinquent([missing], now=day30 - timedelta(seconds=1)) == []
    (record,) = delinquent([missing], now=day30)
    assert record.physician == "doc1" and record.deficiencies == ("discharge-summary",)
    assert delinquent([COMPLETE], now=day30) == []
    # The discharge summary is due at 30 days, so at 21 days the warning comes from another gap.
    unsigned = replace(missing, entries=(*missing.entries, entry("diagnosis", signed=False)))
    day21 = DISCHARGE + timedelta(days=21)
    assert jeopardy([unsigned], now=day21 - timedelta(seconds=1)) == []
    (warned,) = jeopardy([unsigned], now=day21)
    assert warned.physician == "doc1" and warned.records == ("enc1",)
    assert warned.suspension_at == day21 + timedelta(days=10)


def test_rules_are_configurable() -> None:
    missing = replace(COMPLETE, documents=("operative-report", "consent"))
    strict = CompletionRules(summary_days=2, delinquent_days=7)
    assert delinquent([missing], now=DISCHARGE + timedelta(days=7), rules=strict)


def test_the_delinquency_rate() -> None:
    assert delinquency_rate(6, [40, 50, 60]) == 6 / 50
    assert delinquency_rate(3, []) == 0.0
