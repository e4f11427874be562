"""Build the old-ledger fixture: a small, complete SQLite ledger written by the code of its day.

Run once, from the project root, with the release the fixture stands for checked out:

    .venv/bin/python tests/data/old-ledger/make.py

It replaces `ledger/` (the store `ledger.db`, the administrator's home `home/` made by `init`,
and one home per enrolled person under `homes/<name>/`) and `expected.json` next to this file.
Everything goes through the command line, as people would: users invited and enrolled each in
a home of their own (keys unprotected, `--no-passphrase`: this is a test fixture), three
patients, encounters, entries (one amended, one retracted, one transcribed and signed), a
document, a release of information and its accounting, a location move and a checkpoint.

`expected.json` holds what `chart show --json` (now and `--as-of` one recorded moment),
`audit patient --json` and `roi accounting --json` printed for the first patient. Those reads
are made on a copy, so the fixture's store holds none of them; the trail in `expected.json`
keeps only the rows up to the fixture's own last event (`last_event_at`), because each read
records an access of its own, which a later run records again at its own time.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))

from tests.cli.test_cli import Chartledger  # noqa: E402

MRN = "MR0000001"  # the patient expected.json is about
PLACE = "@FIXTURE@"  # stands, in the homes' settings, for the folder the ledger is unpacked in


def unpack(fixture: Path, folder: Path) -> Path:
    """Copy the fixture's ledger to FOLDER, point its homes' settings there and make it private
    to its owner again (git keeps no modes but the executable bit; key files must be 0600)."""
    shutil.copytree(fixture, folder)
    for config in folder.rglob("chartledger.json"):
        text = config.read_text(encoding="utf-8").replace(PLACE, str(folder))
        config.write_text(text, encoding="utf-8")
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o700 if path.is_dir() else 0o600)
    return folder


def _last(output: str) -> str:
    return output.split()[-1]


def _id_after(output: str, marker: str) -> str:
    return output.split(marker, 1)[1].split()[0]


def build(folder: Path) -> dict[str, str]:
    """Write the ledger into FOLDER (home/, homes/, ledger.db); returns moments worth keeping."""
    run = Chartledger(folder / "home", f"sqlite:///{folder / 'ledger.db'}")
    run("init", "--admin", "admin", "--origin", "oldledger.example/ledger", "--no-passphrase")
    run.enrol("tech1", "technician")
    run.enrol("dr1", "physician")
    run.enrol("dr2", "physician")
    run.enrol("roi1", "roi-specialist")
    run.enrol("privacy1", "compliance-officer")
    run.invite("coder1", "coder")  # invited, never enrolled

    for given, family, born, sex in (
        ("Ada", "Okafor", "1961-04-02", "female"),
        ("Bo", "Nakamura", "1978-09-30", "male"),
        ("Cleo", "Varga", "1990-01-15", "female"),
    ):
        run(
            "patient", "register", "--given", given, "--family", family, "--born", born,
            "--sex", sex, actor="tech1",
        )  # fmt: skip

    admitted = run(
        "encounter", "admit", MRN, "--attending", "dr1", "--service", "medicine",
        "--bed", "4W-12", actor="tech1",
    ).output  # fmt: skip
    encounter = _id_after(admitted, "encounter ")
    wrong = _last(
        run(
            "chart", "add", encounter, "--kind", "diagnosis", "--text", "meant for another patient",
            actor="dr1",
        ).output
    )  # fmt: skip
    run("chart", "retract", wrong, "--reason", "wrong patient", actor="dr1")
    diagnosis = _last(
        run(
            "chart", "add", encounter, "--kind", "diagnosis", "--text", "essential hypertension",
            "--field", "code=I10", actor="dr1",
        ).output
    )  # fmt: skip
    run("chart", "sign", diagnosis, actor="dr1")
    transcribed = _last(
        run(
            "chart", "add", encounter, "--kind", "progress-note", "--text", "walked the ward",
            "--author", "dr1", actor="tech1",
        ).output
    )  # fmt: skip
    run("chart", "sign", transcribed, actor="dr1")
    time.sleep(0.01)
    before_amendment = datetime.now(UTC).isoformat(timespec="microseconds")
    time.sleep(0.01)
    run(
        "chart", "amend", diagnosis, "--text", "secondary hypertension", "--field", "code=I15.9",
        "--reason", "renal artery stenosis", "--requested-by", "dr1", actor="dr2",
    )  # fmt: skip

    with tempfile.TemporaryDirectory() as scratch:
        scan = Path(scratch) / "discharge.txt"
        scan.write_text("Discharge summary: recovered well.\n", encoding="utf-8")
        run(
            "chart", "file", MRN, str(scan), "--kind", "discharge-summary",
            "--encounter", encounter, actor="tech1",
        )  # fmt: skip
        run("encounter", "discharge", encounter, "--disposition", "home", actor="tech1")

        requested = run(
            "roi", "request", MRN, "--requester-kind", "attorney", "--requester",
            "Lund & Berg LLP", "--address", "4 Court St, Wichita", "--asks", "all records",
            "--purpose", "legal", "--section", "documents", actor="roi1",
        ).output  # fmt: skip
        request = _id_after(requested, "release request ")
        run("roi", "validate", request, "--basis", "subpoena", "--notice-to-patient", actor="roi1")
        run("roi", "approve", request, actor="roi1")
        run(
            "roi", "release", request, "--method", "mail", "--fee", "25.00",
            "--out", str(Path(scratch) / "release"), actor="roi1",
        )  # fmt: skip

    asked = run(
        "roi", "request", MRN, "--requester-kind", "patient", "--requester", "Ada Okafor",
        "--asks", "my records", "--purpose", "patient-request", actor="roi1",
    ).output  # fmt: skip
    run("roi", "extend", _id_after(asked, "release request "), "--reason", "records off site",
        actor="roi1")  # fmt: skip
    refused = run(
        "roi", "request", MRN, "--requester-kind", "insurer", "--requester", "Acme Health",
        "--asks", "everything", "--purpose", "payment", actor="roi1",
    ).output  # fmt: skip
    run(
        "roi", "deny", _id_after(refused, "release request "), "--reason", "no authorization",
        "--exception", "privacy", actor="roi1",
    )  # fmt: skip

    other = run(
        "encounter", "register", "MR0000002", "--attending", "dr2", "--service", "emergency",
        actor="tech1",
    ).output  # fmt: skip
    run(
        "chart", "add", _id_after(other, "encounter "), "--kind", "presenting-symptoms",
        "--text", "chest pain", actor="dr2",
    )  # fmt: skip

    run(
        "location", "add", MRN, "--barcode", "V-0001", "--home-location", "File room B",
        actor="tech1",
    )  # fmt: skip
    run(
        "location", "checkout", "V-0001", "--to", "Cardiology clinic", "--kind", "clinic",
        "--due", "2027-06-03T17:00:00+00:00", actor="tech1",
    )  # fmt: skip
    run(
        "location", "route", MRN, "--to", "dr1", "--kind", "physician", "--purpose", "treatment",
        "--due", "2027-06-01T17:00:00+00:00", actor="tech1",
    )  # fmt: skip
    run("checkpoint")
    return {"before_amendment": before_amendment}


def main() -> None:
    target = HERE / "ledger"
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "ledger"
        moments = build(folder)
        for config in folder.rglob("chartledger.json"):  # homes name their paths absolutely
            text = config.read_text(encoding="utf-8").replace(str(folder), PLACE)
            config.write_text(text, encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(folder, target)
    # the reads, on a copy: the fixture keeps none of the accesses they record
    with tempfile.TemporaryDirectory() as scratch:
        expected = read_back(unpack(target, Path(scratch) / "ledger"), moments)
    (HERE / "expected.json").write_text(
        json.dumps(expected, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


VERIFIED = (  # what `verify --json` says that stays the same from run to run
    "ok", "events", "aggregates", "signatures", "checkpoints", "tree_size", "root", "genesis",
    "documents", "documents_checked", "chart_index",
)  # fmt: skip


def read_back(folder: Path, moments: dict[str, str]) -> dict[str, object]:
    """What the reads print, in the order the test makes them: `verify` first, while the
    store holds only the fixture's own events, then the reads that record accesses."""
    run = Chartledger(folder / "home", f"sqlite:///{folder / 'ledger.db'}")
    verified = json.loads(run("verify", "--json").output)
    show = ("chart", "show", MRN, "--purpose", "treatment", "--json")
    chart = json.loads(run(*show, actor="dr1").output)
    as_of = json.loads(run(*show, "--as-of", moments["before_amendment"], actor="dr1").output)
    trail = json.loads(run("audit", "patient", MRN, "--json", actor="privacy1").output)
    accounting_on = date.today().isoformat()
    accounting = run("roi", "accounting", MRN, "--on", accounting_on, "--json", actor="roi1")
    return {
        "mrn": MRN,
        "made_with": "chartledger main before issue 11's refactor (see README.md)",
        "verify": {name: verified[name] for name in VERIFIED},
        "last_position": verified["tree_size"],
        "as_of": moments["before_amendment"],
        "accounting_on": accounting_on,
        "chart_show": chart,
        "chart_show_as_of": as_of,
        "audit_patient": [row for row in trail if row["position"] <= verified["tree_size"]],
        "roi_accounting": json.loads(accounting.output),
    }


if __name__ == "__main__":
    main()
