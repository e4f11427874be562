"""The master patient index through the CLI: register after a search, find, duplicates."""

from __future__ import annotations

import json

from ledger.aggregates.access import Access
from tests.cli.test_cli import Chartledger
from tests.rawdb import RawDB


def topics(run: Chartledger) -> list[str]:
    return [row[3] for row in RawDB(run.store_url).rows()]


def test_register_refuses_a_likely_duplicate_until_given_a_reason(
    clinic: tuple[Chartledger, str],
) -> None:
    run, mrn = clinic  # Ada Okafor, 1961-04-02
    fresh = run(
        "patient",
        "register",
        "--given",
        "Ben",
        "--family",
        "Salo",
        "--born",
        "1990-01-30",
        "--sex",
        "male",
        actor="tech1",
    )
    assert "Registered MR0000002 (no likely match" in fresh.output
    before = topics(run)
    refused = run(
        "patient",
        "register",
        "--given",
        "Adah",
        "--family",
        "Okafor",
        "--born",
        "1961-04-02",
        actor="tech1",
        ok=False,
    )
    assert refused.exit_code == 2
    assert mrn in refused.output and "--new-despite-match" in refused.output
    assert topics(run)[len(before) :] == [Access.RecordAccessed.TOPIC]  # shown once, recorded
    forced = json.loads(
        run(
            "patient",
            "register",
            "--given",
            "Adah",
            "--family",
            "Okafor",
            "--born",
            "1961-04-02",
            "--new-despite-match",
            "twin sister",
            "--json",
            actor="tech1",
        ).output
    )
    assert forced["mrn"] == "MR0000003"
    assert [c["mrn"] for c in forced["likely_matches"]] == [mrn]


def test_find_tolerates_typos_and_swapped_names(clinic: tuple[Chartledger, str]) -> None:
    run, mrn = clinic
    run(
        "patient",
        "register",
        "--given",
        "Ben",
        "--family",
        "Salo",
        "--born",
        "1990-01-30",
        actor="tech1",
    )
    for words in (["Okafr", "Ada"], ["Ada", "Okafor"], ["Okafor,", "Ada"]):
        found = json.loads(
            run(
                "patient", "find", *words, "--purpose", "operations", "--json", actor="tech1"
            ).output
        )
        assert found[0]["mrn"] == mrn, words
    by_born = json.loads(
        run(
            "patient",
            "find",
            "--born",
            "1961-04-02",
            "--purpose",
            "operations",
            "--json",
            actor="tech1",
        ).output
    )
    assert by_born[0]["mrn"] == mrn
    by_mrn = json.loads(
        run(
            "patient",
            "find",
            "--mrn",
            mrn.lower(),
            "--purpose",
            "operations",
            "--json",
            actor="tech1",
        ).output
    )
    assert [c["mrn"] for c in by_mrn] == [mrn]
    assert topics(run)[-1] == Access.RecordAccessed.TOPIC
    table = run("patient", "find", "Okafor", "--purpose", "operations", actor="tech1").output
    assert mrn in table


def test_duplicates_lists_probable_pairs(clinic: tuple[Chartledger, str]) -> None:
    run, mrn = clinic
    run(
        "patient",
        "register",
        "--given",
        "Ada",
        "--family",
        "Okafor",
        "--born",
        "1961-04-02",
        "--postcode",
        "4011",
        "--new-despite-match",
        "registrar unsure",
        actor="tech1",
    )
    pairs = json.loads(
        run("patient", "duplicates", "--purpose", "operations", "--json", actor="tech1").output
    )
    assert [(p["left"]["mrn"], p["right"]["mrn"]) for p in pairs] == [(mrn, "MR0000002")]
    assert "given_name" in pairs[0]["left"]["agreed"]


def test_index_errors_write_nothing(clinic: tuple[Chartledger, str]) -> None:
    run, _ = clinic
    before = topics(run)
    bad_date = run(
        "patient",
        "register",
        "--given",
        "X",
        "--family",
        "Y",
        "--born",
        "1961-13-40",
        actor="tech1",
        ok=False,
    )
    assert "is not a date of birth" in bad_date.output
    future = run(
        "patient",
        "register",
        "--given",
        "X",
        "--family",
        "Y",
        "--born",
        "2999-01-01",
        actor="tech1",
        ok=False,
    )
    assert "not a plausible date" in future.output
    nothing = run("patient", "find", "--purpose", "operations", actor="tech1", ok=False)
    assert "Give a name" in nothing.output
    unknown = run(
        "patient", "find", "--mrn", "MR0009999", "--purpose", "operations", actor="tech1", ok=False
    )
    assert unknown.exit_code == 5
    assert topics(run) == before
