"""Nothing shown unrecorded (issue 10, item 5), on every store.

Every leaf command of the CLI's own tree is in `COMMANDS`: either with an invocation that shows
or writes patient identifiers on the prepared ledger, or with the reason it shows none. A new
command missing from the table fails `test_every_command_is_in_the_table`. Each identifying
command is run once as it is (it must show an MRN, or write its files), then again with the
database refusing access events (and export records): it must end with a non-zero exit code
and one sentence, show no MRN or name, write no file and leave the store as it was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest

from cli.main import cli
from tests.cli.test_cli import Chartledger
from tests.cli.tree import subcommands
from tests.rawdb import RawDB

ADA = "MR0000001"
NAMES = ("Okafor", "Quist", "Lena")
FHIR_PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "name": [{"family": "Quist", "given": ["Lena"]}],
    "birthDate": "1970-01-01",
    "gender": "female",
}
POLICY = f"""version = "walk.1"
[patients]
vip = ["{ADA}"]
"""


@dataclass(frozen=True)
class Shows:
    """An identifying command: its arguments (placeholders filled per phase) and who runs it."""

    args: tuple[str, ...]
    actor: str
    writes: str | None = None
    """The placeholder of the file or folder it writes, if it writes one."""
    shown: bool = True
    """Whether the prepared ledger makes it show an MRN (else it records an empty list)."""
    succeeds: bool = True
    """Whether it ends well when nothing is refused (a registration refused for a likely match
    shows the match, then says why it stopped)."""


def _reason(text: str) -> str:
    return text


WRITE = _reason("a write: prints its own references and the identifiers it was given; its signed "
                "event is the record (the audit trail shows it)")  # fmt: skip
NO_PATIENT = _reason("shows no patient identifier (keys, users, counts, hashes or versions)")

COMMANDS: dict[str, Shows | str] = {
    "audit alerts": Shows(("audit", "alerts"), "privacy1"),
    "audit between": Shows(
        ("audit", "between", "2000-01-01T00:00", "2999-01-01T00:00"), "privacy1"
    ),
    "audit patient": Shows(("audit", "patient", ADA), "privacy1"),
    "audit review": _reason("records a finding on an access event; prints the event id only"),
    "audit user": Shows(("audit", "user", "tech1"), "privacy1"),
    "chart add": WRITE,
    "chart amend": WRITE,
    "chart deny-amendment": WRITE,
    "chart document": Shows(
        ("chart", "document", "{document}", "--out", "{doc}", "--purpose", "operations"),
        "tech1",
        writes="{doc}",
    ),
    "chart file": WRITE,
    "chart history": Shows(("chart", "history", ADA, "--purpose", "operations"), "tech1"),
    "chart refile": _reason(
        "a write that names the chart a document leaves: its signed event names both charts "
        "and the audit trail shows the move on both"
    ),
    "chart retract": WRITE,
    "chart show": Shows(("chart", "show", ADA, "--purpose", "operations"), "tech1"),
    "chart sign": WRITE,
    "checkpoint": NO_PATIENT,
    "code dx": WRITE,
    "code dx-change": WRITE,
    "code dx-remove": WRITE,
    "code final": WRITE,
    "code group-all": NO_PATIENT,
    "code group": _reason(
        "a write: prints the grouping it recorded for the encounter it was given; the Grouped "
        "event is the record (the audit trail shows it)"
    ),
    "code px": WRITE,
    "code px-change": WRITE,
    "code px-remove": WRITE,
    "code regroup": Shows(("code", "regroup", "{encounter}", "--purpose", "operations"), "coder1"),
    "code reopen": WRITE,
    "code show": Shows(("code", "show", "{encounter}", "--purpose", "operations"), "coder1"),
    "code status": WRITE,
    "code suggest": Shows(("code", "suggest", "{encounter}", "--purpose", "operations"), "coder1"),
    "code productivity": _reason(
        "coders, days, counts of stays signed final and mean relative weights: no MRN, no "
        "encounter and no patient whose trail it would belong to, so it records no access"
    ),
    "code what-if": Shows(
        ("code", "what-if", "{encounter}", "--principal", "J18.9", "--purpose", "operations"),
        "coder1",
    ),
    "code worklist": Shows(("code", "worklist", "--purpose", "operations"), "coder1"),
    "deficiency delinquent": Shows(("deficiency", "delinquent"), "him1", shown=False),
    "deficiency jeopardy": Shows(("deficiency", "jeopardy"), "him1", shown=False),
    "deficiency list": Shows(("deficiency", "list"), "him1"),
    "deficiency notify": _reason("a write: prints counts of deficiencies and encounters"),
    "deficiency resolve": WRITE,
    "deficiency scan": _reason("a write: prints counts only"),
    "demo": _reason("builds a ledger of its own, of fictional patients, in a new folder"),
    "discrepancy list": Shows(("discrepancy", "list"), "tech1"),
    "discrepancy open": WRITE,
    "discrepancy resolve": WRITE,
    "encounter admit": WRITE,
    "encounter discharge": WRITE,
    "encounter register": WRITE,
    "encounter transfer": WRITE,
    "export": Shows(("export", "{export}", "--purpose", "outside audit"), "admin", "{export}"),
    "import fhir": Shows(("import", "fhir", "{fhir}", "--attending-default", "dr1"), "fhir"),
    "index disease": Shows(("index", "disease", "--purpose", "operations"), "him1"),
    "index operation": Shows(("index", "operation", "--purpose", "operations"), "coder1"),
    "index physician": Shows(("index", "physician", "--purpose", "operations"), "him1"),
    "init": NO_PATIENT,
    "legal package": Shows(
        ("legal", "package", ADA, "--as-of", "{now}", "--out", "{legal}", "--purpose", "legal"),
        "roi1",
        writes="{legal}",
    ),
    "location add": WRITE,
    "location checkin": WRITE,
    "location checkout": WRITE,
    "location found": WRITE,
    "location loose": WRITE,
    "location lost": WRITE,
    "location missing": Shows(("location", "missing"), "tech1"),
    "location overdue": Shows(("location", "overdue"), "tech1", shown=False),
    "location pending": Shows(("location", "pending"), "tech1"),
    "location request": WRITE,
    "location route": WRITE,
    "location transfer": WRITE,
    "location where": Shows(("location", "where", ADA), "tech1"),
    "log follow": NO_PATIENT,
    "log status": NO_PATIENT,
    "patient correct": WRITE,
    "patient duplicates": Shows(("patient", "duplicates", "--purpose", "operations"), "tech1"),
    "patient find": Shows(("patient", "find", "Okafor", "--purpose", "operations"), "tech1"),
    "patient merge": WRITE,
    "patient register": Shows(
        ("patient", "register", "--given", "Ada", "--family", "Okafor", "--born", "1961-04-02"),
        "tech1",
        succeeds=False,
    ),
    "patient show": Shows(("patient", "show", ADA, "--purpose", "operations"), "tech1"),
    "patient unmerge": WRITE,
    "policy history": _reason("versions, who loaded them, hashes and events: no MRN"),
    "policy load": _reason("a write: prints the version and the file loaded"),
    "policy show": Shows(("policy", "show"), "privacy1"),
    "prove": NO_PATIENT,
    "query answer": WRITE,
    "query escalate": _reason("a write: prints query ids, physicians and dates, no MRN"),
    "query list": Shows(("query", "list", "--purpose", "operations"), "him1"),
    "query raise": WRITE,
    "query send": WRITE,
    "query show": Shows(("query", "show", "{query}", "--purpose", "operations"), "him1"),
    "query withdraw": WRITE,
    "roi accounting": Shows(("roi", "accounting", ADA), "roi1"),
    "roi approve": WRITE,
    "roi deny": WRITE,
    "roi extend": WRITE,
    "roi list": Shows(("roi", "list"), "roi1"),
    "roi release": Shows(
        ("roi", "release", "{request}", "--method", "mail", "--out", "{release}"),
        "roi1",
        writes="{release}",
    ),
    "roi request": WRITE,
    "roi suspend": WRITE,
    "roi validate": WRITE,
    "user enroll": NO_PATIENT,
    "stats census": _reason(
        "aggregate figures only (per-day counts, service days, bed count days, rates): no MRN, "
        "no encounter and no patient whose trail it would belong to, so it records no access"
    ),
    "stats changes": _reason(
        "counts of stays changed by kind and the period's figures at two moments: no MRN, no "
        "encounter and no patient whose trail it would belong to, so it records no access"
    ),
    "stats patients": Shows(
        (
            "stats",
            "patients",
            "discharges",
            "--from",
            "{today}",
            "--to",
            "{today}",
            "--purpose",
            "operations",
        ),
        "him1",
    ),
    "stats casemix": _reason(
        "aggregate figures only (counts, DRG weights, days, CMI, O/E; groups are services, "
        "attending user names or DRGs): no MRN, no encounter, no patient, so no access"
    ),
    "stats deaths": _reason(
        "aggregate figures only (discharges, deaths, rates per service or attending user "
        "name): no MRN, no encounter, no patient, so no access"
    ),
    "stats diagnoses": _reason(
        "aggregate figures only (codes, titles, counts of discharges): no MRN, no encounter, "
        "no patient, so no access"
    ),
    "stats los": _reason(
        "aggregate figures only (discharges, discharge days, ALOS per service, attending user "
        "name or unit): no MRN, no encounter, no patient, so no access"
    ),
    "stats procedures": _reason(
        "aggregate figures only (codes, titles, counts of procedures): no MRN, no encounter, "
        "no patient, so no access"
    ),
    "stats readmissions": _reason(
        "aggregate figures only (index discharges, readmitted, rates, exclusion counts per "
        "diagnosis group or service): no MRN, no encounter, no patient, so no access"
    ),
    "stats trends": _reason(
        "aggregate figures only (one row of rates per month): no MRN, no encounter, no "
        "patient, so no access"
    ),
    "stats plot census": _reason(
        "writes a picture of aggregate figures (the daily census and the beds): no MRN, no "
        "encounter, no name, so it records no access"
    ),
    "stats plot trends": _reason(
        "writes a picture of monthly aggregate figures (ALOS, rates, CMI, O/E): no MRN, no "
        "encounter, no name, so it records no access"
    ),
    "stats report": _reason(
        "writes a page of aggregate figures (census, beds, rates): no MRN, no encounter, no "
        "name, so no access; the issue itself is recorded, signed (IssuedReport.Issued)"
    ),
    "stats reports": _reason(
        "lists issued reports: when, by whom (staff), to whom, the period and the hash; no patient"
    ),
    "stats verify-report": _reason(
        "one sentence naming an issued report's period, recipient and issuer; no patient"
    ),
    "unit beds": _reason("a write: prints a unit code, its counts and a day, no patient"),
    "unit close": _reason("a write: prints a unit code and a day, no patient"),
    "unit list": NO_PATIENT,
    "unit open": _reason("a write: prints a unit code, its name, counts and a day, no patient"),
    "unit show": NO_PATIENT,
    "upgrade": _reason("creates missing tables and says which schema version the store is at"),
    "user invite": NO_PATIENT,
    "user list": NO_PATIENT,
    "user reinstate": NO_PATIENT,
    "user revoke": NO_PATIENT,
    "user roles": NO_PATIENT,
    "user rotate-key": NO_PATIENT,
    "verify": NO_PATIENT,
}


def leaf_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[str]:
    """Every command of the tree that is not a group, as its words."""
    found = []
    for name, command in subcommands(group):
        if isinstance(command, click.Group):
            found += leaf_commands(command, (*prefix, name))
        else:
            found.append(" ".join((*prefix, name)))
    return found


def test_every_command_is_in_the_table() -> None:
    leaves = leaf_commands(cli)
    missing = [c for c in leaves if c not in COMMANDS]
    assert not missing, (
        f"add these commands to COMMANDS (what they show, or why nothing): {missing}"
    )
    assert sorted(COMMANDS) == sorted(leaves), "COMMANDS names a command the CLI no longer has"
    for name, row in COMMANDS.items():
        if isinstance(row, Shows):
            assert " ".join(row.args).startswith(name), name
        else:
            assert row.strip(), name


def _request(run: Chartledger) -> str:
    out = run(
        "roi", "request", ADA, "--requester-kind", "patient", "--requester", "the patient",
        "--asks", "my chart", "--purpose", "patient-request", actor="roi1",
    ).output  # fmt: skip
    request = out.split("release request ")[1].split()[0]
    run("roi", "validate", request, "--basis", "patient-access", actor="roi1")
    run("roi", "approve", request, actor="roi1")
    return request


def prepared(run: Chartledger, tmp_path: Path) -> dict[str, list[str]]:
    """A ledger where each identifying command has something to show; per-phase placeholders."""
    run("init", "--no-passphrase")
    for name, role in (
        ("tech1", "technician"),
        ("dr1", "physician"),
        ("privacy1", "compliance-officer"),
        ("roi1", "roi-specialist"),
        ("him1", "him-director"),
        ("fhir", "interface"),
        ("coder1", "coder"),
    ):
        run.enrol(name, role)
    run("patient", "register", "--given", "Ada", "--family", "Okafor", "--born", "1961-04-02",
        actor="tech1")  # fmt: skip
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    run("policy", "load", str(policy), actor="privacy1")
    opened = run("encounter", "admit", ADA, "--attending", "dr1", "--service", "medicine",
                 actor="tech1").output  # fmt: skip
    encounter = opened.split("encounter ")[1].split()[0]
    entry = run("chart", "add", encounter, "--kind", "progress-note", "--text", "Comfortable",
                actor="dr1").output.split()[-1]  # fmt: skip
    raised = run("query", "raise", encounter, "--physician", "dr1", "--indicator", entry,
                 "--question", "What condition does the note support?", "--option", "Anxiety",
                 "--option", "Delirium", "--option", "Other", "--option",
                 "Clinically undetermined", actor="him1").output  # fmt: skip
    query = raised.split("Raised query ")[1].split()[0]
    run("code", "dx", encounter, "I50.21", "--poa", "Y", "--principal", actor="coder1")
    run("code", "dx", encounter, "N17.9", "--poa", "Y", actor="coder1")
    run("code", "group", encounter, actor="coder1")
    scan = tmp_path / "consent.txt"
    scan.write_text("Consent to treatment, signed.\n")
    filed = run("chart", "file", ADA, str(scan), "--kind", "consent", actor="tech1").output
    document = filed.split("as document ")[1].split()[0]
    run("location", "add", ADA, "--barcode", "V0001", actor="tech1")
    run("location", "request", "V0001", "--requestor", "clinic 3", "--needed-by", "2999-01-01",
        "--purpose", "treatment", actor="tech1")  # fmt: skip
    run("discrepancy", "open", ADA, "--kind", "other", "--description", "two birth dates",
        "--fact", f"{encounter}/1", actor="tech1")  # fmt: skip
    run("location", "add", ADA, "--barcode", "V0002", "--volume", "2", actor="tech1")
    run("location", "lost", "V0002", "--note", "last seen in radiology", actor="tech1")
    run("patient", "register", "--given", "Ada", "--family", "Okafor", "--born", "1961-04-02",
        "--new-despite-match", "a twin sister", actor="tech1")  # fmt: skip
    # The twin's stay, discharged and coded final: the worklist's and the indexes' rows.
    twin = run("encounter", "admit", "MR0000002", "--attending", "dr1", "--service", "surgery",
               actor="tech1").output.split("encounter ")[1].split()[0]  # fmt: skip
    run("encounter", "discharge", twin, "--disposition", "home", actor="tech1")
    run("code", "dx", twin, "K35.80", "--poa", "Y", "--principal", actor="coder1")
    run("code", "px", twin, "0DTJ4ZZ", "--on", datetime.now(UTC).date().isoformat(),
        "--surgeon", "dr1", actor="coder1")  # fmt: skip
    run("code", "group", twin, actor="coder1")
    run("code", "final", twin, actor="coder1")
    twin2 = run("encounter", "admit", "MR0000002", "--attending", "dr1", "--service", "surgery",
                actor="tech1").output.split("encounter ")[1].split()[0]  # fmt: skip
    run("encounter", "discharge", twin2, "--disposition", "home", actor="tech1")
    run("deficiency", "scan", actor="him1")
    run("patient", "show", ADA, "--purpose", "operations", actor="tech1")  # a VIP: an alert
    fhir = tmp_path / "fhir"
    fhir.mkdir()
    (fhir / "Patient.ndjson").write_text(json.dumps(FHIR_PATIENT) + "\n")
    places = {}
    for phase in ("a", "b"):
        places[phase] = {
            "{document}": document,
            "{query}": query,
            "{encounter}": encounter,
            "{request}": _request(run),
            "{fhir}": str(fhir),
            "{now}": datetime.now(UTC).isoformat(),
            "{today}": datetime.now(UTC).date().isoformat(),
            "{doc}": str(tmp_path / f"document-{phase}.txt"),
            "{export}": str(tmp_path / f"export-{phase}"),
            "{legal}": str(tmp_path / f"legal-{phase}"),
            "{release}": str(tmp_path / f"release-{phase}"),
        }
    return {p: [f"{k}={v}" for k, v in d.items()] for p, d in places.items()}


def _fill(args: tuple[str, ...], places: list[str]) -> list[str]:
    table = dict(p.split("=", 1) for p in places)
    return [table.get(a, a) for a in args]


def _written(path: str) -> bool:
    target = Path(path)
    return target.exists() or any(target.parent.glob(f".{target.name}*"))


@pytest.fixture
def run(store_url: str, tmp_path: Path) -> Chartledger:
    return Chartledger(tmp_path / "home", store_url)


def test_every_identifying_command_records_first_and_shows_nothing_if_it_cannot(
    run: Chartledger, tmp_path: Path
) -> None:
    places = prepared(run, tmp_path)
    identifying = {n: r for n, r in COMMANDS.items() if isinstance(r, Shows)}
    for name, row in identifying.items():  # as it is: each shows (or writes) identifiers
        result = run(*_fill(row.args, places["a"]), actor=row.actor, ok=row.succeeds)
        if row.writes:
            assert Path(_fill((row.writes,), places["a"])[0]).exists(), name
        elif row.shown:
            assert "MR00000" in result.output, f"{name} showed no MRN:\n{result.output}"
    raw = RawDB(run.store_url)
    before = raw.rows()
    raw.refuse_inserts("chartledger/access/", "chartledger/export/")
    for name, row in identifying.items():  # access recording refused: nothing shown or written
        result = run(*_fill(row.args, places["b"]), actor=row.actor, ok=False)
        text = result.output
        assert "MR00000" not in text and not any(n in text for n in NAMES), f"{name}:\n{text}"
        # One sentence (an import's plain progress counter may come before it).
        lines = [line for line in text.splitlines() if not line.startswith("Importing: ")]
        assert lines == [lines[0]] and lines[0].startswith("Error: "), f"{name}:\n{text}"
        assert "refused the write" in lines[0], f"{name}:\n{text}"
        assert result.exit_code == 3, name
        if row.writes:
            assert not _written(_fill((row.writes,), places["b"])[0]), name
    assert raw.rows() == before
