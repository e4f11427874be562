"""The records department's aggregates keep their own invariants: each step is a method that
refuses a broken one with a plain sentence (`UsageError`) and triggers nothing, in memory, with
no ledger: a release request's order, a volume's custody, a deficiency's assignment, a
discrepancy open until resolved once, and a review's finding."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from ledger.aggregates.chart_volume import ChartVolume, volume_id
from ledger.aggregates.completion import EncounterCompletion, completion_id
from ledger.aggregates.discrepancy import Discrepancy
from ledger.aggregates.release import DisclosureSuspension, ReleaseRequest, suspension_id
from ledger.aggregates.review import AccessReview, review_id
from ledger.errors import NotAuthorised, UsageError
from policies import release as rules
from policies.deficiency import Deficiency

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PATIENT = uuid4()


def _request(**change: Any) -> ReleaseRequest:
    given: dict[str, Any] = {
        "patient_id": PATIENT,
        "mrn": "MR0000001",
        "requester_kind": "patient",
        "requester": " the patient ",
        "address": "  ",
        "asks": "my records",
        "sections": ["chart"],
        "date_from": None,
        "date_to": None,
        "purpose": "patient-request",
        "received": TODAY - timedelta(days=3),
        "today": TODAY,
        "actor": "roi1",
    }
    return ReleaseRequest.request(**{**given, **change})


def _events(aggregate: Any) -> list[type]:
    return [type(e) for e in aggregate.pending_events]


VALID = rules.Validation(True, ())


# -- release requests -----------------------------------------------------------------------------


def test_a_request_goes_requested_validated_approved_released() -> None:
    request = _request()
    assert (request.status, request.requester, request.address) == (
        "requested",
        "the patient",
        None,
    )
    assert request.due == rules.due_date(request.received)
    request.validate(VALID, basis="patient-access", authorizations=[], actor="roi1")
    assert request.status == "validated"
    request.approve(actor="roi1")
    assert request.releasable(method="mail", fee="12.5") == "12.50"
    request.release(
        entries=["e:1"],
        documents=[],
        package_sha256="ab" * 32,
        method="mail",
        fee="12.50",
        today=TODAY,
        actor="roi1",
    )
    assert (request.status, request.accountable) == ("released", False)  # to the individual
    assert _events(request) == [
        ReleaseRequest.Requested,
        ReleaseRequest.Validated,
        ReleaseRequest.Approved,
        ReleaseRequest.Released,
    ]


@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        ({"requester_kind": "neighbour"}, "The requester kind must be one of"),
        ({"purpose": "curiosity"}, "The purpose must be one of"),
        ({"requester": "  "}, "Give the requester, what is asked for"),
        ({"asks": ""}, "Give the requester, what is asked for"),
        ({"sections": []}, "Give the requester, what is asked for"),
        ({"received": TODAY + timedelta(days=1)}, "received in the future"),
        ({"date_from": TODAY, "date_to": TODAY - timedelta(days=1)}, "must start before it ends"),
    ],
)
def test_a_request_that_says_too_little_or_too_much_is_not_made(
    change: dict[str, Any], sentence: str
) -> None:
    with pytest.raises(UsageError, match=re.escape(sentence)):
        _request(**change)


def test_only_a_validated_request_is_approved_and_only_an_approved_one_goes_out() -> None:
    request = _request()
    with pytest.raises(UsageError, match="only a validated request is approved"):
        request.approve(actor="roi1")
    with pytest.raises(UsageError, match="only approved ones go out"):
        request.releasable(method="mail", fee="0")
    request.validate(
        rules.Validation(False, ("no",)), basis="permitted", authorizations=[], actor="r"
    )
    assert request.status == "invalid"
    with pytest.raises(UsageError, match="only a validated request is approved"):
        request.approve(actor="roi1")
    with pytest.raises(UsageError, match="only approved ones go out"):
        request.release(
            entries=[],
            documents=[],
            package_sha256="",
            method="mail",
            fee="0",
            today=TODAY,
            actor="r",
        )
    assert _events(request) == [ReleaseRequest.Requested, ReleaseRequest.Validated]


def test_a_denied_or_released_request_is_closed() -> None:
    request = _request()
    request.deny(reason="withdrawn", exception=None, actor="roi1")
    for step in (
        lambda: request.deny(reason="again", exception=None, actor="roi1"),
        lambda: request.validate(VALID, basis="patient-access", authorizations=[], actor="roi1"),
    ):
        with pytest.raises(UsageError, match="is already denied"):
            step()
    assert _events(request) == [ReleaseRequest.Requested, ReleaseRequest.Denied]


@pytest.mark.parametrize(
    ("reason", "exception", "sentence"),
    [(" ", None, "A denial needs its reason."), ("no", "whim", "'whim' is not an information")],
)
def test_a_denial_needs_its_reason_and_a_real_exception(
    reason: str, exception: str | None, sentence: str
) -> None:
    request = _request()
    with pytest.raises(UsageError, match=re.escape(sentence)):
        request.deny(reason=reason, exception=exception, actor="roi1")
    assert request.status == "requested"


@pytest.mark.parametrize(
    ("method", "fee", "sentence"),
    [
        ("pigeon", "0", "The method must be one of"),
        ("mail", "-1", "The fee cannot be negative."),
        ("mail", "2000000", "larger than any release"),
        ("mail", "nan", "fee"),
    ],
)
def test_a_release_goes_by_a_known_method_for_a_sane_fee(
    method: str, fee: str, sentence: str
) -> None:
    request = _request()
    request.validate(VALID, basis="patient-access", authorizations=[], actor="roi1")
    request.approve(actor="roi1")
    with pytest.raises(UsageError, match=re.escape(sentence)):
        request.releasable(method=method, fee=fee)


def test_only_a_patients_request_is_extended_once_with_a_reason_before_its_deadline() -> None:
    with pytest.raises(UsageError, match="Only a patient's own request"):
        _request(requester_kind="attorney", purpose="legal").extend(
            reason="busy", today=TODAY, actor="roi1"
        )
    request = _request()
    with pytest.raises(UsageError, match="Give the reason"):
        request.extend(reason=" ", today=TODAY, actor="roi1")
    late = request.received + timedelta(days=31)
    with pytest.raises(NotAuthorised, match="before the first 30 days end"):
        request.extend(reason="off site", today=late, actor="roi1")
    assert request.extend(reason="off site", today=TODAY, actor="roi1") == rules.due_date(
        request.received, extended=True
    )
    with pytest.raises(NotAuthorised, match="only once"):
        request.extend(reason="again", today=TODAY, actor="roi1")
    assert _events(request) == [ReleaseRequest.Requested, ReleaseRequest.Extended]


def test_an_agencys_suspension_names_the_agency_and_ends_today_or_later() -> None:
    record = DisclosureSuspension.start(patient_id=PATIENT, mrn="MR0000001")
    assert record.id == suspension_id("mr0000001 ")
    with pytest.raises(UsageError, match="Name the agency"):
        record.suspend(agency=" ", until=TODAY, oral=False, today=TODAY, actor="roi1")
    with pytest.raises(UsageError, match="end today or later"):
        record.suspend(
            agency="FBI", until=TODAY - timedelta(days=1), oral=False, today=TODAY, actor="r"
        )
    ends = record.suspend(
        agency="FBI", until=TODAY + timedelta(days=90), oral=True, today=TODAY, actor="r"
    )
    assert ends == TODAY + timedelta(days=30)  # an oral request holds 30 days at most
    assert [s.agency for s in record.suspensions] == ["FBI"]


# -- chart volumes --------------------------------------------------------------------------------


def _volume() -> ChartVolume:
    return ChartVolume.register(
        barcode=" v-1 ",
        mrn="MR0000001",
        record_type="medical-record",
        volume=1,
        home=" HIM ",
        actor="t",
    )


@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        ({"barcode": "V 1"}, "A barcode is letters, digits and '-'."),
        ({"barcode": ""}, "A barcode is letters"),
        ({"barcode": "e-MR1"}, "Barcodes starting E- name electronic records"),
        ({"record_type": "electronic"}, "The record type must be one of"),
        ({"volume": 0}, "Give a volume number from 1"),
        ({"home": " "}, "Give a volume number from 1 and the home location."),
    ],
)
def test_a_volume_is_registered_only_as_a_well_formed_paper_volume(
    change: dict[str, Any], sentence: str
) -> None:
    given: dict[str, Any] = {
        "barcode": "V-1",
        "mrn": "MR0000001",
        "record_type": "medical-record",
        "volume": 1,
        "home": "HIM",
        "actor": "t",
    }
    with pytest.raises(UsageError, match=re.escape(sentence)):
        ChartVolume.register(**{**given, **change})


def test_a_volume_is_out_with_one_holder_at_a_time_and_comes_back_once() -> None:
    volume = _volume()
    assert (volume.id, volume.barcode, volume.home, volume.holder) == (
        volume_id("V-1"),
        "V-1",
        "HIM",
        "HIM",
    )
    due = NOW + timedelta(days=1)
    with pytest.raises(UsageError, match="is not checked out; check it out instead"):
        volume.transfer(holder="Ward 4", holder_kind="department", due=due, now=NOW, actor="t")
    with pytest.raises(UsageError, match="nothing to check in"):
        volume.check_in(location=None, actor="t")
    volume.check_out(holder=" ED ", holder_kind="department", due=due, now=NOW, actor="t")
    assert (volume.status, volume.holder) == ("out", "ED")
    with pytest.raises(UsageError, match="is out, held by ED"):
        volume.check_out(holder="Clinic", holder_kind="clinic", due=due, now=NOW, actor="t")
    volume.transfer(holder="Ward 4", holder_kind="department", due=due, now=NOW, actor="t")
    assert volume.holder == "Ward 4"
    volume.check_in(location=None, actor="t")
    assert (volume.status, volume.holder, volume.due) == ("in", "HIM", None)
    with pytest.raises(UsageError, match="is not lost"):
        volume.found(location=None, actor="t")
    assert _events(volume) == [
        ChartVolume.Registered,
        ChartVolume.CheckedOut,
        ChartVolume.Transferred,
        ChartVolume.CheckedIn,
    ]


@pytest.mark.parametrize(
    ("holder", "kind", "due", "sentence"),
    [
        ("ED", "cupboard", NOW + timedelta(days=1), "The holder must be one of"),
        (" ", "department", NOW + timedelta(days=1), "Give who or where the chart goes to."),
        ("ED", "department", NOW, "The due date must be in the future."),
    ],
)
def test_a_check_out_names_a_holder_and_a_due_date_to_come(
    holder: str, kind: str, due: datetime, sentence: str
) -> None:
    volume = _volume()
    with pytest.raises(UsageError, match=re.escape(sentence)):
        volume.check_out(holder=holder, holder_kind=kind, due=due, now=NOW, actor="t")
    assert volume.status == "in"


def test_a_lost_volume_is_not_pulled_nor_lost_again_until_found() -> None:
    volume = _volume()
    volume.ask_for(requestor="doc1", needed_by=NOW, purpose="clinic", now=NOW, actor="t")
    assert volume.request == ("doc1", NOW, "clinic")
    with pytest.raises(UsageError, match="already past"):
        volume.ask_for(
            requestor="doc1", needed_by=NOW - timedelta(seconds=1), purpose="x", now=NOW, actor="t"
        )
    with pytest.raises(UsageError, match=re.escape("Say where the chart was last seen.")):
        volume.report_lost(note=" ", actor="t")
    volume.report_lost(note="not on the shelf", actor="t")
    with pytest.raises(UsageError, match="already reported lost"):
        volume.report_lost(note="still not", actor="t")
    with pytest.raises(UsageError, match="is lost; it cannot be pulled"):
        volume.ask_for(requestor="doc1", needed_by=NOW, purpose="clinic", now=NOW, actor="t")
    volume.found(location="Desk 2", actor="t")
    assert (volume.status, volume.holder) == ("in", "Desk 2")


def test_the_electronic_record_is_routed_and_a_paper_volume_is_not() -> None:
    record = ChartVolume.electronic("mr0000001", actor="t")
    assert (record.barcode, record.id) == ("E-MR0000001", volume_id("E-MR0000001"))
    due = NOW + timedelta(hours=4)
    for step, what in (
        (
            lambda: record.check_out(
                holder="ED", holder_kind="department", due=due, now=NOW, actor="t"
            ),
            "checked out",
        ),
        (lambda: record.report_lost(note="gone", actor="t"), "lost"),
        (lambda: record.file_loose(what="a slip", actor="t"), "given loose sheets"),
        (
            lambda: record.ask_for(requestor="d", needed_by=due, purpose="p", now=NOW, actor="t"),
            "pulled",
        ),
    ):
        with pytest.raises(UsageError, match=f"electronic record: it is routed, not {what}"):
            step()
    with pytest.raises(UsageError, match="The recipient must be one of"):
        record.route(
            to="ED",
            holder_kind="cupboard",
            due=due,
            now=NOW,
            purpose="treatment",
            decision="d",
            actor="t",
        )
    with pytest.raises(UsageError, match=re.escape("Give who or where the record goes to.")):
        record.route(
            to=" ",
            holder_kind="department",
            due=due,
            now=NOW,
            purpose="treatment",
            decision="d",
            actor="t",
        )
    record.route(
        to=" ED ",
        holder_kind="department",
        due=due,
        now=NOW,
        purpose="treatment",
        decision="d",
        actor="t",
    )
    assert (record.status, record.holder) == ("out", "ED")
    record.check_in(location=None, actor="t")
    with pytest.raises(UsageError, match="is a paper volume: it is checked out, not routed"):
        _volume().route(
            to="ED",
            holder_kind="department",
            due=due,
            now=NOW,
            purpose="treatment",
            decision="d",
            actor="t",
        )


# -- completion registers -------------------------------------------------------------------------


def _deficiency(kind: str = "discharge-summary", physician: str = "doc1") -> Deficiency:
    return Deficiency(kind, "enc", "MR0000001", physician, NOW, "no summary")


def test_a_register_assigns_each_deficiency_once_and_closes_only_open_ones() -> None:
    encounter = uuid4()
    register = EncounterCompletion.start(encounter_id=encounter, mrn="MR0000001", actor="t")
    assert register.id == completion_id(encounter)
    register.assign(_deficiency(), policy="p", actor="t")
    register.assign(_deficiency("consent", "doc2"), policy="p", actor="t")
    with pytest.raises(UsageError, match="already assigned"):
        register.assign(_deficiency(), policy="p", actor="t")
    assert register.notify("doc1", method="inbox", actor="t") == 1
    assert register.notify("doc9", method="inbox", actor="t") == 0  # nothing of theirs: no event
    assert register.open["discharge-summary"].notified_at is not None
    register.complete("discharge-summary", note="written", policy="p", actor="t")
    register.waive("consent", reason="emergency", actor="t")
    assert (register.open, register.waived) == ({}, {"consent"})
    for step in (
        lambda: register.complete("consent", note="again", policy="p", actor="t"),
        lambda: register.waive("discharge-summary", reason="again", actor="t"),
    ):
        with pytest.raises(UsageError, match="There is no open deficiency"):
            step()
    assert _events(register) == [
        EncounterCompletion.Started,
        EncounterCompletion.Assigned,
        EncounterCompletion.Assigned,
        EncounterCompletion.Notified,
        EncounterCompletion.Completed,
        EncounterCompletion.Waived,
    ]


# -- discrepancies and reviews --------------------------------------------------------------------


def test_a_discrepancy_is_opened_with_facts_and_resolved_once_with_an_analysis() -> None:
    opened = {"patient_id": PATIENT, "mrn": "MR0000001", "kind": "other", "actor": "t"}
    with pytest.raises(UsageError, match="The kind must be one of"):
        Discrepancy.open(**{**opened, "kind": "vibes"}, description="x", facts=["a/1"])
    with pytest.raises(UsageError, match=re.escape("Describe what disagrees.")):
        Discrepancy.open(**opened, description=" ", facts=["a/1"])
    with pytest.raises(UsageError, match="at least one fact event"):
        Discrepancy.open(**opened, description="two dates", facts=[])
    record = Discrepancy.open(**opened, description=" two dates ", facts=["a/1"])
    assert (record.description, record.is_open) == ("two dates", True)
    with pytest.raises(UsageError, match="Give the analysis"):
        record.resolve(analysis=" ", correcting=["b/2"], actor="t")
    with pytest.raises(UsageError, match="at least one correcting event"):
        record.resolve(analysis="checked", correcting=[], actor="t")
    record.resolve(analysis="checked", correcting=["b/2"], actor="t")
    assert (record.is_open, record.resolved_by) == (False, "t")
    with pytest.raises(UsageError, match="already resolved by t"):
        record.resolve(analysis="again", correcting=["b/2"], actor="u")
    assert _events(record) == [Discrepancy.Opened, Discrepancy.Resolved]


def test_a_review_finding_has_a_known_outcome_and_a_note() -> None:
    review = AccessReview.start("e/1")
    assert review.id == review_id("e/1")
    with pytest.raises(UsageError, match="The outcome must be one of"):
        review.record(outcome="meh", note="x", actor="c")
    with pytest.raises(UsageError, match="Give a note"):
        review.record(outcome="appropriate", note=" ", actor="c")
    review.record(outcome="needs-follow-up", note="asked", actor="c")
    review.record(outcome="appropriate", note="explained", actor="c")
    assert review.outcome == "appropriate"
    assert _events(review) == [AccessReview.Started, AccessReview.Recorded, AccessReview.Recorded]
