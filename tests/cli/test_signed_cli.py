"""Issue 10: a chart shows entries as they were signed; relationships are not self-made;
disclosures send exactly what they say (CLI, on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import Chartledger
from tests.rawdb import RawDB


def _admit(run: Chartledger, mrn: str, *, attending: str = "dr1", actor: str = "tech1") -> str:
    opened = run(
        "encounter", "admit", mrn, "--attending", attending, "--service", "medicine", actor=actor
    )
    return opened.output.split("encounter ")[1].split()[0]


def _add(run: Chartledger, encounter: str, text: str, *extra: str, actor: str) -> str:
    added = run(
        "chart", "add", encounter, "--kind", "diagnosis", "--text", text, *extra, actor=actor
    )
    return added.output.split()[-1]


def _show(run: Chartledger, mrn: str, actor: str = "dr1") -> dict:  # type: ignore[type-arg]
    return json.loads(
        run("chart", "show", mrn, "--purpose", "treatment", "--json", actor=actor).output
    )


def test_a_transcription_shows_who_entered_it_until_its_author_signs(
    clinic: tuple[Chartledger, str],
) -> None:
    run, mrn = clinic
    run.enrol("dr2", "physician")
    encounter = _admit(run, mrn)
    entry = _add(run, encounter, "essential hypertension", "--author", "dr1", actor="tech1")

    text = run("chart", "show", mrn, "--purpose", "treatment", actor="dr1").output
    assert "entered by tech1 for dr1, not signed by dr1" in text
    assert "]  by dr1" not in text  # never "by dr1" for what dr1 has not signed
    (shown,) = _show(run, mrn)["encounters"][0]["entries"]
    assert shown["author"] == "dr1" and shown["entered_by"] == "tech1"
    assert shown["transcribed"] and not shown["signed_by_author"]

    run("chart", "sign", entry, actor="dr1")
    run(
        "chart", "amend", entry, "--text", "secondary hypertension", "--reason", "renal cause",
        "--requested-by", "patient", actor="dr2",
    )  # fmt: skip
    text = run("chart", "show", mrn, "--purpose", "treatment", actor="dr1").output
    assert "by dr1, entered by tech1, signed by dr1 " in text
    assert "amended by dr2 (asked by patient), not signed" in text
    (shown,) = _show(run, mrn)["encounters"][0]["entries"]
    assert shown["signed_by_author"]
    assert [(v["version"], v["recorded_by"], v["signed_by"]) for v in shown["versions"]] == [
        (1, "tech1", ["dr1"]),
        (2, "dr2", []),
    ]

    history = json.loads(
        run("chart", "history", mrn, "--purpose", "treatment", "--json", actor="dr1").output
    )
    recorded = next(x for x in history if x["what"] == "Encounter.EntryRecorded")
    assert (recorded["actor"], recorded["author"], recorded["entered_for"]) == (
        "tech1",
        "dr1",
        "dr1",
    )
    amended = next(x for x in history if x["what"] == "Encounter.EntryAmended")
    assert (amended["actor"], amended["requested_by"]) == ("dr2", "patient")
    table = run("chart", "history", mrn, "--purpose", "treatment", actor="dr1").output
    assert "tech1 for dr1" in table and "(asked by patient)" in table


def test_only_an_active_clinician_can_be_named_as_author(clinic: tuple[Chartledger, str]) -> None:
    run, mrn = clinic
    run.enrol("dr3", "physician")
    encounter = _admit(run, mrn)
    run("user", "revoke", "dr3", "--reason", "left the hospital")
    for author, message in [
        ("dr3", "revoked"),
        ("ghost", "There is no user named 'ghost'"),
        ("coder1", "only a physician or a nurse may be named"),
    ]:
        refused = run(
            "chart", "add", encounter, "--kind", "diagnosis", "--text", "x", "--author", author,
            actor="tech1", ok=False,
        )  # fmt: skip
        assert refused.exit_code == 2 and message in refused.output
    assert _show(run, mrn)["encounters"][0]["entries"] == []


def _policy(run: Chartledger, tmp_path: Path, text: str) -> None:
    run.enrol("privacy1", "compliance-officer")
    path = tmp_path / "policy.toml"
    path.write_text(text)
    run("policy", "load", str(path), actor="privacy1")


def test_a_physician_cannot_open_a_restricted_chart_by_admitting_the_patient_themself(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, mrn = clinic
    run.enrol("dr2", "physician")
    _policy(run, tmp_path, f'version = "r.1"\n[patients]\nrestricted = ["{mrn}"]\n')
    _admit(run, mrn)  # a technician admits for dr1: dr1's relationship, as always
    assert _show(run, mrn, actor="dr1")["mrn"] == mrn
    show = ("chart", "show", mrn, "--purpose", "treatment")
    assert run(*show, actor="dr2", ok=False).exit_code == 4

    admit = (  # an emergency visit: a second inpatient stay is refused while dr1's is open
        "encounter", "register", mrn, "--class", "emergency", "--attending", "dr2",
        "--service", "emergency",
    )  # fmt: skip
    refused = run(*admit, actor="dr2", ok=False)
    assert refused.exit_code == 4 and "breaking the glass" in refused.output
    assert len(_show(run, mrn, actor="dr1")["encounters"]) == 1  # nothing was opened
    run(*admit, "--break-glass", "covering the night shift", actor="dr2")
    assert len(_show(run, mrn, actor="dr1")["encounters"]) == 2
    # The encounter dr2 made for themself does not open the restricted chart to them.
    still = run(*show, actor="dr2", ok=False)
    assert still.exit_code == 4 and "restricted" in still.output
    run(*show, "--break-glass", "patient deteriorating", actor="dr2")

    admits = [(topic, facts) for topic, facts in _accesses(run) if facts["action"] == "admit"]
    assert [(topic.rsplit("/", 1)[1], f["actor"], f["break_glass_reason"], f["flagged"])
            for topic, f in admits] == [
        ("access-denied", "dr2", None, False),
        ("record-accessed", "dr2", "covering the night shift", True),
    ]  # fmt: skip


def _accesses(run: Chartledger) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    """Every access event's facts, read from the stored rows (they are not encrypted)."""
    from ledger.verifier import envelope
    from ledger.verifier.transcoder import MsgpackTranscoder

    transcoder = MsgpackTranscoder()
    found = []
    for _, oid, version, topic, state in RawDB(run.store_url).rows():
        if topic.startswith("chartledger/access/"):
            body = envelope.unpack(state, originator_id=oid, originator_version=version).body
            found.append((topic, transcoder.decode(body)))
    return found


def test_a_self_admission_breaks_the_glass_and_is_queued_for_review(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, mrn = clinic
    run.enrol("privacy1", "compliance-officer")
    admit = ("encounter", "register", mrn, "--attending", "dr1", "--service", "clinic")
    refused = run(*admit, actor="dr1", ok=False)
    assert refused.exit_code == 4 and "give a reason (--break-glass)" in refused.output
    run(*admit, "--break-glass", "walk-in, no registrar", actor="dr1")
    alerts = json.loads(run("audit", "alerts", "--json", actor="privacy1").output)
    assert ("break-glass-unreviewed", "dr1", mrn) in {
        (a["rule"], a["actor"], a["mrn"]) for a in alerts
    }
    # Now dr1 is this patient's attending: a second visit of their own is no break-the-glass.
    run(*admit, actor="dr1")


def test_the_policy_may_ask_break_the_glass_only_for_restricted_patients(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, mrn = clinic
    _policy(run, tmp_path, 'version = "s.1"\n[access]\nself_admission = "restricted"\n')
    run("encounter", "register", mrn, "--attending", "dr1", "--service", "clinic", actor="dr1")
    assert _show(run, mrn)["encounters"][0]["attending"] == "dr1"


def test_releases_packages_and_the_accounting_never_carry_an_entry_entered_in_error(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, mrn = clinic
    run.enrol("roi1", "roi-specialist")
    encounter = _admit(run, mrn)
    kept = _add(run, encounter, "Community-acquired pneumonia", actor="dr1")
    wrong = _add(run, encounter, "Femur fracture WRONG-PATIENT-4410", actor="dr1")
    run("chart", "retract", wrong, "--reason", "wrong patient", actor="dr1")

    request = run(
        "roi", "request", mrn, "--requester-kind", "attorney", "--requester", "Lund LLP",
        "--address", "4 Court St", "--asks", "all records", "--purpose", "legal",
        "--section", "chart", actor="roi1",
    ).output.split("release request ")[1].split()[0]  # fmt: skip
    run("roi", "validate", request, "--basis", "subpoena", "--notice-to-patient", actor="roi1")
    run("roi", "approve", request, actor="roi1")
    sent = tmp_path / "release"
    out = run("roi", "release", request, "--method", "mail", "--out", str(sent), actor="roi1")
    assert "Released 1 entries" in out.output
    everything = b"".join(p.read_bytes() for p in sent.rglob("*") if p.is_file())
    assert b"WRONG-PATIENT-4410" not in everything
    report = json.loads(run("roi", "accounting", mrn, "--json", actor="roi1").output)
    (line,) = report["disclosures"]
    assert line["entries"] == [kept] and line["documents"] == []
    assert f"sent: entry {kept}" in run("roi", "accounting", mrn, actor="roi1").output

    package = tmp_path / "package"
    made = run(
        "legal", "package", mrn, "--as-of", "now", "--out", str(package), "--purpose", "legal",
        actor="roi1",
    ).output  # fmt: skip
    assert "Withheld 1 entries retracted as entered in error" in made
    everything = b"".join(p.read_bytes() for p in package.rglob("*") if p.is_file())
    assert b"WRONG-PATIENT-4410" not in everything
    genesis = made.split("--genesis ")[1].split()[0]
    verified = run("verify", "--package", str(package), "--genesis", genesis).output
    assert "1 events are redacted" in verified and "(matches)" in verified


def test_charting_gives_no_care_team_and_breaking_the_glass_to_chart_is_reviewed(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, mrn = clinic
    run.enrol("dr2", "physician")
    encounter = _admit(run, mrn)  # a technician admits for dr1: dr1's relationship, as always
    transcribed = _add(run, encounter, "essential hypertension", "--author", "dr2", actor="tech1")
    _add(run, encounter, "asthma", actor="dr2")  # not restricted: a recent encounter will do
    _policy(run, tmp_path, f'version = "r.1"\n[patients]\nrestricted = ["{mrn}"]\n')
    show = ("chart", "show", mrn, "--purpose", "treatment")
    # Neither being named author nor charting made dr2 care team of the restricted chart.
    assert run(*show, actor="dr2", ok=False).exit_code == 4
    add = ("chart", "add", encounter, "--kind", "progress-note", "--text", "seen on call")
    refused = run(*add, actor="dr2", ok=False)
    assert refused.exit_code == 4 and "Charting refused" in refused.output
    assert run("chart", "sign", transcribed, actor="dr2", ok=False).exit_code == 4
    run(*add, "--break-glass", "rapid response call", actor="dr2")
    still = run(*show, actor="dr2", ok=False)
    assert still.exit_code == 4 and "restricted" in still.output
    charted = [
        (t.rsplit("/", 1)[1], f["actor"], f["break_glass_reason"])
        for t, f in _accesses(run)
        if f["action"] == "chart"
    ]
    assert charted == [
        ("access-denied", "dr2", None),
        ("access-denied", "dr2", None),
        ("record-accessed", "dr2", "rapid response call"),
    ]  # fmt: skip
    # The attending charts and signs as always; the chart shows dr2's entries.
    entry = _add(run, encounter, "pneumonia", actor="dr1")
    run("chart", "sign", entry, actor="dr1")
    run("chart", "sign", transcribed, actor="dr1")
    assert len(_show(run, mrn)["encounters"][0]["entries"]) == 4
    # Queued for review (read once the restriction is lifted: until issue 10 item 4 lands, a
    # restricted row blocks the compliance officer's whole alerts list).
    (tmp_path / "policy.toml").write_text('version = "r.2"\n')
    run("policy", "load", str(tmp_path / "policy.toml"), actor="privacy1")
    alerts = json.loads(run("audit", "alerts", "--json", actor="privacy1").output)
    assert ("break-glass-unreviewed", "dr2", mrn) in {
        (a["rule"], a["actor"], a["mrn"]) for a in alerts
    }


def test_moving_a_restricted_patient_without_a_relationship_breaks_the_glass_and_is_reviewed(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, mrn = clinic
    run.enrol("dr2", "physician")
    run.enrol("n1", "nurse")
    encounter = _admit(run, mrn)  # tech1 admits for dr1
    _policy(run, tmp_path, f'version = "r.1"\n[patients]\nrestricted = ["{mrn}"]\n')
    admit = ("encounter", "admit", mrn, "--attending", "dr1", "--service", "medicine")
    transfer = ("encounter", "transfer", encounter, "--bed", "4W-9")
    discharge = ("encounter", "discharge", encounter, "--disposition", "home")
    for command, actor, word in [(admit, "dr2", "Admission"), (transfer, "n1", "Transfer")]:
        refused = run(*command, actor=actor, ok=False)
        assert refused.exit_code == 4 and f"{word} refused" in refused.output
        assert "--break-glass" in refused.output
    assert len(_show(run, mrn)["encounters"]) == 1  # nothing was opened or moved
    assert _show(run, mrn)["encounters"][0]["bed"] is None
    run(*transfer, "--break-glass", "isolation room needed", actor="n1")
    # On the care team by her own move: the restricted chart stays closed to her.
    still = run("chart", "show", mrn, "--purpose", "treatment", actor="n1", ok=False)
    assert still.exit_code == 4 and "restricted" in still.output
    assert run(*discharge, actor="n1", ok=False).exit_code == 4
    run(*discharge, "--break-glass", "discharge against advice, night", actor="n1")
    moves = [
        (t.rsplit("/", 1)[1], f["action"], f["actor"], f["break_glass_reason"])
        for t, f in _accesses(run)
        if f["action"] in {"admit", "transfer", "discharge"}
    ]
    assert moves == [
        ("access-denied", "admit", "dr2", None),
        ("access-denied", "transfer", "n1", None),
        ("record-accessed", "transfer", "n1", "isolation room needed"),
        ("access-denied", "discharge", "n1", None),
        ("record-accessed", "discharge", "n1", "discharge against advice, night"),
    ]  # fmt: skip
    # Queued for review (read once the restriction is lifted, as in the charting test above).
    (tmp_path / "policy.toml").write_text('version = "r.2"\n')
    run("policy", "load", str(tmp_path / "policy.toml"), actor="privacy1")
    alerts = json.loads(run("audit", "alerts", "--json", actor="privacy1").output)
    assert ("break-glass-unreviewed", "n1", mrn) in {
        (a["rule"], a["actor"], a["mrn"]) for a in alerts
    }
