"""Physician queries through the Python API, on every store: raised, sent, answered by the
physician named (signed with their key), escalated when overdue, withdrawn; each refusal one
sentence with nothing written; an open query counted in its physician's deficiencies and
holding its stay; the lists recording the access first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from ledger.aggregates.access import Access
from ledger.aggregates.query import PhysicianQuery
from ledger.application import Ledger
from ledger.commands import completion, encounters, entries, patients, users
from ledger.commands import queries as commands
from ledger.errors import IdentityError, LedgerError, NotAuthorised, NotFound, UsageError
from ledger.integrity.keys import Identity
from ledger.reads.physician_queries import encounters_held_by_queries, physician_query
from projections.completion import delinquent_records, open_deficiencies
from projections.physician_queries import open_queries, query_detail
from tests.conftest import Hospital

ADA = {"given_name": "Ada", "family_name": "Okafor", "sex": "female"}
QUESTION = "Based on the hemoglobin of 7.1 and the transfusion, what condition is being treated?"
OPTIONS = ["Acute blood loss anemia", "Iron deficiency anemia", "Other", "Clinically undetermined"]


@dataclass
class Ward:
    hospital: Hospital
    coder: Identity
    him: Identity
    tech: Identity
    dr1: Identity
    dr2: Identity
    mrn: str
    encounter: UUID
    lab: UUID
    note: UUID

    @property
    def ledger(self) -> Ledger:
        return self.hospital.ledger

    def raise_query(self, **changes: Any) -> UUID:
        facts: dict[str, Any] = {
            "physician": "dr1",
            "indicators": [str(self.lab), f"{self.encounter}:{self.note}"],
            "question": QUESTION,
            "options": OPTIONS,
        }
        facts.update(changes)
        return commands.raise_query(self.ledger, self.encounter, actor=self.coder, **facts)

    def sent(self) -> UUID:
        query = self.raise_query()
        commands.send_query(self.ledger, query, actor=self.coder)
        return query

    def events(self) -> int:
        return int(self.ledger.recorder.max_notification_id() or 0)

    def refused(self, error: type[LedgerError], said: str, step: Callable[[], object]) -> str:
        """The step is refused with one sentence naming `said`, and nothing is written."""
        before = self.events()
        with pytest.raises(error) as caught:
            step()
        text = str(caught.value)
        assert said in text, text
        assert "\n" not in text and text.endswith("."), text
        assert self.events() == before
        return text


@pytest.fixture
def ward(hospital: Hospital) -> Ward:
    ledger = hospital.ledger
    tech = hospital.enrol("tech1", ["technician"])
    coder = hospital.enrol("coder1", ["coder"])
    him = hospital.enrol("him1", ["him-director"])
    dr1 = hospital.enrol("dr1", ["physician"])
    dr2 = hospital.enrol("dr2", ["physician"])
    mrn = patients.register_patient(ledger, ADA, actor=tech, likely_matches=[])
    now = datetime.now(UTC)
    encounter = encounters.open_encounter(
        ledger,
        mrn,
        encounter_class="inpatient",
        attending="dr1",
        service="surgery",
        effective_at=now - timedelta(days=3),
        actor=tech,
    )
    lab = entries.add_entry(
        ledger,
        encounter,
        kind="laboratory-report",
        text="Hemoglobin 7.1 g/dL",
        effective_at=now - timedelta(days=2),
        actor=dr1,
    )
    note = entries.add_entry(
        ledger,
        encounter,
        kind="progress-note",
        text="Transfused 2 units after the hip repair",
        effective_at=now - timedelta(days=1),
        actor=dr1,
    )
    return Ward(hospital, coder, him, tech, dr1, dr2, mrn, encounter, lab, note)


def test_raised_sent_and_answered_by_the_physician_named(ward: Ward) -> None:
    query_id = ward.raise_query()
    assert ward.encounter in encounters_held_by_queries(ward.ledger)
    sent = commands.send_query(ward.ledger, query_id, actor=ward.coder)
    assert sent.due_at is not None
    assert timedelta(days=6) < sent.due_at - datetime.now(UTC) <= timedelta(days=7)
    commands.answer_query(ward.ledger, query_id, choice=1, actor=ward.dr1)
    query = physician_query(ward.ledger, query_id)
    assert (query.status, query.answer) == ("answered", "Acute blood loss anemia")
    assert ward.encounter not in encounters_held_by_queries(ward.ledger)
    # The answer's event is signed with dr1's own key.
    answered = [e for e in ward.ledger.events.get(query_id)][-1]
    assert isinstance(answered, PhysicianQuery.Answered)
    assert _signer(ward, query_id, answered.originator_version) == ward.dr1.fingerprint
    detail = query_detail(ward.ledger, query_id, purpose="operations", actor=ward.coder)
    assert detail.indicators == (
        f"{ward.encounter}:{ward.lab}",
        f"{ward.encounter}:{ward.note}",
    )
    assert (detail.choice, detail.answer, detail.row.status) == (1, OPTIONS[0], "answered")


def test_an_answer_in_other_words(ward: Ward) -> None:
    query_id = ward.sent()
    commands.answer_query(
        ward.ledger, query_id, other_text="Anemia of chronic kidney disease", actor=ward.dr1
    )
    query = physician_query(ward.ledger, query_id)
    assert (query.choice, query.answer) == (None, "Anemia of chronic kidney disease")


def test_a_query_mentioning_payment_is_refused_and_nothing_written(ward: Ward) -> None:
    ward.refused(
        UsageError,
        "mentions 'reimbursement'",
        lambda: ward.raise_query(question=f"{QUESTION} It affects reimbursement."),
    )
    ward.refused(
        UsageError,
        "mentions 'MCC'",
        lambda: ward.raise_query(options=["Acute blood loss anemia (MCC)", *OPTIONS[1:]]),
    )


def test_a_query_without_clinically_undetermined_is_refused(ward: Ward) -> None:
    ward.refused(
        UsageError, '"clinically undetermined"', lambda: ward.raise_query(options=OPTIONS[:3])
    )
    ward.refused(
        UsageError, "leading ('please document')",
        lambda: ward.raise_query(question="Please document acute blood loss anemia."),
    )  # fmt: skip


def test_indicators_are_entries_of_the_encounter_that_stand(ward: Ward) -> None:
    ward.refused(UsageError, "at least one chart entry", lambda: ward.raise_query(indicators=[]))
    ward.refused(
        UsageError, "There is no entry", lambda: ward.raise_query(indicators=[str(uuid4())])
    )
    ward.refused(
        UsageError,
        "an entry of another encounter",
        lambda: ward.raise_query(indicators=[f"{uuid4()}:{ward.lab}"]),
    )
    ward.refused(
        UsageError, "is not a chart entry", lambda: ward.raise_query(indicators=["nonsense"])
    )
    entries.retract_entry(
        ward.ledger, ward.encounter, ward.note, reason="wrong patient", actor=ward.dr1
    )
    ward.refused(UsageError, "was retracted", lambda: ward.raise_query(indicators=[str(ward.note)]))
    ward.refused(
        NotFound,
        "There is no encounter",
        lambda: commands.raise_query(
            ward.ledger, uuid4(), physician="dr1", indicators=[str(ward.lab)],
            question=QUESTION, options=OPTIONS, actor=ward.coder,
        ),
    )  # fmt: skip


def test_the_physician_is_an_enrolled_physician_of_the_stay(ward: Ward) -> None:
    ledger = ward.ledger
    ward.refused(UsageError, "not a physician", lambda: ward.raise_query(physician="tech1"))
    ward.refused(UsageError, "no user named 'nobody'", lambda: ward.raise_query(physician="nobody"))
    ward.refused(UsageError, "not the attending", lambda: ward.raise_query(physician="dr2"))
    users.invite(ledger, "dr3", ["physician"], actor=ward.hospital.admin)
    ward.refused(UsageError, "has not enrolled", lambda: ward.raise_query(physician="dr3"))
    query_id = ward.raise_query()
    users.revoke_key(ledger, "dr1", "laptop stolen", actor=ward.hospital.admin)
    ward.refused(UsageError, "revoked", lambda: ward.raise_query())
    ward.refused(
        UsageError, "revoked", lambda: commands.send_query(ledger, query_id, actor=ward.coder)
    )


def test_only_the_physician_named_answers(ward: Ward) -> None:
    query_id = ward.sent()
    ward.refused(
        NotAuthorised,
        "Only dr1, to whom the query was sent, may answer it.",
        lambda: commands.answer_query(ward.ledger, query_id, choice=1, actor=ward.dr2),
    )
    ward.refused(
        NotAuthorised,
        "Only dr1",
        lambda: commands.answer_query(ward.ledger, query_id, choice=1, actor=ward.coder),
    )
    # Someone holding another's key file is not them: the key must be dr1's own.
    forged = Identity.generate("dr1")
    ward.refused(
        IdentityError,
        "not the key the ledger holds",
        lambda: commands.answer_query(ward.ledger, query_id, choice=1, actor=forged),
    )
    ward.refused(
        UsageError,
        '"other": give your answer with --other',
        lambda: commands.answer_query(ward.ledger, query_id, choice=3, actor=ward.dr1),
    )
    assert physician_query(ward.ledger, query_id).status == "sent"


def test_only_coders_raise_and_only_the_him_director_escalates(ward: Ward) -> None:
    ward.refused(
        NotAuthorised,
        "Only coders or the HIM director",
        lambda: commands.raise_query(
            ward.ledger, ward.encounter, physician="dr1", indicators=[str(ward.lab)],
            question=QUESTION, options=OPTIONS, actor=ward.tech,
        ),
    )  # fmt: skip
    ward.refused(
        NotAuthorised,
        "Only the HIM director escalates",
        lambda: commands.escalate_overdue(ward.ledger, actor=ward.coder),
    )


def test_an_overdue_query_is_escalated_once(ward: Ward) -> None:
    ledger = ward.ledger
    query_id = ward.sent()
    ward.raise_query()  # raised, never sent: never overdue
    assert commands.escalate_overdue(ledger, actor=ward.him) == []
    ward.refused(
        UsageError,
        "is not overdue until",
        lambda: commands.escalate_query(ledger, query_id, actor=ward.him),
    )
    ledger.clock = lambda: datetime.now(UTC) + timedelta(days=8)
    done = commands.escalate_overdue(ledger, actor=ward.him)
    assert [q.id for q in done] == [query_id]
    assert physician_query(ledger, query_id).status == "escalated"
    before = ward.events()
    assert commands.escalate_overdue(ledger, actor=ward.him) == []
    assert ward.events() == before
    ward.refused(
        UsageError,
        "already escalated",
        lambda: commands.escalate_query(ledger, query_id, actor=ward.him),
    )
    rows = open_queries(ledger, purpose="operations", actor=ward.him)
    assert [(r.id, r.status, r.overdue) for r in rows if r.id == query_id] == [
        (query_id, "escalated", True)
    ]
    del ledger.clock
    commands.answer_query(ledger, query_id, choice=2, actor=ward.dr1)  # still answerable
    assert physician_query(ledger, query_id).status == "answered"


def test_withdrawn_by_who_raised_it_or_the_him_director(ward: Ward) -> None:
    ledger = ward.ledger
    other_coder = ward.hospital.enrol("coder2", ["coder"])
    first, second = ward.sent(), ward.raise_query()
    ward.refused(
        NotAuthorised,
        "Only coder1, who raised the query, or the HIM director",
        lambda: commands.withdraw_query(ledger, first, reason="clarified", actor=other_coder),
    )
    commands.withdraw_query(ledger, first, reason="the summary now says it", actor=ward.coder)
    commands.withdraw_query(ledger, second, reason="duplicate", actor=ward.him)
    assert encounters_held_by_queries(ledger) == set()
    ward.refused(
        UsageError,
        "was withdrawn by coder1",
        lambda: commands.answer_query(ledger, first, choice=1, actor=ward.dr1),
    )


def test_an_open_query_is_a_deficiency_of_its_physician(ward: Ward) -> None:
    ledger = ward.ledger
    query_id = ward.sent()

    def queries_of(physician: str) -> list[str]:
        rows = open_deficiencies(
            ledger, now=datetime.now(UTC), actor=ward.tech, physician=physician
        )
        return [r.deficiency.key for r in rows if r.deficiency.kind == "query"]

    key = f"query:{ward.encounter}:{query_id}"
    assert queries_of("dr1") == [key]
    assert queries_of("dr2") == []
    completion.scan(ledger, actor=ward.tech)
    register = completion.register_of(ledger, ward.encounter)
    assert register is not None and register.open[key].physician == "dr1"
    ward.refused(
        UsageError,
        "it is not waived",
        lambda: completion.resolve(
            ledger, f"{ward.encounter}:{query_id}", "query", reason="busy", actor=ward.him
        ),
    )
    commands.answer_query(ledger, query_id, choice=1, actor=ward.dr1)
    assert queries_of("dr1") == []
    completion.scan(ledger, actor=ward.tech)
    register = completion.register_of(ledger, ward.encounter)
    assert register is not None and key not in register.open


def test_an_unanswered_query_keeps_a_discharged_record_delinquent(ward: Ward) -> None:
    ledger = ward.ledger
    query_id = ward.sent()
    encounters.discharge(
        ledger, ward.encounter, disposition="home", effective_at=datetime.now(UTC),
        actor=ward.tech,
    )  # fmt: skip
    later = datetime.now(UTC) + timedelta(days=31)
    found, _ = delinquent_records(ledger, now=later, actor=ward.tech)
    mine = [d for d in found if d.physician == "dr1"]
    assert len(mine) == 1 and "query" in mine[0].deficiencies
    commands.answer_query(ledger, query_id, choice=1, actor=ward.dr1)
    found, _ = delinquent_records(ledger, now=later, actor=ward.tech)
    assert all("query" not in d.deficiencies for d in found)


def test_the_list_records_the_access_and_a_physician_sees_their_own(ward: Ward) -> None:
    ledger = ward.ledger
    first = ward.sent()
    ward.raise_query(physician="dr1")
    accesses = _accesses(ledger)
    rows = open_queries(ledger, purpose="operations", actor=ward.coder)
    assert [r.mrn for r in rows] == [ward.mrn, ward.mrn] and rows[0].id == first
    (new,) = _accesses(ledger)[len(accesses) :]
    assert isinstance(new, Access.RecordAccessed)
    assert (new.actor, new.mrns, new.sections, new.purpose) == (
        "coder1", [ward.mrn], ["queries"], "operations",
    )  # fmt: skip
    assert len(open_queries(ledger, purpose="operations", actor=ward.dr1)) == 2
    assert open_queries(ledger, purpose="operations", actor=ward.dr2) == []
    ward.refused(
        NotAuthorised,
        "A physician reads only the queries sent to them.",
        lambda: query_detail(ledger, first, purpose="operations", actor=ward.dr2),
    )
    commands.answer_query(ledger, first, choice=1, actor=ward.dr1)
    assert len(open_queries(ledger, purpose="operations", actor=ward.coder, open_only=True)) == 1
    assert len(open_queries(ledger, purpose="operations", actor=ward.coder, open_only=False)) == 2
    ward.refused(
        NotAuthorised,
        "Only coders, the HIM director, compliance",
        lambda: open_queries(ledger, purpose="operations", actor=ward.tech),
    )


def test_reading_a_query_records_the_access_and_a_refusal_is_recorded(ward: Ward) -> None:
    ledger = ward.ledger
    query_id = ward.sent()
    before = len(_accesses(ledger))
    query_detail(ledger, query_id, purpose="operations", actor=ward.dr1)
    (seen,) = _accesses(ledger)[before:]
    assert isinstance(seen, Access.RecordAccessed) and seen.mrns == [ward.mrn]
    with pytest.raises(NotAuthorised, match="Access refused"):
        query_detail(ledger, query_id, purpose="research", actor=ward.coder)
    (denied,) = _accesses(ledger)[before + 1 :]
    assert isinstance(denied, Access.AccessDenied) and denied.actor == "coder1"


def test_an_answer_is_linked_to_the_change_it_led_to_in_the_same_save(ward: Ward) -> None:
    """The coding command's side of the link, shown with the aggregate that holds the change
    (here the encounter stands in for the coding abstract, which keeps its own events)."""
    ledger = ward.ledger
    query_id = ward.sent()
    ward.refused(
        UsageError,
        "has not been answered",
        lambda: commands.query_for_change(ledger, query_id, encounter_id=ward.encounter),
    )
    commands.answer_query(ledger, query_id, choice=1, actor=ward.dr1)
    ward.refused(
        UsageError,
        "is about encounter",
        lambda: commands.query_for_change(ledger, query_id, encounter_id=uuid4()),
    )
    query = commands.query_for_change(ledger, query_id, encounter_id=ward.encounter)
    holder = ledger.encounter(ward.encounter)
    with pytest.raises(UsageError, match="no code change"):
        commands.link_change(query, holder, code="D62", actor="coder1")
    holder.transfer(
        bed="5C", service=None, attending=None, effective_at=datetime.now(UTC), actor="tech1"
    )
    commands.link_change(query, holder, code="D62", actor="coder1")
    change = f"{holder.id}/{holder.pending_events[-1].originator_version}"
    ledger.save(holder, query, signer=ward.coder)
    leaf = ledger.find_event(change)
    assert leaf.originator_id == ward.encounter
    (link,) = physician_query(ledger, query_id).links
    assert (link.abstract_id, link.change, link.code) == (ward.encounter, change, "D62")
    detail = query_detail(ledger, query_id, purpose="operations", actor=ward.coder)
    assert detail.as_dict()["led_to"][0]["event"] == change


def test_the_question_and_answer_are_sealed_with_the_patients_key(ward: Ward) -> None:
    from tests.rawdb import RawDB

    query_id = ward.sent()
    commands.answer_query(ward.ledger, query_id, other_text="Hemodilution", actor=ward.dr1)
    raw = RawDB(ward.hospital.store_url)
    stored = b"".join(state for _, oid, _, _, state in raw.rows() if oid == query_id)
    assert b"hemoglobin" not in stored.lower() and b"Hemodilution" not in stored
    assert b"dr1" in stored  # the sending names only the physician, in the clear


def _signer(ward: Ward, oid: UUID, version: int) -> bytes:
    from ledger.verifier import envelope
    from tests.rawdb import RawDB

    (state,) = [
        s for _, o, v, _, s in RawDB(ward.hospital.store_url).rows() if (o, v) == (oid, version)
    ]
    return envelope.unpack(state, originator_id=oid, originator_version=version).signer


def _accesses(ledger: Ledger) -> list[Any]:
    notes = ledger.recorder.select_notifications(
        start=None,
        limit=1_000_000,
        topics=[Access.RecordAccessed.TOPIC, Access.AccessDenied.TOPIC],
    )
    mapper = ledger.mapper
    return [mapper.to_domain_event(note) for note in notes]


def test_a_code_change_from_an_answer_links_the_query_in_the_same_save(ward: Ward) -> None:
    """Through the coding command: a diagnosis coded from an answered query records the query's
    id on the coding event and the link on the query, in one save; an unanswered query, or one
    about another stay, refuses the code and writes nothing."""
    from ledger.aggregates.coding import CodingAbstract, abstract_id
    from ledger.commands import coding

    ledger = ward.ledger
    query_id = ward.sent()
    ward.refused(
        UsageError,
        "has not been answered",
        lambda: coding.code_diagnosis(
            ledger,
            ward.encounter,
            code="D62",
            poa="Y",
            principal=False,
            query_id=query_id,
            actor=ward.coder,
        ),
    )
    commands.answer_query(ledger, query_id, choice=1, actor=ward.dr1)
    before = ward.events()
    coding.code_diagnosis(
        ledger, ward.encounter, code="D62", poa="Y", principal=False, query_id=query_id,
        actor=ward.coder,
    )  # fmt: skip
    assert ward.events() == before + 3  # the abstract started, the code, and the query's link
    abstract = ledger.repository.get(abstract_id(ward.encounter))
    assert isinstance(abstract, CodingAbstract)
    coded = [
        e for e in ledger.events.get(abstract.id) if isinstance(e, CodingAbstract.DiagnosisCoded)
    ]
    assert [(e.code, e.query_id) for e in coded] == [("D62", query_id)]
    (link,) = physician_query(ledger, query_id).links
    assert link.abstract_id == abstract.id
    assert link.change == f"{abstract.id}/{coded[0].originator_version}"
    assert link.code == "D62"
