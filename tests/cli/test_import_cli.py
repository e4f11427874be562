"""`chartledger import fhir`: end to end through click, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.main import cli
from tests.cli.test_cli import Chartledger
from tests.integration.test_fhir_import import SUBSET, resources, subset
from tests.rawdb import RawDB


@pytest.fixture
def ward(store_url: str, tmp_path: Path) -> Chartledger:
    """A ledger with the interface that imports and the default attending physician."""
    run = Chartledger(tmp_path / "home", store_url)
    run("init", "--origin", "import.hospital/ledger", "--no-passphrase")
    run.enrol("fhir-interface", "interface")
    run.enrol("dr.import", "physician")
    return run


def import_fhir(
    run: Chartledger, folder: Path, *, actor: str = "fhir-interface", ok: bool = True
) -> Result:
    return run(
        "import", "fhir", str(folder), "--attending-default", "dr.import", actor=actor, ok=ok
    )


def test_help_names_the_command_and_its_options() -> None:
    runner = CliRunner()
    top = runner.invoke(cli, ["--help"])
    assert top.exit_code == 0 and "import" in top.output
    group = runner.invoke(cli, ["import", "--help"])
    assert group.exit_code == 0 and "fhir" in group.output
    command = runner.invoke(cli, ["import", "fhir", "--help"])
    assert command.exit_code == 0
    for text in ("FOLDER", "--attending-default", "--as", "FHIR R4 bulk export"):
        assert text in command.output


def test_an_export_is_imported_once_and_shows_only_counts_and_mrns(
    ward: Chartledger, tmp_path: Path
) -> None:
    folder = subset(tmp_path / "export")
    first = import_fhir(ward, folder)
    output = first.output
    assert "Imported 2 patients, 30 encounters (and 1 imported-history encounters)" in output
    assert "signed by fhir-interface" in output
    assert "Skipped (types this import does not take): Device 1." in output
    assert "MR0000001 (Patient/" in output and "MR0000002 (Patient/" in output
    assert "Importing: " in output  # the plain counter: the runner is not a terminal
    for resource in resources(folder):
        if resource["resourceType"] == "Patient":
            for name in resource["name"]:
                assert name["family"] not in output
                assert all(given not in output for given in name["given"])

    before = RawDB(ward.store_url).rows()
    again = import_fhir(ward, folder)
    assert "Nothing new to import: no records were written." in again.output
    assert "Already imported before, left as they were:" in again.output
    after = RawDB(ward.store_url).rows()
    assert after[: len(before)] == before  # nothing imported again; the MRNs shown are recorded
    assert [row[3] for row in after[len(before) :]] == ["chartledger/access/record-accessed"]

    chart = ward(
        "chart", "show", "MR0000001", "--purpose", "operations", "--json", actor="dr.import"
    )
    record = json.loads(chart.output)
    assert {e["attending"] for e in record["encounters"]} == {"dr.import"}
    assert {x["author"] for e in record["encounters"] for x in e["entries"]} == {"fhir-interface"}
    ward("verify")


def test_a_malformed_line_exits_with_one_sentence_and_writes_nothing(
    ward: Chartledger, tmp_path: Path
) -> None:
    folder = subset(tmp_path / "export", patients=SUBSET[:1])
    path = folder / "Condition.000.ndjson"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[16] = lines[16][:120]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = RawDB(ward.store_url).rows()
    result = import_fhir(ward, folder, ok=False)
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line.startswith(
        "Error: Condition.000.ndjson line 17 is not a valid FHIR Condition: it is not JSON ("
    )
    assert line.endswith(").")
    assert RawDB(ward.store_url).rows() == before


@pytest.mark.parametrize(
    ("args", "actor", "message", "code"),
    [
        ([], "dr.import", "Only an interface user may import", 4),
        (["--attending-default", "admin"], "fhir-interface", "admin cannot be the attending", 2),
        (["--attending-default"], "fhir-interface", "requires an argument", 2),
    ],
)
def test_who_may_import_and_who_may_attend(
    ward: Chartledger,
    tmp_path: Path,
    args: list[str],
    actor: str,
    message: str,
    code: int,
) -> None:
    folder = subset(tmp_path / "export", patients=SUBSET[:1])
    before = RawDB(ward.store_url).rows()
    command = ["import", "fhir", str(folder), *(args or ["--attending-default", "dr.import"])]
    result = ward(*command, actor=actor, ok=False)
    assert message in result.output
    assert result.exit_code == code
    assert RawDB(ward.store_url).rows() == before


def test_a_missing_folder_is_one_sentence(ward: Chartledger, tmp_path: Path) -> None:
    result = import_fhir(ward, tmp_path / "nowhere", ok=False)
    assert result.output.strip() == f"Error: There is no folder at {tmp_path / 'nowhere'}."
    assert result.exit_code == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    result = import_fhir(ward, empty, ok=False)
    assert result.output.strip() == f"Error: There are no .ndjson files in {empty}."
