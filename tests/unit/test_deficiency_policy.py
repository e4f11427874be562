"""Chart completion rules (policies/deficiency.py): each deficiency at its boundary, delinquency,
jeopardy and the delinquency rate."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from policies.deficiency import (
    ACTIONS,
    CompletionRules,
    EncounterFacts,
    EntryFacts,
    deficiencies,
    delinquency_rate,
    delinquent,
    is_operative,
    jeopardy,
)
from policies.records import DEFICIENCIES

ADMIT = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
DISCHARGE = ADMIT + timedelta(days=2)


def entry(kind: str, *, hours: float = 1, signed: bool = True, ident: str = "") -> EntryFacts:
    return EntryFacts(
        ident or f"{kind}-{hours}",
        kind,
        "doc1",
        ADMIT + timedelta(hours=hours),
        True,
        operative=kind == "procedure",
        signers=("doc1",) if signed else (),
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
    # The attending's signature does not stand in for the author's.
    signed_by_other = replace(entry("diagnosis", signed=False), author="doc2", signers=("doc1",))
    found = deficiencies(replace(COMPLETE, entries=(signed_by_other,)), now=DISCHARGE)
    assert [(d.kind, d.physician) for d in found if d.kind == "signature"] == [
        ("signature", "doc2")
    ]


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


def test_only_operative_procedures_need_a_report_and_a_consent() -> None:
    bedside = replace(entry("procedure", hours=30), operative=False)
    others = tuple(e for e in COMPLETE.entries if e.kind != "procedure")
    record = replace(COMPLETE, entries=(*others, bedside), documents=("discharge-summary",))
    assert not {"operative-report", "consent"} & kinds(record, DISCHARGE + timedelta(days=3))
    assert is_operative({"code": "0DTJ4ZZ"})  # appendectomy, ICD-10-PCS Medical and Surgical
    assert is_operative({"code": "0dtj4zz", "system": "http://www.cms.gov/ICD-10-PCS"})
    assert not is_operative({"code": "BW03ZZZ"})  # imaging section
    assert not is_operative({"code": "0123456", "system": "http://snomed.info/sct"})
    assert not is_operative({"code": "430193006", "system": "http://snomed.info/sct"})
    assert is_operative({"code": "430193006", "operative": "yes"})
    assert not is_operative({"code": "0DTJ4ZZ", "operative": "no"})


def test_a_trainee_entry_needs_the_attendings_co_signature() -> None:
    rules = CompletionRules(trainees=frozenset({"resident1"}))
    note = replace(entry("progress-note", hours=44), author="resident1", signers=("resident1",))
    others = tuple(e for e in COMPLETE.entries if e.id != "progress-note-44")
    record = replace(COMPLETE, entries=(*others, note))
    found = [d for d in deficiencies(record, now=DISCHARGE, rules=rules)]
    assert [(d.kind, d.physician, d.action) for d in found] == [("co-signature", "doc1", "co-sign")]
    assert not deficiencies(record, now=DISCHARGE)  # without the trainee rule: complete
    cosigned = replace(note, signers=("resident1", "doc1"))
    assert not deficiencies(
        replace(record, entries=(*others, cosigned)), now=DISCHARGE, rules=rules
    )
    assert not deficiencies(record, now=note.effective_at - timedelta(seconds=1), rules=rules)


def test_records_discharged_before_tracking_started_are_not_analysed() -> None:
    missing = replace(COMPLETE, documents=("operative-report", "consent"))
    later = DISCHARGE + timedelta(days=60)
    at_discharge = CompletionRules(tracking_starts=DISCHARGE)
    after = CompletionRules(tracking_starts=DISCHARGE + timedelta(seconds=1))
    assert kinds(missing, later) == {"discharge-summary"}
    assert [d.kind for d in deficiencies(missing, now=later, rules=at_discharge)]
    assert deficiencies(missing, now=later, rules=after) == []
    assert delinquent([missing], now=later, rules=after) == []
    assert jeopardy([missing], now=later, rules=after) == []


def test_a_waived_deficiency_is_not_raised_again() -> None:
    missing = replace(COMPLETE, documents=("operative-report", "consent"))
    later = DISCHARGE + timedelta(days=60)
    (found,) = deficiencies(missing, now=later)
    assert found.key == "discharge-summary" and found.action == "dictate"
    assert deficiencies(replace(missing, waived=frozenset({found.key})), now=later) == []
    unsigned = replace(missing, entries=(entry("diagnosis", signed=False),))
    keys = {d.key for d in deficiencies(unsigned, now=later)}
    assert "signature:diagnosis-1" in keys


def test_every_deficiency_names_an_action() -> None:
    assert set(ACTIONS) == set(DEFICIENCIES)
    assert {
        ACTIONS[k] for k in ("history-and-physical", "discharge-summary", "operative-report")
    } == {"dictate"}


def test_completion_rules_from_the_policy_document() -> None:
    rules = CompletionRules.from_mapping(
        {
            "completion": {
                "delinquent_days": 14,
                "tracking_starts": date(2026, 1, 1),
                "trainees": ["resident1"],
            }
        }
    )
    assert rules.delinquent_days == 14 and rules.summary_days == 30
    assert rules.tracking_starts == datetime(2026, 1, 1, tzinfo=UTC)
    assert rules.trainees == frozenset({"resident1"})
    assert CompletionRules.from_mapping({}) == CompletionRules()


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ({"delinquent_days": 0}, "delinquent_days must be a whole number"),
        ({"warning_days": "21"}, "warning_days must be a whole number"),
        ({"tracking_starts": "soon"}, "tracking_starts must be a date"),
        ({"trainees": "resident1"}, "trainees must be a list"),
        ({"grace_days": 3}, "unknown setting 'grace_days'"),
    ],
)
def test_a_wrong_completion_setting_is_named(section: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        CompletionRules.from_mapping({"completion": section})


def test_the_example_policy_document_loads_with_its_completion_rules() -> None:
    import tomllib
    from pathlib import Path

    from ledger.aggregates.access_policy import parse_policy

    text = (Path(__file__).parents[2] / "docs" / "access-policy.example.toml").read_text()
    parse_policy(text)  # every section checks
    rules = CompletionRules.from_mapping(tomllib.loads(text))
    assert rules.tracking_starts == datetime(2026, 1, 1, tzinfo=UTC)
    assert rules.trainees == frozenset({"dr.resident.lee"})
