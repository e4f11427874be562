"""Generate a realistic ledger of a chosen size, in bulk, through the ledger's own commands.

    .venv/bin/python bench/hospital.py --patients 10000 --events 100000 --store postgresql
    .venv/bin/python bench/hospital.py --events 20000 --store sqlite --url sqlite:////tmp/l.db

Patients are registered, then visited again and again until the ledger holds `--events`:
each visit is an outpatient visit (or, one in five, an inpatient stay) opened by the
registrar, charted by its attending (two to six entries), sometimes with a scanned document
(one in four), read by its attending and a nurse (access events decided by
`policies.access.decide`, as `record_access` decides them), and discharged. One release of
information is requested and validated for one visit in 200, and one inpatient stay in four
(of those the grouper covers) gets a final coding abstract (diagnosis, status, grouping,
sign-off). Every event is signed by the key of the user who caused it (registrar,
physicians, nurses, coder, release clerk, each enrolled with their own key), exactly as the
commands sign alone: the work is batched
(`ledger.commands.batch.Batch`), one save per actor per chunk of `--chunk` visits, so a chunk
of a thousand visits is a handful of transactions. Nothing the verify checks is skipped.

Prints the counts, the time and the events/s. `--url` keeps the ledger (its home, with the
users' keys, goes to `--home`, default a folder beside a SQLite file or a temporary folder);
without it the ledger is made in a temporary store and removed at the end.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from uuid import UUID

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import ACTOR, enrol, machine_line, note_text, stores  # noqa: E402
from ledger.aggregates.access import Access  # noqa: E402
from ledger.aggregates.access_policy import current_access_config  # noqa: E402
from ledger.application import Ledger  # noqa: E402
from ledger.commands import coding, documents, encounters, entries, patients, release  # noqa: E402
from ledger.commands.batch import Batch  # noqa: E402
from ledger.errors import LedgerError  # noqa: E402
from ledger.home import LedgerHome  # noqa: E402
from ledger.integrity.keys import Identity, write_key_file  # noqa: E402
from policies import access as policy  # noqa: E402

_GIVEN = (
    "Ada",
    "Ben",
    "Cara",
    "Dan",
    "Eva",
    "Finn",
    "Gina",
    "Hugo",
    "Iris",
    "Jon",
    "Kira",
    "Liam",
    "Maya",
    "Nils",
    "Olga",
    "Paul",
    "Rosa",
    "Sam",
    "Tara",
    "Umar",
    "Vera",
    "Will",
)
_FAMILY = ("Adams", "Baker", "Clark", "Diaz", "Evans", "Fox", "Green", "Hall", "Ivanov", "Jones",
           "King", "Lopez", "Moore", "Nguyen", "Owens", "Patel", "Quinn", "Reed", "Smith", "Turner",
           "Usman", "Vogel", "White", "Young", "Zhang")  # fmt: skip
_SERVICES = ("medicine", "surgery", "cardiology", "pediatrics", "obstetrics")
_ENTRY_KINDS = ("progress-note", "examination", "laboratory-report", "physician-note")
_DOC_KINDS = ("consent", "laboratory-report", "imaging-report", "correspondence")
PHYSICIANS = 12
NURSES = 8
INPATIENT_SHARE = 0.2
DOCUMENT_SHARE = 0.25
RELEASE_EVERY = 200
CODED_SHARE = 0.25
GROUPER_FROM = date(2022, 10, 2)
"""The first discharges the ledger's MS-DRG grouper (version 400) covers."""


@dataclass
class Staff:
    registrar: Identity
    coder: Identity
    clerk: Identity
    physicians: list[Identity]
    nurses: list[Identity]
    auditor: Identity


@dataclass
class Generated:
    patients: int = 0
    encounters: int = 0
    inpatient: int = 0
    entries: int = 0
    documents: int = 0
    reads: int = 0
    releases: int = 0
    coded: int = 0
    events: int = 0
    seconds: float = 0.0
    mrns: list[str] = field(default_factory=list)


def hire(ledger: Ledger, admin: Identity, keys: LedgerHome | None = None) -> Staff:
    """The users, each enrolled with a key of their own (written to `keys`' key folder, so the
    CLI can act as them, when given)."""
    staff = Staff(
        registrar=enrol(ledger, admin, "registrar1", ["technician"]),
        coder=enrol(ledger, admin, "coder1", ["coder"]),
        clerk=enrol(ledger, admin, "roi1", ["roi-specialist"]),
        physicians=[enrol(ledger, admin, f"dr{i:02d}", ["physician"]) for i in range(PHYSICIANS)],
        nurses=[enrol(ledger, admin, f"rn{i:02d}", ["nurse"]) for i in range(NURSES)],
        auditor=enrol(ledger, admin, "privacy1", ["compliance-officer"]),
    )
    if keys is not None:
        keys.keys_dir.mkdir(parents=True, exist_ok=True)
        for person in (staff.registrar, staff.coder, staff.clerk, staff.auditor,
                       *staff.physicians, *staff.nurses):  # fmt: skip
            write_key_file(person, keys.key_path(person.name))
    return staff


def _read(ledger: Ledger, reader: Identity, roles: list[str], mrn: str) -> Access:
    """The access event `record_access` records for a treatment read of the chart by someone
    on the care team, decided by the same policy; added to a batch instead of saved alone."""
    decision = policy.decide(
        roles, "treatment", actor=reader.name,
        patient=policy.PatientFacts(mrn, "care-team"), sections=["chart"],
        config=current_access_config(ledger),
    )  # fmt: skip
    return Access.decided(
        decision, actor=reader.name, mrns=[mrn], action="chart.show",
        sections=list(decision.sections), purpose="treatment",
        break_glass_reason=None, flagged=decision.flagged,
    )  # fmt: skip


def generate(
    ledger: Ledger,
    admin: Identity,
    *,
    patients_wanted: int,
    events_wanted: int,
    seed: int = 14,
    chunk: int = 500,
    on_progress: Callable[[str], None] | None = None,
    keys: LedgerHome | None = None,
) -> Generated:
    """Write patients and their visits until the ledger holds `events_wanted` events (see the
    module); returns the counts."""
    say = on_progress or (lambda _: None)
    rng = random.Random(seed)
    out = Generated()
    started = time.perf_counter()
    staff = hire(ledger, admin, keys)
    now = ledger.now()
    clock = now - timedelta(days=3650)
    step = timedelta(days=3640) / max(1, events_wanted // 9)  # about 9 events a visit
    to_code: list[UUID] = []
    while (ledger.recorder.max_notification_id() or 0) < events_wanted:
        visits: list[tuple[str, UUID, Identity, bool]] = []
        registering = Batch(ledger)
        for _ in range(chunk):
            if out.patients < patients_wanted:
                born = date(1930, 1, 1) + timedelta(days=rng.randrange(33_000))
                mrn = patients.register_patient(
                    ledger,
                    {"given_name": rng.choice(_GIVEN), "family_name": rng.choice(_FAMILY),
                     "birth_date": born, "sex": rng.choice(("female", "male"))},
                    actor=staff.registrar, likely_matches=[], batch=registering,
                )  # fmt: skip
                out.patients += 1
                out.mrns.append(mrn)
            else:
                mrn = rng.choice(out.mrns)
            if any(v[0] == mrn for v in visits):
                continue  # one open visit a chart at a time
            doctor = rng.choice(staff.physicians)
            inpatient = rng.random() < INPATIENT_SHARE
            clock = min(clock + step, now - timedelta(hours=3))
            visits.append((mrn, UUID(int=0), doctor, inpatient))
            visits[-1] = (
                mrn,
                encounters.open_encounter(
                    ledger,
                    mrn,
                    encounter_class="inpatient" if inpatient else "outpatient",
                    attending=doctor.name,
                    service=rng.choice(_SERVICES),
                    effective_at=clock,
                    actor=staff.registrar,
                    batch=registering,
                ),
                doctor,
                inpatient,
            )
        registering.save(signer=staff.registrar)
        # each physician charts, files and reads their own visits: one batch each
        by_doctor: dict[str, list[tuple[str, UUID, Identity, bool]]] = {}
        for visit in visits:
            by_doctor.setdefault(visit[2].name, []).append(visit)
        for doctor_visits in by_doctor.values():
            doctor = doctor_visits[0][2]
            charting = Batch(ledger)
            with ledger.one_read():  # each chart read once, the chart index caught up once
                _chart(ledger, rng, out, doctor, doctor_visits, charting, clock)
            charting.save(signer=doctor)
        for nurse in staff.nurses:
            mine = visits[staff.nurses.index(nurse) :: len(staff.nurses)]
            if not mine:
                continue
            reading = Batch(ledger)
            for mrn, _, _, _ in mine:
                reading.add(_read(ledger, nurse, ["nurse"], mrn))
                out.reads += 1
            reading.save(signer=nurse)
        discharging = Batch(ledger)
        with ledger.one_read():
            for _, encounter, _, _ in visits:
                encounters.discharge(
                    ledger, encounter, disposition="01", effective_at=clock + timedelta(hours=2),
                    actor=staff.registrar, batch=discharging,
                )  # fmt: skip
        discharging.save(signer=staff.registrar)
        out.encounters += len(visits)
        out.inpatient += sum(1 for v in visits if v[3])
        if clock.date() >= GROUPER_FROM:  # older stays were coded by the grouper of their time
            to_code += [v[1] for v in visits if v[3] and rng.random() < CODED_SHARE]
        for mrn, _, _, _ in visits:
            if rng.random() < 1 / RELEASE_EVERY:
                _release(ledger, staff, mrn, now.date())
                out.releases += 1
        if len(to_code) >= 20:
            out.coded += _code(ledger, staff, to_code)
            to_code = []
        done = ledger.recorder.max_notification_id() or 0
        say(f"{done:,} events, {out.patients:,} patients, {time.perf_counter() - started:.0f} s")
    if to_code:
        out.coded += _code(ledger, staff, to_code)
    out.seconds = time.perf_counter() - started
    out.events = ledger.recorder.max_notification_id() or 0
    return out


def _chart(
    ledger: Ledger,
    rng: random.Random,
    out: Generated,
    doctor: Identity,
    visits: list[tuple[str, UUID, Identity, bool]],
    charting: Batch,
    clock: datetime,
) -> None:
    """A physician's entries, documents and reads of their visits, into their batch."""
    for mrn, encounter, _, _ in visits:
        for _ in range(rng.randint(2, 6)):
            entries.add_entry(
                ledger, encounter, kind=rng.choice(_ENTRY_KINDS),
                text=note_text(out.entries), effective_at=clock, actor=doctor,
                batch=charting,
            )  # fmt: skip
            out.entries += 1
        if rng.random() < DOCUMENT_SHARE:
            documents.file_attachment(
                ledger, mrn, f"scan {out.documents} {mrn}\n".encode() * 40,
                filename=f"scan-{out.documents}.txt", media_type="text/plain",
                kind=rng.choice(_DOC_KINDS), actor=doctor, encounter_id=encounter,
                batch=charting,
            )  # fmt: skip
            out.documents += 1
        charting.add(_read(ledger, doctor, ["physician"], mrn))
        out.reads += 1


def _release(ledger: Ledger, staff: Staff, mrn: str, today: date) -> None:
    request = release.request_release(
        ledger, mrn, requester_kind="patient", requester="the patient", address=None,
        asks="copy of the chart", sections=["chart"], purpose="patient-request",
        received=today, actor=staff.clerk,
    )  # fmt: skip
    try:
        release.validate_release(ledger, request, basis="patient-access", actor=staff.clerk)
    except LedgerError:
        pass  # a request left to be validated is realistic too


def _code(ledger: Ledger, staff: Staff, stays: list[UUID]) -> int:
    """A final abstract for these stays: a principal diagnosis, the status, grouping, sign-off
    (the coding commands take no batch: one save each)."""
    ready = []
    for encounter in stays:
        try:
            coding.code_diagnosis(
                ledger, encounter, code="J18.9", poa="Y", principal=True, actor=staff.coder
            )
            coding.set_status(
                ledger, encounter, discharge_status="01", admission_source="1", actor=staff.coder
            )
        except LedgerError:
            continue
        ready.append(encounter)
    signed = 0
    for grouping in coding.group_stays(ledger, ready, actor=staff.coder):
        if grouping.recorded:
            try:
                coding.sign_final(ledger, grouping.encounter_id, actor=staff.coder)
                signed += 1
            except LedgerError:
                pass
    return signed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--url", help="keep the ledger at this store URL")
    parser.add_argument("--home", help="the ledger's home (users' keys) with --url")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--chunk", type=int, default=500, help="visits per batch round")
    args = parser.parse_args()
    print(machine_line())
    if args.url:
        home_dir = Path(args.home or tempfile.mkdtemp(prefix="chartledger-gen-"))
        home = LedgerHome(home_dir)
        ledger, _ = home.initialise(admin=ACTOR, origin="bench", db=args.url)
        _run(ledger, home.identity(ACTOR), args, home)
        print(f"ledger kept at {args.url}; home (keys) at {home_dir}")
        return
    with stores() as made:
        subject = made.ledger(args.store)
        assert subject.ledger is not None and subject.signer is not None
        _run(subject.ledger, subject.signer, args)


def _run(
    ledger: Ledger, admin: Identity, args: argparse.Namespace, home: LedgerHome | None = None
) -> None:
    out = generate(
        ledger, admin, patients_wanted=args.patients, events_wanted=args.events,
        seed=args.seed, chunk=args.chunk, on_progress=lambda s: print(f"  {s}", flush=True),
        keys=home,
    )  # fmt: skip
    print(
        f"{args.store}: {out.events:,} events in {out.seconds:.1f} s = "
        f"{out.events / out.seconds:,.0f} events/s; {out.patients:,} patients, "
        f"{out.encounters:,} encounters ({out.inpatient:,} inpatient), {out.entries:,} entries, "
        f"{out.documents:,} documents, {out.reads:,} reads, {out.releases:,} releases, "
        f"{out.coded:,} coded"
    )
    print(f"at this rate 10,000,000 events: {10_000_000 / (out.events / out.seconds) / 3600:.1f} h")


if __name__ == "__main__":
    main()
