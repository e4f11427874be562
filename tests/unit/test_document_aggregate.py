"""The `Document` aggregate keeps its own invariants, in memory: a known kind, a reason to move
it, never to the chart it is in; the `Filed` event stays when it moves."""

from __future__ import annotations

from uuid import uuid4

import pytest

from ledger.aggregates.documents import Document
from ledger.errors import UsageError

ADA, BEN = uuid4(), uuid4()


def filed(kind: str = "consent") -> Document:
    return Document.file(
        ADA,
        "MR0000001",
        encounter_id=None,
        kind=kind,
        sha256="ab" * 32,
        size=3,
        media_type="application/pdf",
        filename="consent.pdf",
        actor="tech1",
    )


def test_filing_records_what_was_filed() -> None:
    document = filed()
    (event,) = document.collect_events()
    assert isinstance(event, Document.Filed) and event.TOPIC == "chartledger/document/filed"
    assert (document.patient_id, document.mrn, document.kind) == (ADA, "MR0000001", "consent")
    assert document.filed_by == "tech1" and document.sha256 == "ab" * 32


def test_an_unknown_kind_is_refused_in_one_sentence() -> None:
    with pytest.raises(UsageError, match=r"^Unknown document kind 'selfie'; one of .*consent"):
        filed("selfie")
    with pytest.raises(UsageError, match="Unknown document kind"):
        Document.check_kind("selfie")
    Document.check_kind("other")


def test_a_move_names_both_charts_and_keeps_the_filing() -> None:
    document = filed()
    document.collect_events()
    document.refile(BEN, "MR0000002", encounter_id=None, reason="  misfiled ", actor="tech1")
    (event,) = document.collect_events()
    assert isinstance(event, Document.Refiled)
    assert (event.from_mrn, event.mrn, event.reason, event.sha256) == (
        "MR0000001",
        "MR0000002",
        "misfiled",
        "ab" * 32,
    )
    assert (document.patient_id, document.mrn, document.version) == (BEN, "MR0000002", 2)


@pytest.mark.parametrize(
    ("to", "reason", "sentence"),
    [
        (BEN, "  ", "Give a reason for moving the document."),
        (ADA, "misfiled", "is already in MR0000001's chart."),
    ],
)
def test_a_move_without_a_reason_or_to_the_same_chart_is_refused(
    to: object, reason: str, sentence: str
) -> None:
    document = filed()
    document.collect_events()
    with pytest.raises(UsageError, match=sentence.replace(".", r"\.")):
        document.refile(to, "MR0000001", encounter_id=None, reason=reason, actor="tech1")  # type: ignore[arg-type]
    assert document.collect_events() == [] and document.patient_id == ADA
