"""Discrepancies through the CLI, on every store: a misfiled document opened as a discrepancy,
moved by `chart refile` (the original filing kept) and resolved with the move linked; a date of
birth recorded two ways resolved by a correction; and the refusals, which write nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import UUID

import pytest

from ledger.application import Ledger
from ledger.commands import patients
from ledger.home import LedgerHome
from tests.cli.test_cli import Chartledger
from tests.rawdb import RawDB

BRAM = {"given_name": "Bram", "family_name": "Lindqvist", "birth_date": date(1979, 11, 23)}
UNKNOWN_EVENT = "00000000-0000-4000-8000-000000000000/1"


@contextmanager
def _ledger(run: Chartledger) -> Iterator[Ledger]:
    with LedgerHome(run.home).open(run.store_url) as ledger:
        yield ledger


def _register(run: Chartledger, demographics: dict[str, object]) -> str:
    tech = run.identity("tech1")
    with _ledger(run) as ledger:
        return patients.register_patient(ledger, demographics, actor=tech, likely_matches=[])


def _file(run: Chartledger, mrn: str, path: Path, kind: str) -> str:
    out = run("chart", "file", mrn, str(path), "--kind", kind, actor="tech1").output
    return out.split(" as document ")[1].split()[0]


def _admit(run: Chartledger, mrn: str) -> str:
    out = run(
        "encounter", "admit", mrn, "--attending", "dr1", "--service", "medicine", actor="tech1"
    ).output
    return out.split(" encounter ")[1].split()[0]


def _open(run: Chartledger, mrn: str, kind: str, *facts: str, actor: str = "coder1") -> str:
    args = [a for fact in facts for a in ("--fact", fact)]
    out = run(
        "discrepancy",
        "open",
        mrn,
        "--kind",
        kind,
        "--description",
        "they disagree",
        *args,
        actor=actor,
    ).output
    return out.split("Opened discrepancy ")[1].split()[0]


def _chart(run: Chartledger, mrn: str) -> str:
    return run("chart", "show", mrn, "--purpose", "operations", actor="tech1").output


def _stored(run: Chartledger) -> int:
    return len(RawDB(run.store_url).rows())


@pytest.fixture
def scan(tmp_path: Path) -> Path:
    path = tmp_path / "consent.pdf"
    path.write_bytes(b"%PDF-1.4 consent to treatment " + bytes(range(256)))
    return path


def test_a_misfiled_document_is_moved_by_events_and_the_discrepancy_links_the_move(
    clinic: tuple[Chartledger, str], scan: Path, tmp_path: Path
) -> None:
    run, ada = clinic
    run.enrol("privacy1", "compliance-officer")
    bram = _register(run, BRAM)
    visit = _admit(run, bram)
    document = _file(run, ada, scan, "consent")
    filed = f"{document}/1"
    before_the_move = datetime.now(UTC).isoformat()
    opened = _open(run, ada, "misfiled-document", filed)
    assert opened in run("discrepancy", "list", "--open", actor="tech1").output

    moved = run(
        "chart",
        "refile",
        document,
        "--to",
        bram,
        "--encounter",
        visit,
        "--reason",
        "filed to the wrong patient",
        actor="tech1",
    ).output
    refiled = f"{document}/2"
    assert moved.strip() == f"Moved document {document} from {ada} to {bram} (event {refiled})."
    run(
        "discrepancy",
        "resolve",
        opened,
        "--analysis",
        "the consent is Bram's",
        "--correcting",
        refiled,
        actor="tech1",
    )

    listed = run("discrepancy", "list", "--mrn", ada, actor="tech1").output
    assert "Discrepancies: 1" in listed and "resolved by tech1" in listed
    assert filed in listed and refiled in listed and "the consent is Bram's" in listed
    assert "Discrepancies: 0" in run("discrepancy", "list", "--open", actor="tech1").output
    assert document in _chart(run, bram) and document not in _chart(run, ada)
    copy = tmp_path / "copy.pdf"
    run("chart", "document", document, "--out", str(copy), "--purpose", "operations", actor="tech1")
    assert copy.read_bytes() == scan.read_bytes()
    with _ledger(run) as ledger:
        first, move = ledger.events.get(UUID(document))
        assert (type(first).__name__, vars(first)["mrn"]) == ("Filed", ada)
        assert (type(move).__name__, vars(move)["mrn"]) == ("Refiled", bram)
        assert vars(move)["encounter_id"] == UUID(visit)
        assert ledger.document_info(UUID(document)).encounter_id == UUID(visit)
    assert "Re-hashed 1 filed documents" in run("verify").output
    for mrn in (ada, bram):  # the move is in both charts' audit trails
        trail = run("audit", "patient", mrn, "--json", actor="privacy1").output
        assert refiled in {row["event"] for row in json.loads(trail)}
    ada_trail = json.loads(run("audit", "patient", ada, "--json", actor="privacy1").output)
    assert {f"{opened}/1", f"{opened}/2"} <= {row["event"] for row in ada_trail}

    # Each chart's legal package verifies offline: Bram's holds the document, Ada's does not.
    run.enrol("roi1", "roi-specialist")
    run("checkpoint")
    # As of a moment before the move, Bram's chart did not hold it yet.
    now = datetime.now(UTC).isoformat()
    for mrn, as_of, holds in ((bram, now, True), (ada, now, False), (bram, before_the_move, False)):
        out = tmp_path / f"package-{mrn}-{holds}"
        made = run(
            "legal",
            "package",
            mrn,
            "--as-of",
            as_of,
            "--out",
            str(out),
            "--purpose",
            "legal",
            actor="roi1",
        ).output
        genesis = made.split("--genesis ")[1].split()[0]
        checked = run("verify", "--package", str(out), "--genesis", genesis, actor=None).output
        assert "Verified the legal package" in checked
        assert (out / "documents").is_dir() == holds


def test_a_date_of_birth_recorded_two_ways_is_resolved_by_a_correction(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, ada = clinic
    card = tmp_path / "id-card.png"
    card.write_bytes(b"\x89PNG id card, born 1961-02-04")
    identification = _file(run, ada, card, "identification")

    def history() -> list[dict[str, str]]:
        args = ("chart", "history", ada, "--json", "--purpose", "operations")
        return list(json.loads(run(*args, actor="tech1").output))

    (registered,) = [h["event"] for h in history() if h["what"] == "Patient.Registered"]
    opened = _open(run, ada, "date-of-birth", registered, f"{identification}/1", actor="tech1")
    fixed = run(
        "patient",
        "correct",
        ada,
        "--born",
        "1961-02-04",
        "--reason",
        "as on the ID card",
        actor="tech1",
    ).output
    corrected = fixed.split("(event ")[1].split(")")[0]
    assert fixed.startswith(f"Corrected birth_date of {ada}")
    assert [h["event"] for h in history() if h["what"].endswith("DemographicsCorrected")] == [
        corrected
    ]
    run(
        "discrepancy",
        "resolve",
        opened,
        "--analysis",
        "registered with day and month swapped",
        "--correcting",
        corrected,
        actor="tech1",
    )
    listed = run("discrepancy", "list", "--mrn", ada, actor="tech1").output
    assert "date-of-birth" in listed and corrected in listed and registered in listed
    run("verify")


def _refused(run: Chartledger, *args: str, actor: str, code: int, says: str) -> None:
    """The command fails with one sentence and its exit code, and stores no event."""
    before = _stored(run)
    result = run(*args, actor=actor, ok=False)
    assert result.exit_code == code, (args, result.output)
    assert says in result.output, (args, result.output)
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert _stored(run) == before, args


def test_opening_mistakes_are_one_sentence_and_write_nothing(
    clinic: tuple[Chartledger, str], scan: Path
) -> None:
    run, ada = clinic
    fact = f"{_file(run, ada, scan, 'consent')}/1"
    opening = ("discrepancy", "open", ada, "--kind", "other", "--description")
    _refused(run, *opening, "x", "--fact", UNKNOWN_EVENT, actor="coder1", code=5, says="not in")
    _refused(run, *opening, "x", "--fact", "x", actor="coder1", code=2, says="not an event id")
    _refused(run, *opening, "x", actor="coder1", code=2, says="at least one fact")
    _refused(run, *opening, " ", "--fact", fact, actor="coder1", code=2, says="Describe")
    _refused(run, *opening, "x", "--fact", fact, actor="dr1", code=4, says="Only technicians")
    nobody = ("discrepancy", "open", "MR9999999", "--kind", "other", "--description", "x")
    _refused(run, *nobody, "--fact", fact, actor="coder1", code=5, says="MR9999999")


def test_resolving_mistakes_are_one_sentence_and_write_nothing(
    clinic: tuple[Chartledger, str], scan: Path
) -> None:
    run, ada = clinic
    fact = f"{_file(run, ada, scan, 'consent')}/1"
    opened = _open(run, ada, "other", fact)
    resolving = ("discrepancy", "resolve", opened, "--analysis")
    _refused(run, *resolving, "", "--correcting", fact, actor="tech1", code=2, says="analysis")
    _refused(run, *resolving, "x", actor="tech1", code=2, says="at least one correcting")
    _refused(
        run, *resolving, "x", "--correcting", UNKNOWN_EVENT, actor="tech1", code=5, says="not in"
    )
    _refused(
        run, *resolving, "x", "--correcting", fact, actor="coder1", code=4, says="Only technicians"
    )
    run(*resolving, "the consent was right", "--correcting", fact, actor="tech1")
    _refused(run, *resolving, "y", "--correcting", fact, actor="tech1", code=2, says="already")
    unknown = ("discrepancy", "resolve", str(UUID(int=7)), "--analysis", "x", "--correcting", fact)
    _refused(run, *unknown, actor="tech1", code=5, says="no discrepancy")
    bad = ("discrepancy", "resolve", "not-an-id", "--analysis", "x", "--correcting", fact)
    _refused(run, *bad, actor="tech1", code=2, says="not a discrepancy id")


def test_refiling_mistakes_are_one_sentence_and_write_nothing(
    clinic: tuple[Chartledger, str], scan: Path
) -> None:
    run, ada = clinic
    bram = _register(run, BRAM)
    cara = _register(run, {**BRAM, "given_name": "Cara", "birth_date": date(1990, 1, 1)})
    run("patient", "merge", bram, cara, "--reason", "same person", actor="tech1")
    ada_visit = _admit(run, ada)
    document = _file(run, ada, scan, "consent")
    refile = ("chart", "refile", document, "--to")
    _refused(run, *refile, ada, "--reason", "x", actor="tech1", code=2, says="already in")
    _refused(run, *refile, bram, "--reason", " ", actor="tech1", code=2, says="reason")
    _refused(run, *refile, bram, "--reason", "x", actor="dr1", code=4, says="Only technicians")
    _refused(run, *refile, cara, "--reason", "x", actor="tech1", code=2, says=f"into {bram}")
    _refused(run, *refile, "MR9999999", "--reason", "x", actor="tech1", code=5, says="MR9999999")
    elsewhere = ("--encounter", ada_visit, "--reason", "x")
    _refused(run, *refile, bram, *elsewhere, actor="tech1", code=2, says="not one of")
    nowhere = ("--encounter", str(UUID(int=9)), "--reason", "x")
    _refused(run, *refile, bram, *nowhere, actor="tech1", code=5, says="no encounter")
    unknown = ("chart", "refile", str(UUID(int=8)), "--to", bram, "--reason", "x")
    _refused(run, *unknown, actor="tech1", code=5, says="no document")
    assert document in _chart(run, ada)


def test_correction_mistakes_are_one_sentence_and_write_nothing(
    clinic: tuple[Chartledger, str],
) -> None:
    run, ada = clinic
    correct = ("patient", "correct")
    _refused(run, *correct, ada, "--reason", "x", actor="tech1", code=2, says="at least one")
    _refused(
        run,
        *correct,
        ada,
        "--born",
        "04/02/61",
        "--reason",
        "x",
        actor="tech1",
        code=2,
        says="not a date of birth",
    )
    _refused(
        run,
        *correct,
        ada,
        "--born",
        "2999-01-01",
        "--reason",
        "x",
        actor="tech1",
        code=2,
        says="not a plausible date",
    )
    _refused(
        run,
        *correct,
        ada,
        "--family",
        "Okafor-Eze",
        "--reason",
        " ",
        actor="tech1",
        code=2,
        says="reason",
    )
    _refused(
        run,
        *correct,
        ada,
        "--family",
        "Eze",
        "--reason",
        "x",
        actor="dr1",
        code=4,
        says="maintain the",
    )
    _refused(
        run,
        *correct,
        "MR9999999",
        "--family",
        "Eze",
        "--reason",
        "x",
        actor="tech1",
        code=5,
        says="MR9999999",
    )
