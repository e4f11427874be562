"""`chartledger demo`: a small hospital's ledger at work, start to finish, on SQLite."""

from __future__ import annotations

import io
import itertools
import json
import re
import shlex
import shutil
import sqlite3
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ledger.home import LedgerHome

STAFF = [
    ("him.director", ["him-director"]),
    ("tech.alvarez", ["technician"]),
    ("tech.okafor", ["technician"]),
    ("coder.lindqvist", ["coder"]),
    ("roi.nakamura", ["roi-specialist"]),
    ("compliance.reyes", ["compliance-officer"]),
    ("fhir-interface", ["interface"]),
]
FALLBACK_PHYSICIANS = ["dr.amara.osei", "dr.lukas.brandt", "dr.mei.chen"]


def _physicians(data: Path) -> list[str]:
    """Physician user names from the export's first three practitioners, when it has any."""
    path = data / "Practitioner.000.ndjson"
    if not path.is_file():
        return FALLBACK_PHYSICIANS
    names = []
    for line in path.read_text(encoding="utf-8").splitlines()[:3]:
        name = json.loads(line)["name"][0]
        given = "".join(ch for ch in name["given"][0].lower() if ch.isalpha())
        family = "".join(ch for ch in name["family"].lower() if ch.isalpha())
        names.append(f"dr.{given}.{family}")
    return names or FALLBACK_PHYSICIANS


SAMPLE = Path(__file__).resolve().parent / "demo_data" / "synthea"
"""The trimmed Synthea sample installed with the package (see its README)."""


def _synthea_patient(data: Path) -> tuple[str, str, str] | None:
    """Given name, family name and birth date of the first living woman in the sample."""
    path = data / "Patient.000.ndjson"
    if not path.is_file():
        return None
    for line in path.read_text(encoding="utf-8").splitlines():
        resource = json.loads(line)
        if resource.get("gender") != "female" or resource.get("deceasedDateTime"):
            continue
        name = resource["name"][0]
        # Synthea makes names unique with digits ("Yvone889"); the front desk types letters.
        given, family = (_letters(n) for n in (name["given"][0], name["family"]))
        return given, family, resource["birthDate"]
    return None


def _letters(name: str) -> str:
    return "".join(ch for ch in name if ch.isalpha() or ch in " -'")


def _misspell(name: str) -> str:
    """The name as someone might mistype it: a doubled letter typed once, else two swapped."""
    for i in range(1, len(name)):
        if name[i] == name[i - 1]:
            return name[:i] + name[i + 1 :]
    if len(name) < 4:
        return name
    return name[0] + name[2] + name[1] + name[3:]


_STEPS = itertools.count(1)


def _step(title: str, command: str = "") -> None:
    click.echo()
    click.secho(f"{next(_STEPS)}. {title}", bold=True)
    if command:
        click.secho(f"   $ {command}", fg="cyan")


q = shlex.quote

_PROGRESS = re.compile(r"Importing: [\d,]+/[\d,]+ resources")


class _Runner:
    """Runs a real `chartledger` command in this process and shows what it printed, indented."""

    MAX_LINES = 14

    def __init__(self, home: LedgerHome, homes: Path) -> None:
        self.db = f"sqlite:///{home.path / 'ledger.db'}"
        self.admin_home = home.path
        self.homes = homes

    def home_of(self, actor: str) -> Path:
        """Each person works in their own home; the administrator in the one `init` made."""
        return self.admin_home if actor == "admin" else self.homes / actor

    def __call__(
        self, actor: str, command: str, *, quiet: bool = False, show: int = MAX_LINES
    ) -> str:
        """Run `chartledger COMMAND --as ACTOR`; return what it printed (showing `show` lines)."""
        from cli.main import cli

        args = shlex.split(command)
        if not quiet:
            click.secho(f"   $ chartledger {command} --as {actor}", fg="cyan")
        buffer = io.StringIO()
        code = 0
        with redirect_stdout(buffer), redirect_stderr(buffer):
            try:
                cli.main(
                    ["--home", str(self.home_of(actor)), "--db", self.db, "--as", actor, *args],
                    prog_name="chartledger",
                    standalone_mode=False,
                )
            except click.ClickException as failure:
                failure.show()
                code = failure.exit_code
        output = buffer.getvalue()
        if not quiet:
            shown = show
            lines = output.rstrip("\n").split("\n")
            progress = [line for line in lines if _PROGRESS.fullmatch(line)]
            lines = [line for line in lines if line not in progress[:-1]]
            for line in lines[:shown]:
                click.echo(f"   {line}")
            if len(lines) > shown:
                click.echo(f"   … ({len(lines) - shown} more lines)")
            if code:
                click.echo(f"   (exit code {code})")
        return output


def _register_and_admit(run: _Runner, demographics: str, admission: str) -> tuple[str, str]:
    """Register a patient and admit them, as the front desk does; returns (MRN, encounter)."""
    registered = run("tech.alvarez", f"patient register {demographics}")
    mrn = re.findall(r"Registered (\S+)", registered)[0].rstrip(".")
    admitted = run("tech.alvarez", f"encounter admit {mrn} {admission}")
    return mrn, re.findall(r"encounter (\S+)", admitted)[0]


def _records_department(run: _Runner, root: Path, *, mrn: str, attending: str, surgeon: str) -> str:
    """Chart locations and chart completion: a checked-out and an overdue chart, the electronic
    record routed, a delinquent record and a physician in jeopardy. Returns the surgical stay."""
    now = datetime.now(UTC)

    def at(**delta: float) -> str:
        return (now + timedelta(**delta)).isoformat(timespec="seconds")

    _step("The records department goes live on chart completion: the rules are signed policy")
    went_live = (now - timedelta(days=90)).date().isoformat()
    policy = root / "access-policy.toml"
    policy.write_text(
        'version = "stmarys-1"\n\n[completion]  # deficiency rules (defaults: the Medicare CoP)\n'
        f"tracking_starts = {went_live}  # migrated history is not re-analysed\n"
    )
    run("compliance.reyes", f"policy load {q(str(policy))}")

    _step("The file room checks a paper volume out to a clinic; a week later it is overdue")
    run("tech.alvarez", f"location add {mrn} --barcode V-100231 --home-location 'File room A'")
    run(
        "tech.alvarez",
        f"location checkout V-100231 --to 'Pulmonary clinic' --kind clinic --due {at(days=3)}",
    )
    run("tech.alvarez", f"location overdue --on {at(days=7)}")

    _step("The electronic record goes to the attending; to a coder, for treatment, it is refused")
    run(
        "tech.alvarez",
        f"location route {mrn} --to {attending} --kind physician --purpose treatment "
        f"--due {at(days=1)}",
    )
    run(
        "tech.alvarez",
        f"location route {mrn} --to coder.lindqvist --kind person --purpose treatment "
        f"--due {at(days=1)}",
    )
    run("tech.alvarez", f"location where {mrn}")

    _step("A month ago: an appendectomy, discharged, and the record never completed")
    surgical, stay = _register_and_admit(
        run,
        "--given Marguerite --family Dubois --born 1949-06-30 --sex female",
        f"--attending {surgeon} --service surgery --at {at(days=-36)}",
    )
    run(
        surgeon,
        f"chart add {stay} --kind procedure --text 'Laparoscopic appendectomy' "
        f"--field code=0DTJ4ZZ --effective {at(days=-35)}",
    )
    run(
        "tech.alvarez",
        f"encounter discharge {stay} --disposition home --at {at(days=-30, hours=-6)}",
    )

    _step("The nightly scan assigns each deficiency to a physician, who is then notified")
    run("tech.alvarez", "deficiency scan")
    run("tech.alvarez", f"deficiency notify --physician {surgeon} --method letter")
    run("tech.alvarez", f"deficiency list --physician {surgeon}")

    _step("A delinquent record, and the physician in jeopardy of losing admitting privileges")
    run("him.director", "deficiency delinquent")
    run("him.director", "deficiency jeopardy")

    _step("The operative report was filed to the wrong chart: a discrepancy, moved by events")
    report = root / "operative-report.txt"
    report.write_text("Operative report: laparoscopic appendectomy, uncomplicated.\n")
    filed = run(
        "tech.alvarez",
        f"chart file {mrn} {q(str(report))} --kind operative-report",
    )
    document = filed.split(" as document ")[1].split()[0].rstrip(".")
    opened = run(
        "coder.lindqvist",
        f"discrepancy open {mrn} --kind misfiled-document "
        f"--description 'operative report of another patient' --fact {document}/1",
    )
    discrepancy = opened.split("Opened discrepancy ")[1].split()[0]
    moved = run(
        "tech.alvarez",
        f"chart refile {document} --to {surgical} --encounter {stay} "
        "--reason 'filed to the wrong patient'",
    )
    refiled = moved.split("(event ")[1].split(")")[0]
    run(
        "tech.alvarez",
        f"discrepancy resolve {discrepancy} --analysis 'the report names the other patient' "
        f"--correcting {refiled}",
    )
    run("tech.alvarez", "deficiency scan")
    return stay


def _coding_department(run: _Runner, *, stay: str, surgeon: str) -> None:
    """Coding and abstracting: the appendectomy stay coded, grouped, queried, regrouped and
    signed final; the worklist and the indexes."""
    now = datetime.now(UTC)
    coder = "coder.lindqvist"
    _step("The coder abstracts the appendectomy stay: codes checked for the discharge date")
    noted = run(
        surgeon,
        f"chart add {stay} --kind diagnosis --text 'Acute appendicitis, resected' "
        "--field system=icd-10-cm --field code=K35.80 "
        f"--effective {(now - timedelta(days=30, hours=7)).isoformat(timespec='seconds')}",
        quiet=True,
    )
    summary = noted.split()[-1].rstrip(".")
    run(coder, f"code suggest {stay} --purpose operations")
    run(coder, f"code dx {stay} K35.80 --poa Y --principal --from-entry {summary}")
    run(coder, f"code dx {stay} E11 --poa Y")
    run(coder, f"code dx {stay} E11.9 --poa Y")
    run(
        coder,
        f"code px {stay} 0DTJ4ZZ --on {(now - timedelta(days=35)).date()} --surgeon {surgeon}",
    )
    run(coder, f"code group {stay}")

    _step("A low hemoglobin after surgery: the coder asks the surgeon, never about payment")
    added = run(
        surgeon,
        f"chart add {stay} --kind laboratory-report --text 'Hemoglobin 7.9 g/dL after surgery' "
        f"--effective {(now - timedelta(days=34)).isoformat(timespec='seconds')}",
    )
    lab = added.split()[-1].rstrip(".")
    options = "--option 'Acute blood loss anemia' --option 'Anemia of chronic disease' "
    options += "--option Other --option 'Clinically undetermined'"
    run(
        coder,
        f"query raise {stay} --physician {surgeon} --indicator {lab} "
        f"--question 'Would anemia raise the DRG weight?' {options}",
    )
    raised = run(
        coder,
        f"query raise {stay} --physician {surgeon} --indicator {lab} --question "
        f"'Based on the hemoglobin of 7.9 g/dL after surgery, what condition is present?' "
        f"{options}",
    )
    query = raised.split("Raised query ")[1].split()[0]
    run(coder, f"query send {query}")
    run(coder, "code worklist --purpose operations")

    _step("The surgeon answers, signed with their own key; the answer leads to a code")
    run(surgeon, f"query answer {query} --choice 1")
    run(coder, f"code dx {stay} D62 --poa N --query {query}")
    run(coder, f"code regroup {stay} --purpose operations")
    run(coder, f"code group {stay}")
    run(coder, f"code what-if {stay} --principal K35.30 --purpose operations")
    run(coder, f"code final {stay}")
    run(coder, f"code show {stay} --purpose payment")

    _step("The worklist, and the indexes the department keeps")
    run(coder, "code worklist --purpose operations")
    start = (now - timedelta(days=60)).date()
    run("him.director", f"index disease --code K35 --from {start} --purpose operations")
    run("him.director", f"index operation --root-operation T --from {start} --purpose operations")
    run("him.director", f"index physician --from {start} --purpose operations")


_HISTORY = [
    # (given, family, born, sex, service, bed, diagnosis, procedure, days, disposition)
    ("Ines", "Moreau", "1944-03-02", "female", "medicine", "4W-2", "J18.9", None, 5, "home"),
    ("Piotr", "Nowak", "1951-07-19", "male", "surgery", "5E-1", "K80.20", "0FT44ZZ", 2, "home"),
    ("Keiko", "Tanabe", "1939-12-05", "female", "medicine", "4W-4", "I50.21", None, 7, "snf"),
    ("Omar", "Farouk", "1968-01-27", "male", "surgery", "5E-2", "K35.80", "0DTJ4ZZ", 3, "home"),
    ("Lucia", "Bianchi", "1947-09-14", "female", "medicine", "4W-1", "J44.1", None, 4, "home"),
    ("Tendai", "Moyo", "1958-04-30", "male", "medicine", "4W-3", "I21.4", None, 2, "expired"),
]
"""The year before the report's month: the stays entered for its trends, one pattern a stay."""


def _history(run: _Runner, first: datetime, *, medicine: str, surgeon: str) -> int:
    """Three stays in each of the eleven months before `first`, each coded final; returns how
    many. Each patient is registered once, then readmitted some months later."""
    mrns: dict[str, str] = {}
    made = 0
    for back in range(11, 0, -1):
        month = first
        for _ in range(back):
            month = (month - timedelta(days=1)).replace(day=1)
        for slot in range(3):
            given, family, born, sex, service, bed, dx, px, days, leaving = _HISTORY[
                (back * 3 + slot) % len(_HISTORY)
            ]
            if family not in mrns:
                out = run("tech.alvarez", f"patient register --given {given} --family {family} "
                          f"--born {born} --sex {sex}", quiet=True)  # fmt: skip
                mrns[family] = re.findall(r"Registered (\S+)", out)[0].rstrip(".")
            if leaving == "expired" and back > 1:
                leaving = "home"  # one death, in the last of these months
            admitted = month.replace(day=3 + slot * 8, hour=9)
            doctor = surgeon if service == "surgery" else medicine
            opened = run("tech.alvarez", f"encounter admit {mrns[family]} --attending {doctor} "
                         f"--service {service} --bed {bed} --at {admitted.isoformat()}",
                         quiet=True)  # fmt: skip
            stay = re.findall(r"encounter (\S+)", opened)[0]
            left = admitted + timedelta(days=days, hours=3)
            run("tech.alvarez", f"encounter discharge {stay} --disposition {leaving} "
                f"--at {left.isoformat()}", quiet=True)  # fmt: skip
            run("coder.lindqvist", f"code dx {stay} {dx} --poa Y --principal", quiet=True)
            if px is not None:
                run("coder.lindqvist", f"code px {stay} {px} --on {admitted.date()} "
                    f"--surgeon {surgeon}", quiet=True)  # fmt: skip
            run("coder.lindqvist", f"code group {stay}", quiet=True)
            run("coder.lindqvist", f"code final {stay}", quiet=True)
            made += 1
    return made


def _statistics_department(run: _Runner, root: Path, *, physicians: list[str]) -> None:
    """Last month's hospital statistics: the units and their beds as facts, a month of stays
    (a transfer, a death within 48 hours, a readmission, a newborn, a same-day stay), the
    census, length of stay, deaths, readmissions and case mix, the patients behind a figure
    (recorded), the monthly report issued and verified, and a late discharge explained."""
    now = datetime.now(UTC)
    first = (now.replace(day=1) - timedelta(days=1)).replace(day=1)
    last = now.replace(day=1) - timedelta(days=1)
    month = f"{first:%Y-%m}"
    period = f"--from {first.date()} --to {last.date()}"
    medicine, surgeon, other = physicians[1], physicians[2], physicians[0]
    director, tech, coder = "him.director", "tech.alvarez", "coder.lindqvist"

    def on(day: int, hour: int = 10) -> str:
        return first.replace(day=day, hour=hour, minute=0, second=0, microsecond=0).isoformat(
            timespec="minutes"
        )

    _step("The HIM director records the nursing units: their beds are facts with dates")
    opened = (first - timedelta(days=400)).date()
    for unit, name, beds, service in (
        ("4W", "Four West", "--beds 6", "medicine"),
        ("5E", "Five East", "--beds 4", "surgery"),
        ("NUR", "Newborn nursery", "--beds 0 --bassinets 2", "newborn"),
    ):
        run(director, f"unit open {unit} --name {q(name)} {beds} --service {service} "
            f"--from {opened}", quiet=unit != "4W")  # fmt: skip
    run(director, f"unit beds 5E --beds 3 --from {first.date() + timedelta(days=14)} "
        "--reason 'a room closed for repair'")  # fmt: skip
    run(director, "unit list")

    _step("The year before: a few stays a month, coded final (entered quietly, as they happened)")
    count = _history(run, first, medicine=medicine, surgeon=surgeon)
    click.echo(f"   {count} earlier stays admitted, discharged and coded, month by month")

    _step(f"A month of stays on the wards ({month}), each entered as it happened")
    stays: dict[str, str] = {}
    for key, demographics, admission in (
        ("santos", "--given Maria --family Santos --born 1949-05-03 --sex female",
         f"--attending {medicine} --service medicine --bed 4W-1 --at {on(2)}"),
        ("okoro", "--given Johnson --family Okoro --born 1962-11-21 --sex male",
         f"--attending {surgeon} --service surgery --bed 5E-3 --at {on(3, 8)}"),
        ("petrova", "--given Elena --family Petrova --born 1938-02-09 --sex female",
         f"--attending {medicine} --service medicine --bed 4W-2 --at {on(8)}"),
        ("baby", "--given Baby --family Haddad --born " + first.replace(day=12).date().isoformat()
         + " --sex male", f"--attending {other} --service newborn --bed NUR-1 --at {on(12, 4)}"),
        ("hassan", "--given Ahmed --family Hassan --born 1975-07-30 --sex male",
         f"--attending {surgeon} --service surgery --bed 5E-1 --at {on(15, 7)}"),
    ):  # fmt: skip
        registered = run(tech, f"patient register {demographics}", quiet=True)
        mrn = re.findall(r"Registered (\S+)", registered)[0].rstrip(".")
        admitted = run(tech, f"encounter admit {mrn} {admission}", quiet=key != "santos")
        stays[key] = re.findall(r"encounter (\S+)", admitted)[0]
        stays[f"{key}-mrn"] = mrn
    run(tech, f"encounter transfer {stays['okoro']} --bed 4W-5 --service medicine "
        f"--attending {medicine} --at {on(5, 9)}")  # fmt: skip
    for key, disposition, when in (
        ("santos", "home", on(6, 12)), ("okoro", "home", on(9, 15)),
        ("petrova", "expired", on(9, 20)), ("baby", "home", on(14, 11)),
        ("hassan", "home", on(15, 19)),
    ):  # fmt: skip
        run(tech, f"encounter discharge {stays[key]} --disposition {disposition} --at {when}",
            quiet=key != "petrova")  # fmt: skip
    again = run(tech, f"encounter admit {stays['santos-mrn']} --attending {medicine} "
                f"--service medicine --bed 4W-3 --at {on(20)}", quiet=True)  # fmt: skip
    stays["santos-again"] = re.findall(r"encounter (\S+)", again)[0]
    run(tech, f"encounter discharge {stays['santos-again']} --disposition home --at {on(24)}",
        quiet=True)  # fmt: skip
    click.echo("   (and four more admissions, a transfer and discharges the same way: Maria "
               "Santos is back on the 20th)")  # fmt: skip

    _step("The coder finishes the month's abstracts: the case mix comes from these groupings")
    for key, codes in (
        ("santos", "J18.9"), ("okoro", "K80.20"), ("petrova", "I21.4"), ("hassan", "K40.90"),
        ("santos-again", "J44.1"),
    ):  # fmt: skip
        run(coder, f"code dx {stays[key]} {codes} --poa Y --principal", quiet=True)
    run(coder, f"code px {stays['okoro']} 0FT44ZZ --on {first.date() + timedelta(days=3)} "
        f"--surgeon {surgeon}", quiet=True)  # fmt: skip
    run(coder, f"code px {stays['hassan']} 0YQ50ZZ --on {first.date() + timedelta(days=14)} "
        f"--surgeon {surgeon}", quiet=True)  # fmt: skip
    for key in ("santos", "okoro", "petrova", "hassan", "santos-again"):
        run(coder, f"code group {stays[key]}", quiet=True)
        run(coder, f"code final {stays[key]}", quiet=key != "santos")

    _step("The month's census: every day, and the use of beds (figures only, nobody named)")
    run(director, f"stats census {period}", show=40)
    run(director, f"stats census {period} --newborns --json", quiet=True)

    _step("Length of stay, deaths, readmissions (crude, unadjusted) and the case mix")
    run(director, f"stats los {period} --by service")
    run(director, f"stats deaths {period}")
    run(director, f"stats readmissions {period}")
    run(director, f"stats diagnoses {period} --by category")
    run(director, f"stats casemix {period}")

    _step("Who is behind a figure: listing the patients records the access first")
    run(director, f"stats patients deaths {period} --purpose operations")
    run(director, f"stats patients readmissions {period} --purpose operations")

    report = root / f"statistics-{month}.html"
    _step("The monthly report (printable HTML, plots inline, no scripts), issued as a signed event")
    issued = run(director, f"stats report --month {month} --to 'Medical staff committee' "
                 f"--out {q(str(report))}")  # fmt: skip
    as_of = re.findall(r"stood at (\S+?);", issued)
    run(director, f"stats plot census {period} --out {q(str(root / f'census-{month}.svg'))}")

    _step("A discharge entered late changes the next report, not the one given; the difference "
          "is explained")  # fmt: skip
    late = run(tech, "patient register --given Grace --family Mbeki --born 1957-03-14 "
               "--sex female", quiet=True)  # fmt: skip
    late_mrn = re.findall(r"Registered (\S+)", late)[0].rstrip(".")
    admitted = run(tech, f"encounter admit {late_mrn} --attending {medicine} --service medicine "
                   f"--bed 4W-4 --at {on(26)}", quiet=True)  # fmt: skip
    late_stay = re.findall(r"encounter (\S+)", admitted)[0]
    run(tech, f"encounter discharge {late_stay} --disposition home --at {on(28, 11)}")
    run("compliance.reyes", f"stats verify-report {q(str(report))}")
    if as_of:
        run(director, f"stats changes {period} --since {as_of[0]}")
    run("compliance.reyes", "stats reports")
    click.echo(f"   Open {report} in a browser to read (and print) the month's report.")


@click.command()
@click.option(
    "--data",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    default=SAMPLE,
    show_default="the Synthea sample installed with Chartledger",
    envvar="CHARTLEDGER_DEMO_DATA",
    help="The FHIR R4 bulk export the demo imports.",
)
@click.option(
    "--dir",
    "folder",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where to build the demo hospital (default: a new temporary folder).",
)
def demo(data: Path, folder: Path | None) -> None:
    """Build a small hospital's ledger on SQLite and walk through the main commands."""
    from ledger.aggregates.user import new_enrolment_code
    from ledger.commands import users
    from ledger.errors import IdentityError, IntegrityViolation, LedgerError
    from ledger.home import LedgerHome
    from ledger.integrity.keys import Identity, write_key_file
    from ledger.verifier.export import verify_export
    from ledger.verifier.transcoder import MsgpackTranscoder

    root = folder or Path(tempfile.mkdtemp(prefix="chartledger-demo-"))
    if root.exists() and any(root.iterdir()):
        from ledger.errors import UsageError

        raise UsageError(f"The folder {root} is not empty; give a new folder for the demo.")
    home = LedgerHome(root / "home")

    _step("Create St. Mary's ledger: node key, first administrator, genesis", "chartledger init")
    ledger, genesis = home.initialise(admin="admin", origin="stmarys.example/ledger")
    admin = home.identity("admin")
    click.echo(f"   Genesis fingerprint (the trust anchor): {genesis.hex()}")

    with ledger:
        physicians = _physicians(data)
        _step(
            "Enrol the staff: the administrator invites, each person makes their own key",
            "chartledger user invite tech.alvarez --role technician  (admin: prints a code)\n"
            "   $ chartledger user enroll tech.alvarez --code … --db …  (at tech.alvarez's desk)",
        )
        if physicians != FALLBACK_PHYSICIANS:
            click.echo(f"   Physicians taken from the Synthea practitioners in {data}")
        homes = root / "homes"
        master, node_key = home.keys_dir / "master.key", home.node_key_path()
        url = ledger.store.url
        people: dict[str, Identity] = {}
        for name, roles in [*STAFF, *((p, ["physician"]) for p in physicians)]:
            code = users.invite(ledger, name, roles, actor=admin)
            person = LedgerHome(homes / name).enrol_here(
                name, code, db=url, passphrase=None, master_key=master, node_key=node_key
            )
            people[name] = person
            click.echo(
                f"   {name:<22} {', '.join(roles):<20} key {person.fingerprint.hex()[:16]} "
                f"made in homes/{name}"
            )
        click.echo(
            "   (The demo's keys are unprotected (--no-passphrase, recorded in each enrolment); "
            "a real enrolment asks for a passphrase.)"
        )

        _step(
            "A physician replaces their own key; a technician who left loses theirs",
            "chartledger user rotate-key … ; chartledger user revoke tech.okafor --reason …",
        )
        rotated = Identity.generate(physicians[0])
        users.rotate_key(ledger, physicians[0], rotated.public_raw, actor=people[physicians[0]])
        current = LedgerHome(homes / physicians[0]).key_path(physicians[0])
        current.rename(current.with_name(f"{physicians[0]}.key.retired-1"))
        write_key_file(rotated, current)
        users.revoke_key(ledger, "tech.okafor", "left the hospital", actor=admin)
        click.echo(f"   {physicians[0]}: key rotated (old key valid only before this point)")
        click.echo("   tech.okafor: key revoked; anything signed with it from now on is invalid")
        try:
            users.invite(ledger, "intruder", ["administrator"], actor=people["tech.okafor"])
        except IdentityError as refused:
            click.echo(f"   tech.okafor tries to invite someone: refused: {refused}")
        try:
            users.rotate_key(ledger, physicians[1], Identity.generate("x").public_raw, actor=admin)
        except LedgerError as refused:
            click.echo(f"   admin tries to give {physicians[1]} a key: refused: {refused}")
        try:
            LedgerHome(root / "stolen").enrol_here(
                "tech.alvarez", new_enrolment_code(), db=url, passphrase=None
            )
        except LedgerError as refused:
            click.echo(f"   someone enrols as tech.alvarez again: refused: {refused}")

        node = home.node_identity()
        _step("Sign a checkpoint of the Merkle log with the node key", "chartledger checkpoint")
        first_size, note = ledger.checkpoint(node)
        for line in note.rstrip("\n").split("\n"):
            click.echo(f"   {line}")

    run = _Runner(home, homes)
    click.echo()
    click.echo(
        f"   From here on each step runs the real command, each person in their own home "
        f"({homes}/NAME; the administrator in {home.path})."
    )
    attending = physicians[1]
    known = _synthea_patient(data)
    _step("Import the Synthea FHIR export as the interface user")
    run("fhir-interface", f"import fhir {q(str(data))} --attending-default {attending}")
    _step("Run the same import again: every resource is already there")
    run("fhir-interface", f"import fhir {q(str(data))} --attending-default {attending}")

    if known is not None:
        given, family, born = known
        _step("The front desk looks for a patient, misspelling her name")
        find = f"patient find {q(given)} {q(_misspell(family))} --born {born}"
        run("tech.alvarez", f"{find} --purpose operations --limit 3")
        _step("Registering her again is refused: the likely match is shown")
        run(
            "tech.alvarez",
            f"patient register --given {q(given)} --family {q(family)} --born {born} --sex female",
        )
        found = run("tech.alvarez", f"{find} --purpose operations --limit 1 --json", quiet=True)
        known_mrn = json.loads(found)[0]["mrn"]
        _step("Her imported chart: her visits are years old, so no treatment relationship")
        run(attending, f"chart show {known_mrn} --purpose treatment")
        _step("In the emergency department the physician breaks the glass (flagged for review)")
        run(
            attending,
            f"chart show {known_mrn} --purpose treatment "
            "--break-glass 'ED: chest pain, needs her history'",
        )

    _step("A new patient is registered and admitted")
    mrn, encounter = _register_and_admit(
        run,
        "--given Tomasz --family Wisniewski --born 1958-02-14 --sex male --locality Wichita",
        f"--attending {attending} --service medicine --bed 4W-12",
    )

    _step("The attending records a diagnosis and signs it; the consent form is filed")
    added = run(
        attending,
        f"chart add {encounter} --kind diagnosis --text 'Community-acquired pneumonia' "
        "--field code=J18.9",
    )
    entry = added.split()[-1].rstrip(".")
    run(attending, f"chart sign {entry}")
    consent = root / "consent-to-treat.txt"
    consent.write_text("Consent to treatment, signed by the patient on admission.\n")
    run(
        "tech.alvarez", f"chart file {mrn} {q(str(consent))} --kind consent --encounter {encounter}"
    )
    before_amendment = datetime.now(UTC).isoformat(timespec="microseconds")
    time.sleep(0.01)

    _step("The x-ray shows the lobe: the diagnosis is amended, never overwritten")
    run(
        attending,
        f"chart amend {entry} --text 'Lobar pneumonia, right lower lobe' --field code=J18.1 "
        f"--reason 'chest x-ray read' --requested-by {attending}",
    )
    _step("The chart now, and as the ledger held it before the amendment")
    run(attending, f"chart show {mrn} --purpose treatment")
    run(attending, f"chart show {mrn} --purpose treatment --as-of {before_amendment}")
    _step("Every change, with who, when, why and the event to prove it")
    run("him.director", f"chart history {mrn} --purpose operations")

    _step("A mistyped MRN is one plain sentence and a non-zero exit")
    run(attending, "chart show MR9999999 --purpose treatment")

    _step("The compliance officer: every access, change and disclosure, and the break-glass")
    run("compliance.reyes", f"audit patient {mrn}")
    if known is not None:
        run("compliance.reyes", f"audit patient {known_mrn} --break-glass")

    _step("A legal request: the record as it stood before the amendment, provable offline")
    package = root / "legal-package"
    made = run(
        "roi.nakamura",
        f"legal package {mrn} --as-of {before_amendment} --out {q(str(package))} --purpose legal",
    )
    anchor = made.split("--genesis ")[-1].split()[0] if "--genesis " in made else ""
    run("compliance.reyes", f"verify --package {q(str(package))} --genesis {anchor}")

    stay = _records_department(run, root, mrn=mrn, attending=attending, surgeon=physicians[2])
    _coding_department(run, stay=stay, surgeon=physicians[2])
    _statistics_department(run, root, physicians=physicians)

    with home.open(None) as ledger:
        _step(
            "A second checkpoint, and proof that the log only grew",
            f"chartledger checkpoint && chartledger prove --from {first_size} --to …",
        )
        second_size, _ = ledger.checkpoint(node)
        _, _, hashes = ledger.consistency(first_size, second_size)
        click.echo(
            f"   the log of {second_size:,} events extends the log of {first_size} "
            f"({len(hashes)} hashes, verified)"
        )
        proof = ledger.prove("@5")
        click.echo(
            f"   and event {proof.leaf.originator_id}/{proof.leaf.originator_version} at "
            f"position {proof.leaf.position} is in it: {len(proof.hashes)} hashes lead to the "
            "signed root (chartledger prove @5)"
        )

        _step(
            "Verify everything: signatures, key validity, chains, tree, checkpoints, documents",
            "chartledger verify",
        )
        report = ledger.verify(expected_genesis=genesis)
        click.echo(
            f"   {report.events:,} events, {report.aggregates:,} aggregates, "
            f"{report.signatures:,} signatures, {report.checkpoints} checkpoints: all good"
        )

        _step(
            "Export for an outside auditor, and verify it with no database at all",
            "chartledger export audit-export --purpose 'outside audit' --as admin && "
            "chartledger verify --export audit-export",
        )
        export_dir = root / "audit-export"
        from ledger.integrity.export_record import export_ledger

        export_ledger(ledger, export_dir, actor=admin, node=node, purpose="outside audit")
        offline = verify_export(
            export_dir, transcoder=MsgpackTranscoder(), expected_genesis=genesis
        )
        click.echo(f"   {export_dir}: {offline.events:,} events verified offline")

    _step(
        "Tamper with a copy of the database and watch verify name the damage",
        'sqlite3 tampered.db "UPDATE stored_events SET state=…" && chartledger verify',
    )
    tampered = root / "tampered.db"
    shutil.copy(root / "home" / "ledger.db", tampered)
    conn = sqlite3.connect(tampered)
    try:
        rowid, state = conn.execute(
            "SELECT rowid, state FROM stored_events ORDER BY rowid LIMIT 1 OFFSET 4"
        ).fetchone()
        changed = bytearray(state)
        changed[len(changed) // 3] ^= 0x01
        conn.execute("UPDATE stored_events SET state=? WHERE rowid=?", (bytes(changed), rowid))
        conn.commit()
    finally:
        conn.close()
    copy = home.open(f"sqlite:///{tampered}")
    try:
        copy.verify(expected_genesis=genesis)
        click.echo("   (the tampering went unnoticed: this should never happen)")
    except IntegrityViolation as caught:
        click.echo(f"   verify: {caught}")
    finally:
        copy.close()

    click.echo()
    click.secho("Try it yourself:", bold=True)
    click.echo(f"   export CHARTLEDGER_HOME={homes / attending} CHARTLEDGER_USER={attending}")
    click.echo(f"   chartledger chart show {mrn} --purpose treatment")
    click.echo(f"   chartledger chart history {mrn} --purpose treatment")
    click.echo(
        f"   CHARTLEDGER_HOME={homes / 'tech.alvarez'} "
        "chartledger patient find Wisnewski --purpose operations --as tech.alvarez"
    )
    click.echo(
        f"   CHARTLEDGER_HOME={homes / 'him.director'} "
        "chartledger patient duplicates --purpose operations --as him.director"
    )
    click.echo(
        f"   CHARTLEDGER_HOME={home.path} chartledger checkpoint --as admin && "
        f"CHARTLEDGER_HOME={home.path} chartledger verify"
    )
