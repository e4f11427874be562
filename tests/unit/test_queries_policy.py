"""What a compliant physician query is (policies/queries.py), and who may do what with one:
each check both ways, the sentence naming the rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from policies import queries
from policies.deficiency import (
    CompletionRules,
    EncounterFacts,
    QueryFacts,
    deficiencies,
    delinquent,
)
from policies.roles import ROLES

OPTIONS = ["Acute blood loss anemia", "Iron deficiency anemia", "Other", "Clinically undetermined"]
QUESTION = "Based on the indicators, what condition best describes the low hemoglobin?"


def problem(
    question: str = QUESTION,
    options: list[str] | None = None,
    *,
    kind: str = "multiple-choice",
    basis: str | None = None,
    indicators: int = 2,
) -> str | None:
    return queries.query_problem(
        kind=kind,
        basis=basis,
        question=question,
        options=OPTIONS if options is None else options,
        indicators=indicators,
    )


def test_a_compliant_multiple_choice_query_passes() -> None:
    assert problem() is None


def test_the_options_may_be_written_in_any_case_with_other_words_after_other() -> None:
    options = ["Sepsis", "SIRS of non-infectious origin", "other (please specify)",
               "CLINICALLY UNDETERMINED."]  # fmt: skip
    assert problem("What condition do the indicators support?", options) is None


def test_a_query_names_at_least_one_indicator() -> None:
    found = problem(indicators=0)
    assert found is not None and "clinical indicators" in found and "--indicator" in found


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("Will this change the payment for the stay?", "payment"),
        ("Documenting this improves REIMBURSEMENT.", "REIMBURSEMENT"),
        ("Which DRG applies?", "DRG"),
        ("Would this move the MS-DRG?", "MS-DRG"),
        ("It raises the relative weight.", "relative weight"),
        ("That is a CC for this stay.", "CC"),
        ("An MCC would apply.", "MCC"),
        ("The case mix index would rise.", "case mix"),
        ("It adds $4,000.", "$"),
        ("about 4000 dollars", "dollars"),
        ("the financial impact", "financial"),
        ("hospital revenue", "revenue"),
        ("what we are paid", "paid"),
        ("the money involved", "money"),
        ("for billing purposes", "billing"),
    ],
)
def test_a_query_that_mentions_payment_is_refused_naming_the_word(text: str, word: str) -> None:
    found = problem(f"What condition is supported? {text}")
    assert found is not None
    assert f"mentions '{word}'" in found and "never mentions payment" in found


def test_payment_words_in_an_option_are_refused_too() -> None:
    found = problem(options=["Sepsis (an MCC)", "Bacteremia", "Other", "Clinically undetermined"])
    assert found is not None and "The option mentions 'MCC'" in found


@pytest.mark.parametrize(
    "text",
    [
        "The patient lost 500 cc of blood; what condition is supported?",
        "Given the weight loss of 8 kg in a month, what condition is supported?",
        "What condition explains the accident and emergency visit?",  # "acc" is not "cc"
        "Was the drug given for a condition?",  # "drug" is not "DRG"
    ],
)
def test_clinical_words_that_look_financial_are_not_refused(text: str) -> None:
    assert queries.financial_word(text) is None
    assert problem(text) is None


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("Please document acute blood loss anemia.", "please document"),
        ("Can you confirm that the anemia is acute?", "confirm that"),
        ("Can you add the diagnosis of anemia?", "can you add"),
        ("Do you agree the anemia is acute?", "do you agree"),
        ("Don\u2019t you agree the anemia is acute?", "don't you agree"),
    ],
)
def test_a_leading_question_is_refused_saying_the_rule(question: str, phrase: str) -> None:
    found = problem(question)
    assert found is not None
    assert f"leading ('{phrase}')" in found and "never directs one" in found


def test_a_question_naming_a_single_answer_to_agree_with_is_refused() -> None:
    found = problem("Does the patient have acute blood loss anemia?")
    assert found is not None
    assert "names 'Acute blood loss anemia'" in found and "single out" in found


def test_a_question_naming_several_answers_offers_a_choice_and_passes() -> None:
    asked = "Is it acute blood loss anemia, iron deficiency anemia or something else?"
    assert problem(asked) is None


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["Acute blood loss anemia", "Iron deficiency anemia", "Clinically undetermined"],
         '"other"'),
        (["Acute blood loss anemia", "Iron deficiency anemia", "Other"],
         '"clinically undetermined"'),
        (["Acute blood loss anemia", "Other", "Clinically undetermined"],
         "at least two clinically reasonable answers"),
        (["Anemia", "anemia ", "Other", "Clinically undetermined"], "once"),
        (["Anemia", "", "Other", "Clinically undetermined"], "cannot be empty"),
    ],
)  # fmt: skip
def test_the_options_rule(options: list[str], said: str) -> None:
    found = problem(options=options)
    assert found is not None and said in found


def test_too_many_options_are_refused() -> None:
    many = [f"Condition {n}" for n in range(11)] + ["Other", "Clinically undetermined"]
    found = problem("What condition is supported?", many)
    assert found is not None and "at most 12" in found


YES_NO = ["Yes", "No", "Other", "Clinically undetermined"]


@pytest.mark.parametrize("basis", queries.YES_NO_BASES)
def test_a_yes_no_query_is_for_poa_or_a_documented_diagnosis(basis: str) -> None:
    asked = "Was the stage 3 pressure ulcer documented on day 4 present on admission?"
    assert problem(asked, YES_NO, kind="yes-no", basis=basis) is None


def test_a_yes_no_query_without_its_basis_is_refused() -> None:
    found = problem("Does the patient have sepsis?", YES_NO, kind="yes-no")
    assert found is not None and "--basis" in found and "multiple-choice" in found


def test_a_yes_no_query_offers_yes_and_no() -> None:
    found = problem(
        "Was it present on admission?",
        ["Yes", "Maybe", "Other", "Clinically undetermined"],
        kind="yes-no",
        basis="present-on-admission",
    )
    assert found is not None and '"yes" and "no"' in found


def test_a_yes_no_query_still_needs_other_and_undetermined() -> None:
    found = problem("Was it present on admission?", ["Yes", "No", "Other"], kind="yes-no",
                    basis="present-on-admission")  # fmt: skip
    assert found is not None and "clinically undetermined" in found


def test_only_a_yes_no_query_takes_a_basis() -> None:
    found = problem(basis="present-on-admission")
    assert found is not None and "Only a yes/no query" in found


def test_an_unknown_kind_is_refused() -> None:
    found = problem(kind="open-ended")
    assert found is not None and "multiple-choice, yes-no" in found


def test_answers() -> None:
    assert queries.answer_problem(OPTIONS, choice=1, other_text=None) is None
    assert queries.answer_problem(OPTIONS, choice=None, other_text="Anemia of CKD") is None
    both = queries.answer_problem(OPTIONS, choice=1, other_text="x")
    neither = queries.answer_problem(OPTIONS, choice=None, other_text=None)
    assert both == neither and neither is not None and "--choice N" in neither
    assert "from 1 to 4" in str(queries.answer_problem(OPTIONS, choice=5, other_text=None))
    assert "from 1 to 4" in str(queries.answer_problem(OPTIONS, choice=0, other_text=None))
    assert "--other TEXT" in str(queries.answer_problem(OPTIONS, choice=3, other_text=None))
    assert "--other" in str(queries.answer_problem(OPTIONS, choice=None, other_text="  "))


@pytest.mark.parametrize("role", sorted(ROLES))
def test_who_raises_and_escalates(role: str) -> None:
    assert queries.may_raise([role]).allowed == (role in {"coder", "him-director"})
    assert queries.may_escalate([role]).allowed == (role == "him-director")
    refused = queries.may_raise([role])
    if not refused.allowed:
        assert refused.reason == "only coders or the HIM director raise and send physician queries"


def test_only_the_physician_queried_answers() -> None:
    assert queries.may_answer(["physician"], actor="dr1", physician="dr1").allowed
    other = queries.may_answer(["physician"], actor="dr2", physician="dr1")
    assert not other.allowed and other.reason.startswith("only dr1")
    assert not queries.may_answer(["coder"], actor="dr1", physician="dr1").allowed


def test_who_withdraws() -> None:
    assert queries.may_withdraw(["coder"], actor="c1", raised_by="c1").allowed
    assert not queries.may_withdraw(["coder"], actor="c2", raised_by="c1").allowed
    assert queries.may_withdraw(["him-director"], actor="h1", raised_by="c1").allowed
    assert not queries.may_withdraw(["physician"], actor="c1", raised_by="c1").allowed


def test_who_reads() -> None:
    for role in ("coder", "him-director", "compliance-officer"):
        assert queries.may_read([role], actor="x", physician="dr1").allowed
        assert queries.sees_every_query([role])
    assert queries.may_read(["physician"], actor="dr1", physician="dr1").allowed
    assert queries.may_read(["physician"], actor="dr1").allowed
    assert not queries.may_read(["physician"], actor="dr2", physician="dr1").allowed
    assert not queries.sees_every_query(["physician"])
    for role in ("technician", "nurse", "roi-specialist", "administrator"):
        assert not queries.may_read([role], actor="x").allowed


# -- an open query is a deficiency of its physician (policies/deficiency.py) ---------------------

ADMIT = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
SENT = ADMIT + timedelta(days=3)
STAY = EncounterFacts(
    id="enc1",
    mrn="MR0000001",
    encounter_class="outpatient",  # no other deficiency: only the query's
    attending="dr1",
    admitted_at=ADMIT,
    discharged_at=ADMIT + timedelta(days=2),
    entries=(),
    documents=(),
    queries=(QueryFacts("q1", "dr2", SENT),),
)


def test_a_query_awaiting_an_answer_is_its_physicians_deficiency_from_sending() -> None:
    assert deficiencies(STAY, now=SENT - timedelta(seconds=1)) == []
    (found,) = deficiencies(STAY, now=SENT)
    assert (found.kind, found.physician, found.action) == ("query", "dr2", "answer")
    assert (found.key, found.due_at) == ("query:enc1:q1", SENT)
    assert "overdue after 7 days" in found.why
    rules = CompletionRules(query_overdue_days=3)
    assert "overdue after 3 days" in deficiencies(STAY, now=SENT, rules=rules)[0].why
    assert deficiencies(replace(STAY, queries=()), now=SENT) == []


def test_an_unanswered_query_makes_the_record_delinquent_and_is_waived_by_key_only() -> None:
    late = ADMIT + timedelta(days=40)
    (record,) = delinquent([STAY], now=late)
    assert (record.physician, record.deficiencies) == ("dr2", ("query",))
    assert deficiencies(replace(STAY, waived=frozenset({"query:enc1:q1"})), now=late) == []
    before = CompletionRules(tracking_starts=ADMIT + timedelta(days=5))
    assert deficiencies(STAY, now=late, rules=before) == []


def test_the_overdue_days_are_a_completion_setting() -> None:
    assert CompletionRules().query_overdue_days == queries.OVERDUE_DAYS == 7
    assert CompletionRules.from_mapping({"completion": {"query_overdue_days": 5}}) == (
        CompletionRules(query_overdue_days=5)
    )
    with pytest.raises(ValueError, match="query_overdue_days must be a whole number"):
        CompletionRules.from_mapping({"completion": {"query_overdue_days": 0}})
