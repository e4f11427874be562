"""Issue 10 on every store: entries shown as signed, relationships not self-made, exact
disclosures (releases, legal packages, the accounting)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from ledger.commands import access, documents, encounters, entries, patients, users
from ledger.errors import UsageError
from ledger.integrity.keys import Identity
from ledger.reads import charts
from projections.queries import Purpose, chart_history, chart_record
from tests.conftest import Hospital

ADA = {"given_name": "Ada", "family_name": "Okafor", "sex": "female"}
TREATMENT = Purpose("treatment")


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


@dataclass
class Ward:
    hospital: Hospital
    tech: Identity
    doc: Identity
    doc2: Identity
    roi: Identity
    mrn: str
    encounter: UUID


@pytest.fixture
def ward(hospital: Hospital) -> Ward:
    tech = hospital.enrol("tech1", ["technician"])
    doc = hospital.enrol("doc1", ["physician"])
    doc2 = hospital.enrol("doc2", ["physician"])
    roi = hospital.enrol("roi1", ["roi-specialist"])
    ledger = hospital.ledger
    mrn = patients.register_patient(ledger, ADA, actor=tech, likely_matches=[])
    encounter = encounters.open_encounter(
        ledger,
        mrn,
        encounter_class="inpatient",
        attending="doc1",
        service="medicine",
        effective_at=ago(hours=3),
        actor=tech,
    )
    return Ward(hospital, tech, doc, doc2, roi, mrn, encounter)


def test_a_transcribed_entry_is_shown_as_entered_until_its_author_signs(ward: Ward) -> None:
    ledger = ward.hospital.ledger
    entry = entries.add_entry(
        ledger,
        ward.encounter,
        kind="diagnosis",
        text="Community-acquired pneumonia",
        author="doc1",
        effective_at=ago(hours=2),
        actor=ward.tech,
    )

    def shown() -> dict:  # type: ignore[type-arg]
        record = chart_record(ledger, ward.mrn, actor=ward.doc, why=TREATMENT).as_dict()
        (found,) = record["encounters"][0]["entries"]
        return found  # type: ignore[no-any-return]

    before = shown()
    assert before["attribution"] == "entered by tech1 for doc1, not signed by doc1"
    assert before["transcribed"] and not before["signed_by_author"]
    entries.sign_entry(ledger, ward.encounter, entry, actor=ward.doc)
    entries.amend_entry(
        ledger,
        ward.encounter,
        entry,
        text="Aspiration pneumonia",
        reason="history of aspiration",
        requested_by="doc1",
        actor=ward.doc2,
    )
    after = shown()
    assert after["attribution"].startswith("by doc1, entered by tech1, signed by doc1 ")
    assert after["attribution"].endswith("; amended by doc2 (asked by doc1), not signed")
    assert after["signed_by_author"] and after["versions"][1]["recorded_by"] == "doc2"
    lines = [x.as_dict() for x in chart_history(ledger, ward.mrn, actor=ward.doc, why=TREATMENT)]
    recorded = next(x for x in lines if x["what"] == "Encounter.EntryRecorded")
    assert recorded["entered_for"] == "doc1" and recorded["actor"] == "tech1"


def test_a_revoked_user_cannot_be_named_as_author(ward: Ward) -> None:
    ledger = ward.hospital.ledger
    users.revoke_key(ledger, "doc2", "left", actor=ward.hospital.admin)
    with pytest.raises(UsageError, match="doc2 cannot be an entry's author: their key has been"):
        entries.add_entry(
            ledger,
            ward.encounter,
            kind="diagnosis",
            text="x",
            author="doc2",
            effective_at=ago(hours=1),
            actor=ward.tech,
        )
    assert ledger.encounter(ward.encounter).entries == {}


def test_a_self_admission_of_a_restricted_patient_breaks_the_glass_and_opens_nothing(
    ward: Ward,
) -> None:
    from ledger.aggregates.access import Access
    from ledger.commands.policy import load_access_policy
    from ledger.errors import AccessDenied

    hospital, ledger = ward.hospital, ward.hospital.ledger
    officer = hospital.enrol("privacy1", ["compliance-officer"])
    policy = f'version = "r.1"\n[patients]\nrestricted = ["{ward.mrn}"]\n'
    load_access_policy(ledger, policy, actor=officer)
    chart_record(ledger, ward.mrn, actor=ward.doc, why=TREATMENT)  # doc1: admitted by tech1

    def admit(**kw: object) -> UUID:
        return encounters.open_encounter(
            ledger,
            ward.mrn,
            encounter_class="emergency",
            attending="doc2",
            service="emergency",
            effective_at=ago(minutes=5),
            actor=ward.doc2,
            **kw,  # type: ignore[arg-type]
        )

    with pytest.raises(AccessDenied, match="breaking the glass"):
        admit()
    assert len(charts.encounters(ledger, ward.mrn)) == 1
    opened = admit(break_glass_reason="night cover")
    assert ledger.encounter(opened).attending == "doc2"
    with pytest.raises(AccessDenied, match="restricted"):
        chart_record(ledger, ward.mrn, actor=ward.doc2, why=TREATMENT)
    flagged = [
        e
        for n in ledger.recorder.select_notifications(start=None, limit=1000)
        if n.topic == Access.RecordAccessed.TOPIC
        for e in ledger.events.get(n.originator_id)  # type: ignore[arg-type]
        if getattr(e, "action", None) == "admit"
    ]
    assert [(e.actor, e.break_glass_reason, e.flagged) for e in flagged] == [  # type: ignore[attr-defined]
        ("doc2", "night cover", True)
    ]
    # Taking over someone else's encounter as attending is judged the same way.
    with pytest.raises(AccessDenied, match="breaking the glass"):
        encounters.transfer(
            ledger, ward.encounter, attending="doc2", effective_at=ago(minutes=1), actor=ward.doc2
        )
    assert ledger.encounter(ward.encounter).attending == "doc1"


def _chart_accesses(ledger: Any) -> list[tuple[str, str, str | None, bool]]:
    """(event, actor, break-glass reason, flagged) of every access event for charting."""
    from ledger.aggregates.access import Access

    topics = {Access.RecordAccessed.TOPIC: "granted", Access.AccessDenied.TOPIC: "denied"}
    return [
        (topics[n.topic], e.actor, e.break_glass_reason, e.flagged)
        for n in ledger.recorder.select_notifications(start=None, limit=10_000)
        if n.topic in topics
        for e in ledger.events.get(n.originator_id)
        if getattr(e, "action", None) == "chart"
    ]


def _restrict(ward: Ward) -> None:
    from ledger.commands.policy import load_access_policy

    officer = ward.hospital.enrol("privacy1", ["compliance-officer"])
    policy = f'version = "r.1"\n[patients]\nrestricted = ["{ward.mrn}"]\n'
    load_access_policy(ward.hospital.ledger, policy, actor=officer)


def _relationship(ward: Ward, name: str) -> str | None:
    return access.relationship_to(
        ward.hospital.ledger, ward.mrn, name, now=datetime.now(UTC), window_days=30, restricted=True
    )


def test_charting_in_a_restricted_chart_without_a_relationship_breaks_the_glass(
    ward: Ward,
) -> None:
    from ledger.errors import AccessDenied

    ledger = ward.hospital.ledger
    _restrict(ward)
    note = {"kind": "progress-note", "text": "Seen on call", "effective_at": ago(minutes=5)}
    with pytest.raises(AccessDenied, match="restricted to the patient's care team"):
        entries.add_entry(ledger, ward.encounter, **note, actor=ward.doc2)  # type: ignore[arg-type]
    assert ledger.encounter(ward.encounter).entries == {}  # the refusal wrote no entry
    assert _chart_accesses(ledger) == [("denied", "doc2", None, False)]
    entry = entries.add_entry(
        ledger,
        ward.encounter,
        **note,  # type: ignore[arg-type]
        actor=ward.doc2,
        break_glass_reason="rapid response call",
    )
    assert ledger.encounter(ward.encounter).entry(entry).author == "doc2"
    assert _chart_accesses(ledger)[1:] == [("granted", "doc2", "rapid response call", True)]
    # Charting did not make doc2 care team: a treatment read, a signature, an amendment and a
    # retraction of doc2's own entry all still need the glass broken.
    assert "doc2" not in ledger.encounter(ward.encounter).care_team
    assert _relationship(ward, "doc2") == "recent-encounter"
    with pytest.raises(AccessDenied, match="restricted"):
        chart_record(ledger, ward.mrn, actor=ward.doc2, why=TREATMENT)
    with pytest.raises(AccessDenied, match="Charting refused"):
        entries.sign_entry(ledger, ward.encounter, entry, actor=ward.doc2)
    with pytest.raises(AccessDenied, match="Charting refused"):
        entries.amend_entry(
            ledger,
            ward.encounter,
            entry,
            text="x",
            reason="typo",
            requested_by="doc2",
            actor=ward.doc2,
        )
    with pytest.raises(AccessDenied, match="Charting refused"):
        entries.retract_entry(ledger, ward.encounter, entry, reason="wrong bed", actor=ward.doc2)
    entries.sign_entry(
        ledger, ward.encounter, entry, actor=ward.doc2, break_glass_reason="my own note"
    )
    assert [s.physician for s in ledger.encounter(ward.encounter).entry(entry).signatures] == [
        "doc2"
    ]
    assert _relationship(ward, "doc2") == "recent-encounter"
    # The attending (admitted by the technician) charts and signs as always, unflagged.
    own = entries.add_entry(ledger, ward.encounter, **note, actor=ward.doc)  # type: ignore[arg-type]
    entries.sign_entry(ledger, ward.encounter, own, actor=ward.doc)
    entries.sign_entry(ledger, ward.encounter, entry, actor=ward.doc)  # the attending signs for it
    assert [a[0] for a in _chart_accesses(ledger)] == ["denied", "granted"] + ["denied"] * 3 + [
        "granted"
    ]


def test_a_transcription_naming_an_author_gives_them_no_relationship(ward: Ward) -> None:
    from ledger.errors import AccessDenied

    ledger = ward.hospital.ledger
    # Not restricted: the technician enters for doc2, and doc2 (a physician with only the
    # patient's recent encounter) charts; neither makes doc2 care team.
    entry = entries.add_entry(
        ledger,
        ward.encounter,
        kind="diagnosis",
        text="Community-acquired pneumonia",
        author="doc2",
        effective_at=ago(hours=1),
        actor=ward.tech,
    )
    entries.add_entry(
        ledger,
        ward.encounter, kind="progress-note", text="Better", effective_at=ago(minutes=30),
        actor=ward.doc2,
    )  # fmt: skip
    assert "doc2" not in ledger.encounter(ward.encounter).care_team
    assert access.relationship_to(
ledger,
        ward.mrn, "doc2", now=datetime.now(UTC), window_days=30
    ) == "recent-encounter"  # fmt: skip
    # Once restricted, the named author cannot read it, nor sign it without breaking the glass.
    _restrict(ward)
    assert _relationship(ward, "doc2") == "recent-encounter"
    with pytest.raises(AccessDenied, match="restricted"):
        chart_record(ledger, ward.mrn, actor=ward.doc2, why=TREATMENT)
    with pytest.raises(AccessDenied, match="Charting refused"):
        entries.sign_entry(ledger, ward.encounter, entry, actor=ward.doc2)
    assert ledger.encounter(ward.encounter).entry(entry).signatures == []
    # The technician still enters for the encounter (the role rules decide), unflagged.
    entries.add_entry(
        ledger,
        ward.encounter, kind="laboratory-report", text="WBC 11", author="doc1",
        effective_at=ago(minutes=10), actor=ward.tech,
    )  # fmt: skip
    assert _chart_accesses(ledger) == [("denied", "doc2", None, False)]


def test_the_attending_completes_an_old_encounter_another_physician_may_not(
    hospital: Hospital,
) -> None:
    from ledger.errors import AccessDenied

    tech = hospital.enrol("tech1", ["technician"])
    doc = hospital.enrol("doc1", ["physician"])
    doc2 = hospital.enrol("doc2", ["physician"])
    ledger = hospital.ledger
    mrn = patients.register_patient(ledger, ADA, actor=tech, likely_matches=[])
    old = encounters.open_encounter(
        ledger,
        mrn, encounter_class="inpatient", attending="doc1", service="medicine",
        effective_at=ago(days=60), actor=tech,
    )  # fmt: skip
    encounters.discharge(ledger, old, disposition="home", effective_at=ago(days=50), actor=tech)
    note = {"kind": "physician-note", "text": "Discharge summary", "effective_at": ago(days=50)}
    # Outside the treatment window the patient is no one's, but the encounter is still doc1's.
    entry = entries.add_entry(ledger, old, **note, actor=doc)  # type: ignore[arg-type]
    entries.sign_entry(ledger, old, entry, actor=doc)
    with pytest.raises(AccessDenied, match="no treatment relationship"):
        entries.add_entry(ledger, old, **note, actor=doc2)  # type: ignore[arg-type]
    assert list(ledger.encounter(old).entries) == [entry]


WRONG_TEXT = "Left femur fracture WRONG-PATIENT-7731"
MISFILED = b"Referral letter MISFILED-BYTES-5512\n"


@dataclass
class Misfiled:
    """A chart with a kept entry, an entry retracted as entered in error, a kept document and
    one refiled away to another patient's chart."""

    ward: Ward
    kept: str
    retracted: str
    document: UUID
    refiled: UUID


@pytest.fixture
def misfiled(ward: Ward, tmp_path: Path) -> Misfiled:
    ledger = ward.hospital.ledger
    other = patients.register_patient(
        ledger,
        {"given_name": "Bram", "family_name": "Visser", "sex": "male"},
        actor=ward.tech,
        likely_matches=[],
    )
    kept = entries.add_entry(
        ledger,
        ward.encounter,
        kind="diagnosis",
        text="Community-acquired pneumonia",
        effective_at=ago(hours=2),
        actor=ward.doc,
    )
    wrong = entries.add_entry(
        ledger,
        ward.encounter,
        kind="diagnosis",
        text=WRONG_TEXT,
        effective_at=ago(hours=2),
        actor=ward.doc,
    )
    entries.amend_entry(
        ledger,
        ward.encounter,
        wrong,
        text=WRONG_TEXT + " (displaced)",
        reason="x-ray read",
        requested_by="doc1",
        actor=ward.doc,
    )
    entries.retract_entry(ledger, ward.encounter, wrong, reason="wrong patient", actor=ward.doc)
    good = tmp_path / "consent.txt"
    good.write_bytes(b"I consent to treatment.\n")
    document = documents.file_document(ledger, ward.mrn, good, kind="consent", actor=ward.tech)
    bad = tmp_path / "referral-visser.txt"
    bad.write_bytes(MISFILED)
    refiled = documents.file_document(
        ledger, ward.mrn, bad, kind="referral-letter", actor=ward.tech
    )
    documents.refile_document(
        ledger, refiled, other, reason="filed to the wrong patient", actor=ward.tech
    )
    return Misfiled(
        ward, f"{ward.encounter}:{kept}", f"{ward.encounter}:{wrong}", document, refiled
    )


def _every_byte(folder: Path) -> bytes:
    return b"\n".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_a_release_sends_no_retracted_entry_nor_refiled_document_and_says_what_went(
    misfiled: Misfiled, tmp_path: Path
) -> None:
    from ledger.commands.release import (
        approve_release,
        release_package,
        request_release,
        validate_release,
    )
    from projections.release import accounting_of, package_contents

    ward = misfiled.ward
    ledger, today = ward.hospital.ledger, datetime.now(UTC).date()
    request = request_release(
        ledger,
        ward.mrn,
        requester_kind="attorney",
        requester="Lund & Berg LLP",
        address="4 Court St",
        asks="all records",
        sections=["chart", "documents"],
        purpose="legal",
        received=today,
        actor=ward.roi,
    )
    validate_release(ledger, request, basis="subpoena", actor=ward.roi, notice_to_patient=True)
    approve_release(ledger, request, actor=ward.roi)
    out = tmp_path / "release"
    released = release_package(
        ledger,
        request,
        contents=package_contents,
        out=out,
        method="mail",
        fee="0",
        actor=ward.roi,
    )
    assert (released.entries, released.documents) == (1, 1)
    sent = _every_byte(out)
    assert b"WRONG-PATIENT-7731" not in sent and b"MISFILED-BYTES-5512" not in sent
    assert misfiled.retracted.split(":")[1].encode() not in sent
    assert str(misfiled.refiled).encode() not in sent
    entries = json.loads((out / "entries.json").read_text())
    assert [e["id"] for e in entries] == [misfiled.kept]

    report = accounting_of(ledger, ward.mrn, requested_on=today, actor=ward.roi)
    (line,) = report.lines
    assert line.entries == (misfiled.kept,) and line.documents == (str(misfiled.document),)


def _opened_bodies(folder: Path) -> list[str]:
    """Every event body of the package the recipient can read with the package's own keys."""
    import base64

    from ledger.verifier import envelope
    from ledger.verifier.sealed import open_body
    from ledger.verifier.transcoder import MsgpackTranscoder

    keys = {
        kid: base64.b64decode(key)
        for kid, key in json.loads((folder / "subject-keys.json").read_text())["keys"].items()
    }
    transcoder, found = MsgpackTranscoder(), []
    for line in (folder / "events.ndjson").read_text().splitlines():
        obj = json.loads(line)
        if obj.get("redacted"):
            assert "state" not in obj and "body" not in obj
            continue
        opened = envelope.unpack(base64.b64decode(obj["state"]))
        body = opened.body
        if opened.enc is not None:
            body = open_body(keys[opened.enc["kid"]], opened.enc["kid"], body)
        found.append(repr(transcoder.decode(body)))
    return found


def test_a_legal_package_redacts_a_retracted_entry_and_still_verifies(
    misfiled: Misfiled, tmp_path: Path
) -> None:
    import base64

    from ledger.errors import IntegrityViolation
    from ledger.integrity.legal_package import sign_manifest
    from ledger.verifier.package import verify_package
    from ledger.verifier.transcoder import MsgpackTranscoder
    from projections.legal import legal_package

    ward = misfiled.ward
    ledger = ward.hospital.ledger
    out = tmp_path / "package"
    summary = legal_package(
        ledger,
        ward.mrn,
        as_of=datetime.now(UTC),
        out=out,
        actor=ward.roi,
        node=ward.hospital.node(),
        why=Purpose("legal"),
    )
    assert summary.entries == 1 and summary.documents == 1
    everything = _every_byte(out) + "\n".join(_opened_bodies(out)).encode()
    for secret in (b"WRONG-PATIENT-7731", b"MISFILED-BYTES-5512", b"referral-visser"):
        assert secret not in everything
    record = json.loads((out / "record.json").read_text())
    assert [e["id"] for e in record["encounters"][0]["entries"]] == [misfiled.kept.split(":")[1]]
    assert record["withheld"]["entries"] == [misfiled.retracted]
    assert record["encounters"][0]["entries"][0]["attribution"] == "by doc1"

    genesis = ledger.genesis_fingerprint()
    report = verify_package(out, transcoder=MsgpackTranscoder(), expected_genesis=genesis)
    assert report.redacted >= 2 and report.entries == 1 and report.documents == 1

    # A package that withholds an entry yet carries its text whole is caught too.
    import shutil

    leaky = tmp_path / "leaky"
    shutil.copytree(out, leaky)
    lines = (leaky / "events.ndjson").read_text().splitlines()
    for i, line in enumerate(lines):
        obj = json.loads(line)
        if obj.get("topic") == "chartledger/encounter/entry-recorded" and obj.get("redacted"):
            (stored,) = ledger.recorder.select_events(
                UUID(obj["originator_id"]),
                gt=obj["originator_version"] - 1,
                lte=obj["originator_version"],
            )
            proof = obj.pop("proof")
            for key in ("redacted", "body_sha256", "enc", "prev", "signer", "sig"):
                del obj[key]
            obj.update(state=base64.b64encode(stored.state).decode(), proof=proof)
            lines[i] = json.dumps(obj, separators=(",", ":"))
    (leaky / "events.ndjson").write_text("\n".join(lines) + "\n")
    sign_manifest(leaky, ward.roi, origin="test.hospital/ledger", made_at=datetime.now(UTC))
    with pytest.raises(IntegrityViolation, match="discloses its text"):
        verify_package(leaky, transcoder=MsgpackTranscoder(), expected_genesis=genesis)

    # A redacted event is still checked: one flipped byte of its body's hash is caught.
    lines = (out / "events.ndjson").read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if '"redacted":true' in line)
    obj = json.loads(lines[at])
    digest = bytearray(base64.b64decode(obj["body_sha256"]))
    digest[0] ^= 1
    obj["body_sha256"] = base64.b64encode(bytes(digest)).decode()
    lines[at] = json.dumps(obj, separators=(",", ":"))
    (out / "events.ndjson").write_text("\n".join(lines) + "\n")
    sign_manifest(out, ward.roi, origin="test.hospital/ledger", made_at=datetime.now(UTC))
    with pytest.raises(IntegrityViolation) as caught:
        verify_package(out, transcoder=MsgpackTranscoder(), expected_genesis=genesis)
    assert caught.value.check == "signature"


def _accesses_for(ledger: Any, action: str) -> list[tuple[str, str, str | None, bool]]:
    """(event, actor, break-glass reason, flagged) of every access event of this action."""
    from ledger.aggregates.access import Access

    topics = {Access.RecordAccessed.TOPIC: "granted", Access.AccessDenied.TOPIC: "denied"}
    return [
        (topics[n.topic], e.actor, e.break_glass_reason, e.flagged)
        for n in ledger.recorder.select_notifications(start=None, limit=10_000)
        if n.topic in topics
        for e in ledger.events.get(n.originator_id)
        if getattr(e, "action", None) == action
    ]


def _move(ward: Ward, move: str, actor: Identity, bed: str = "4W-2", **kw: Any) -> None:
    ledger = ward.hospital.ledger
    if move == "admit":
        encounters.open_encounter(
            ledger,
            ward.mrn,
            encounter_class="emergency",
            attending="doc1",
            service="emergency",
            effective_at=ago(minutes=5),
            actor=actor,
            **kw,
        )
    elif move == "transfer":
        encounters.transfer(
            ledger, ward.encounter, bed=bed, effective_at=ago(minutes=5), actor=actor, **kw
        )
    else:
        encounters.discharge(
            ledger,
            ward.encounter,
            disposition="home",
            effective_at=ago(minutes=5),
            actor=actor,
            **kw,
        )


def _moves(ward: Ward) -> tuple[int, int]:
    """(encounters of the patient, events of the ward encounter)."""
    ledger = ward.hospital.ledger
    return len(charts.encounters(ledger, ward.mrn)), len(list(ledger.events.get(ward.encounter)))


@pytest.mark.parametrize("move", ["admit", "transfer", "discharge"])
def test_moving_a_restricted_patient_makes_no_care_team_without_breaking_the_glass(
    ward: Ward, move: str
) -> None:
    from ledger.errors import AccessDenied

    ledger = ward.hospital.ledger
    nurse = ward.hospital.enrol("nurse1", ["nurse"])
    _restrict(ward)
    before = _moves(ward)
    for who in (ward.doc2, nurse):
        with pytest.raises(AccessDenied, match="breaking the glass; give a reason"):
            _move(ward, move, who)
    assert _moves(ward) == before  # nothing but the refusals was written
    assert _accesses_for(ledger, move) == [
        ("denied", "doc2", None, False),
        ("denied", "nurse1", None, False),
    ]
    _move(ward, move, nurse, break_glass_reason="bed crisis, night cover")
    assert _moves(ward) != before
    assert _accesses_for(ledger, move)[-1] == ("granted", "nurse1", "bed crisis, night cover", True)
    # The nurse is on the care team now, but a place made by her own move opens nothing.
    assert _relationship(ward, "nurse1") == "recent-encounter"
    with pytest.raises(AccessDenied, match="restricted"):
        chart_record(ledger, ward.mrn, actor=nurse, why=TREATMENT)
    chart_record(ledger, ward.mrn, actor=ward.doc, why=TREATMENT)  # named by tech1: as always


@pytest.mark.parametrize("move", ["admit", "transfer", "discharge"])
def test_technicians_and_the_attending_move_a_restricted_patient_as_before(
    ward: Ward, move: str
) -> None:
    ledger = ward.hospital.ledger
    _restrict(ward)
    _move(ward, move, ward.tech)  # no break-the-glass asked of a technician
    if move == "discharge":  # tech1 discharged the first: doc1 discharges a second
        ward.encounter = encounters.open_encounter(
            ledger,
            ward.mrn,
            encounter_class="emergency",
            attending="doc1",
            service="emergency",
            effective_at=ago(minutes=20),
            actor=ward.tech,
        )
    _move(ward, move, ward.doc, bed="4W-3")  # doc1, the attending tech1 named: as before
    assert _accesses_for(ledger, move) == []
    assert _relationship(ward, "doc1") == "attending"
    # A technician's own place on the care team opens no restricted chart either.
    assert _relationship(ward, "tech1") == "recent-encounter"


def test_an_ordinary_patient_is_moved_by_any_clinician_as_before(ward: Ward) -> None:
    ledger = ward.hospital.ledger
    nurse = ward.hospital.enrol("nurse1", ["nurse"])
    for move in ("admit", "transfer", "discharge"):
        _move(ward, move, nurse)
        assert _accesses_for(ledger, move) == []
    assert (
        access.relationship_to(ledger, ward.mrn, "nurse1", now=datetime.now(UTC), window_days=30)
        == "care-team"
    )
