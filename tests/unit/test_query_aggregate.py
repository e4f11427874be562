"""The course of a `PhysicianQuery`, in memory: raised → sent → answered, escalated when overdue,
or withdrawn, and an answer linked to the code change it led to; each step refused out of turn
with one sentence and no event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from ledger.aggregates.query import PhysicianQuery
from ledger.errors import UsageError

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OPTIONS = ["Acute blood loss anemia", "Iron deficiency anemia", "Other", "Clinically undetermined"]


def raised(**changes: object) -> PhysicianQuery:
    facts: dict[str, object] = {
        "patient_id": uuid4(),
        "mrn": "MR0000001",
        "encounter_id": uuid4(),
        "physician": "dr1",
        "kind": "multiple-choice",
        "basis": None,
        "indicators": [str(uuid4()), str(uuid4())],
        "question": "What condition best explains the hemoglobin of 7.1?",
        "options": OPTIONS,
        "actor": "coder1",
    }
    facts.update(changes)
    return PhysicianQuery.raise_on(**facts)  # type: ignore[arg-type]


def sent() -> PhysicianQuery:
    query = raised()
    query.send(now=NOW, overdue_days=7, actor="coder1")
    return query


def refused(query: PhysicianQuery, step: object, said: str) -> None:
    before = len(query.pending_events)
    with pytest.raises(UsageError, match=said):
        step()  # type: ignore[operator]
    assert len(query.pending_events) == before


def test_raised_then_sent_then_answered() -> None:
    query = raised()
    assert (query.status, query.is_open, query.awaiting_answer) == ("raised", True, False)
    query.send(now=NOW, overdue_days=7, actor="coder1")
    assert query.status == "sent" and query.due_at == NOW + timedelta(days=7)
    assert query.awaiting_answer and not query.is_overdue(NOW + timedelta(days=6))
    assert query.is_overdue(NOW + timedelta(days=7))
    query.answer_with(choice=1, other_text=None, actor="dr1")
    assert (query.status, query.choice, query.answer) == ("answered", 1, OPTIONS[0])
    assert not query.is_open and not query.awaiting_answer
    assert not query.is_overdue(NOW + timedelta(days=30))
    kinds = [type(e).__name__ for e in query.pending_events]
    assert kinds == ["Raised", "Sent", "Answered"]


def test_an_answer_in_the_physicians_own_words() -> None:
    query = sent()
    query.answer_with(choice=None, other_text=" Anemia of chronic kidney disease ", actor="dr1")
    assert (query.choice, query.answer) == (None, "Anemia of chronic kidney disease")


def test_a_non_compliant_query_is_not_raised() -> None:
    with pytest.raises(UsageError, match="mentions 'DRG'"):
        raised(question="Which DRG does the anemia support?")
    with pytest.raises(UsageError, match="clinically undetermined"):
        raised(options=OPTIONS[:3])


def test_indicators_are_kept_once_each_and_the_options_tidied() -> None:
    entry = str(uuid4())
    query = raised(indicators=[entry, entry], options=["  Acute   blood loss anemia", *OPTIONS[1:]])
    assert query.indicators == [entry]
    assert query.options[0] == "Acute blood loss anemia"


def test_out_of_turn() -> None:
    query = raised()
    refused(query, lambda: query.answer_with(choice=1, other_text=None, actor="dr1"), "been sent")
    refused(query, lambda: query.escalate(now=NOW, actor="him1"), "not been sent")
    query.send(now=NOW, overdue_days=7, actor="coder1")
    refused(query, lambda: query.send(now=NOW, overdue_days=7, actor="coder1"), "already sent")
    refused(query, lambda: query.answer_with(choice=1, other_text=None, actor="dr2"), "dr1 only")
    refused(query, lambda: query.answer_with(choice=9, other_text=None, actor="dr1"), "1 to 4")
    refused(query, lambda: query.escalate(now=NOW, actor="him1"), "not overdue until 2026-03-09")
    refused(
        query,
        lambda: query.led_to(abstract_id=uuid4(), change="x/1", code="D62", actor="coder1"),
        "has not been answered",
    )
    query.answer_with(choice=2, other_text=None, actor="dr1")
    refused(query, lambda: query.answer_with(choice=1, other_text=None, actor="dr1"), "already")
    refused(query, lambda: query.withdraw(reason="no longer needed", actor="coder1"), "already")
    refused(query, lambda: query.escalate(now=NOW + timedelta(days=30), actor="him1"), "already")


def test_escalated_once_when_overdue_and_still_answerable() -> None:
    query = sent()
    late = NOW + timedelta(days=8)
    query.escalate(now=late, actor="him1")
    assert query.status == "escalated" and query.awaiting_answer and query.is_overdue(late)
    refused(query, lambda: query.escalate(now=late, actor="him1"), "already escalated")
    query.answer_with(choice=1, other_text=None, actor="dr1")
    assert query.status == "answered"


def test_withdrawn_needs_a_reason_and_ends_it() -> None:
    query = sent()
    refused(query, lambda: query.withdraw(reason="  ", actor="coder1"), "reason")
    query.withdraw(reason="the discharge summary now says it", actor="coder1")
    assert query.status == "withdrawn" and not query.is_open and not query.awaiting_answer
    refused(query, lambda: query.answer_with(choice=1, other_text=None, actor="dr1"), "withdrawn")
    refused(query, lambda: query.send(now=NOW, overdue_days=7, actor="coder1"), "withdrawn")


def test_an_answer_is_linked_to_each_change_it_led_to_once() -> None:
    query = sent()
    query.answer_with(choice=1, other_text=None, actor="dr1")
    abstract = uuid4()
    query.led_to(abstract_id=abstract, change=f"{abstract}/3", code="d62", actor="coder1")
    assert [(link.change, link.code) for link in query.links] == [(f"{abstract}/3", "D62")]
    refused(
        query,
        lambda: query.led_to(abstract_id=abstract, change=f"{abstract}/3", code="D62", actor="c"),
        "already linked",
    )
    refused(
        query,
        lambda: query.led_to(abstract_id=abstract, change=f"{uuid4()}/4", code="D62", actor="c"),
        "not an event of coding abstract",
    )
    refused(
        query,
        lambda: query.led_to(abstract_id=abstract, change=f"{abstract}/4", code=" ", actor="c"),
        "Name the code",
    )
    query.led_to(abstract_id=abstract, change=f"{abstract}/4", code="D50.0", actor="coder1")
    assert len(query.links) == 2
