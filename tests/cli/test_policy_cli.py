"""`chartledger policy show|load|history` and the policy at work through the CLI, every store."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli import Chartledger

POLICY = """version = "clinic.2"
[patients]
vip = ["MR0000001"]
"""


def test_load_show_and_history(clinic: tuple[Chartledger, str], tmp_path: Path) -> None:
    run, mrn = clinic
    run.enrol("privacy1", "compliance-officer")
    assert "built-in defaults" in run("policy", "show", actor="privacy1").output
    path = tmp_path / "policy.toml"
    path.write_text(POLICY)
    loaded = run("policy", "load", str(path), actor="privacy1")
    assert "Loaded access policy access/2+clinic.2" in loaded.output
    again = run("policy", "load", str(path), actor="privacy1")
    assert "already in force; nothing was written" in again.output
    shown = run("policy", "show", actor="privacy1").output
    assert "loaded by privacy1" in shown and 'vip = ["MR0000001"]' in shown
    assert "clinic.2" in run("policy", "history", actor="privacy1").output
    # The VIP's chart is shown, and the access is flagged with the policy version.
    run("patient", "show", mrn, "--purpose", "operations", actor="tech1")
    trail = run("audit", "patient", mrn, "--json", actor="privacy1").output
    assert "access/2+clinic.2" in trail and "flagged for review: a VIP record" in trail


def test_bad_policies_and_wrong_people_are_refused(
    clinic: tuple[Chartledger, str], tmp_path: Path
) -> None:
    run, _ = clinic
    run.enrol("privacy1", "compliance-officer")
    bad = tmp_path / "bad.toml"
    bad.write_text("[roles]\nwizard = ['treatment']\n")
    refused = run("policy", "load", str(bad), actor="privacy1", ok=False)
    assert refused.exit_code == 2 and "unknown role 'wizard'" in refused.output
    missing = run("policy", "load", str(tmp_path / "none.toml"), actor="privacy1", ok=False)
    assert "no readable policy file" in missing.output
    good = tmp_path / "good.toml"
    good.write_text(POLICY)
    assert run("policy", "load", str(good), actor="dr1", ok=False).exit_code == 4
    assert "built-in defaults" in run("policy", "show", actor="privacy1").output


def test_minimum_necessary_cuts_the_chart_to_the_purpose(clinic: tuple[Chartledger, str]) -> None:
    run, mrn = clinic
    opened = run(
        "encounter", "admit", mrn, "--attending", "dr1", "--service", "medicine", actor="tech1"
    )
    encounter = opened.output.split("encounter ")[1].split()[0]
    for kind, text in (("diagnosis", "Type 2 diabetes"), ("medication", "Metformin 500 mg")):
        run("chart", "add", encounter, "--kind", kind, "--text", text, actor="dr1")
    full = run("chart", "show", mrn, "--purpose", "treatment", actor="dr1").output
    assert "Type 2 diabetes" in full and "Metformin" in full and "Withheld" not in full
    billed = run("chart", "show", mrn, "--purpose", "payment", actor="coder1").output
    assert "Type 2 diabetes" in billed and "Metformin" not in billed
    assert "Withheld (minimum necessary for payment):" in billed and "medication" in billed
