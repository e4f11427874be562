"""The work-items view (issue 14, item 2), on every store: for any sequence of queries raised,
sent, answered and withdrawn, discrepancies opened and resolved, and release requests received
and denied, over several patients, the view's rows are exactly what the aggregates themselves
say: which items exist, whose they are, and which are still open. The lists built on it (open
queries, a patient's discrepancies, the open release requests) equal the full scan they
replaced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.aggregates.discrepancy import Discrepancy
from ledger.aggregates.query import PhysicianQuery
from ledger.aggregates.release import ReleaseRequest, all_requests
from ledger.commands import discrepancies, encounters, entries, patients, release
from ledger.commands import queries as query_commands
from ledger.errors import LedgerError
from ledger.reads import work_items as items
from ledger.reads.discrepancies import discrepancies as listed_discrepancies
from ledger.reads.discrepancies import discrepancy
from ledger.reads.physician_queries import all_queries, open_queries
from projections.release import requests
from tests.conftest import Hospital

OPTIONS = ["Acute blood loss anemia", "Iron deficiency anemia", "Other", "Clinically undetermined"]
QUESTION = "Based on the hemoglobin of 7.1 and the transfusion, what condition is being treated?"

STEPS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "raise",
                "send",
                "answer",
                "withdraw",
                "open",
                "resolve",
                "request",
                "deny",
            ]
        ),
        st.integers(0, 2),  # which patient
        st.integers(0, 50),  # which earlier item
    ),
    min_size=1,
    max_size=12,
)


def _all_of(ledger: object, topic: str) -> list[UUID]:
    notes = cast(object, ledger).recorder.select_notifications(  # type: ignore[attr-defined]
        start=None, limit=1_000_000, topics=[topic]
    )
    return [cast(UUID, n.originator_id) for n in notes]


@pytest.fixture
def ward(hospital: Hospital) -> dict[str, object]:
    ledger = hospital.ledger
    people = {
        "tech": hospital.enrol("tech1", ["technician"]),
        "coder": hospital.enrol("coder1", ["coder"]),
        "dr": hospital.enrol("dr1", ["physician"]),
        "roi": hospital.enrol("roi1", ["roi-specialist"]),
        "him": hospital.enrol("him1", ["him-director"]),
    }
    now = datetime.now(UTC)
    stays = []
    for first in ("Ada", "Bea", "Cai"):
        demographics = {"given_name": first, "family_name": "Okafor", "sex": "female"}
        mrn = patients.register_patient(
            ledger, demographics, actor=people["tech"], likely_matches=[]
        )
        stay = encounters.open_encounter(
            ledger, mrn, encounter_class="inpatient", attending="dr1", service="surgery",
            effective_at=now - timedelta(days=3), actor=people["tech"],
        )  # fmt: skip
        note = entries.add_entry(
            ledger, stay, kind="progress-note", text="Transfused 2 units",
            effective_at=now - timedelta(days=1), actor=people["dr"],
        )  # fmt: skip
        stays.append((mrn, stay, note))
    return {"hospital": hospital, "people": people, "stays": stays}


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
def test_the_view_says_what_the_aggregates_say(
    ward: dict[str, object], steps: list[tuple[str, int, int]]
) -> None:
    hospital = cast(Hospital, ward["hospital"])
    ledger = hospital.ledger
    people = cast(dict[str, object], ward["people"])
    stays = cast(list[tuple[str, UUID, UUID]], ward["stays"])
    for action, who, which in steps:
        mrn, stay, note = stays[who]
        queries = _all_of(ledger, PhysicianQuery.Raised.TOPIC)
        opened = _all_of(ledger, Discrepancy.Opened.TOPIC)
        asked = _all_of(ledger, ReleaseRequest.Requested.TOPIC)
        try:
            if action == "raise":
                query_commands.raise_query(
                    ledger, stay, physician="dr1", indicators=[f"{stay}:{note}"],
                    question=QUESTION, options=OPTIONS, actor=people["coder"],
                )  # fmt: skip
            elif action in ("send", "answer", "withdraw") and queries:
                query = queries[which % len(queries)]
                if action == "send":
                    query_commands.send_query(ledger, query, actor=people["coder"])
                elif action == "answer":
                    query_commands.answer_query(ledger, query, choice=1, actor=people["dr"])
                else:
                    query_commands.withdraw_query(
                        ledger, query, reason="answered by phone", actor=people["him"]
                    )
            elif action == "open":
                discrepancies.open_discrepancy(
                    ledger, mrn, kind="other", description="two birth dates", facts=[],
                    actor=people["tech"],
                )  # fmt: skip
            elif action == "resolve" and opened:
                discrepancies.resolve_discrepancy(
                    ledger, opened[which % len(opened)], analysis="the admission was right",
                    correcting=[], actor=people["him"],
                )  # fmt: skip
            elif action == "request":
                release.request_release(
                    ledger, mrn, requester_kind="patient", requester="the patient",
                    address=None, asks="my chart", sections=["entries"],
                    purpose="patient-request", received=datetime.now(UTC).date(),
                    actor=people["roi"],
                )  # fmt: skip
            elif action == "deny" and asked:
                release.deny_release(
                    ledger, asked[which % len(asked)], reason="not the patient",
                    exception=None, actor=people["roi"],
                )  # fmt: skip
        except LedgerError:  # a step the rules refuse (answer twice…) changes nothing
            pass
    view = items.work_items(ledger)
    everything = all_queries(ledger)
    assert view.ids("query") == [q.id for q in everything]
    assert view.ids("query", open_only=True) == [q.id for q in everything if q.is_open]
    assert [q.id for q in open_queries(ledger)] == [q.id for q in everything if q.is_open]
    found = [discrepancy(ledger, d) for d in _all_of(ledger, Discrepancy.Opened.TOPIC)]
    assert view.ids("discrepancy", open_only=True) == [d.id for d in found if d.is_open]
    requested = all_requests(ledger)
    open_requests = [r.id for r in requested if r.status not in ("released", "denied")]
    assert view.ids("release-request", open_only=True) == open_requests
    roi = people["roi"]
    assert [r.id for r in requests(ledger, actor=roi, open_only=True)] == open_requests  # type: ignore[arg-type]
    for mrn, _, _ in stays:
        patient = ledger.patient(mrn)
        assert view.ids("discrepancy", patient_ids=[patient.id]) == [
            d.id for d in found if d.patient_id == patient.id
        ]
        assert view.ids("release-request", patient_ids=[patient.id]) == [
            r.id for r in requested if r.patient_id == patient.id
        ]
        shown = listed_discrepancies(ledger, actor=people["tech"], mrn=mrn)  # type: ignore[arg-type]
        assert [d.id for d in shown] == [d.id for d in found if d.patient_id == patient.id]


def test_the_view_keys_on_the_aggregates_own_topics() -> None:
    """The topic strings the view keys on are the events' own, and they end an item exactly
    when the aggregate leaves its open states."""
    assert set(items.OPENED) == {
        PhysicianQuery.Raised.TOPIC,
        Discrepancy.Opened.TOPIC,
        ReleaseRequest.Requested.TOPIC,
    }
    assert items.CLOSED == {
        PhysicianQuery.Answered.TOPIC,
        PhysicianQuery.Withdrawn.TOPIC,
        Discrepancy.Resolved.TOPIC,
        ReleaseRequest.Released.TOPIC,
        ReleaseRequest.Denied.TOPIC,
    }
