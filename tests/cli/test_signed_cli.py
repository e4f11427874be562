"""Issue 10: a chart shows entries as they were signed; relationships are not self-made;
disclosures send exactly what they say (CLI, on SQLite and PostgreSQL)."""

from __future__ import annotations

import json

from tests.cli.test_cli import Chartledger


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
