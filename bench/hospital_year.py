"""A seeded year of a general hospital, planned in memory and then built through the commands.

`plan_hospital(stays=, days=, start=, seed=)` simulates the hospital bed by bed: nine nursing
units (200 beds at the default 15,500 admissions a year, scaled for other sizes) and a nursery
with bassinets; Poisson admissions by service, each placed in a free bed of its service's units
(boarded on another unit when those are full, turned away when the hospital is); lengths of stay
drawn per service (about 4 days on average, some same-day stays); about 15 % of the longer stays
transferred once (into or out of intensive care, or to another ward); dispositions with about
2 % deaths (a third of them under 48 hours), AMA and acute transfers; about 8 % readmitted
within 30 days and a few patients who come back later; a newborn in the nursery for most
deliveries; and a coding plan for each stay (a principal diagnosis of its service, secondary
diagnoses, a procedure for most surgical and obstetric stays). The same seed plans the same
hospital. Admissions start a fortnight before `start`, so the hospital is full on its first day.

`build_hospital(ledger, admin, plan, coded=N)` writes it through the real commands: the units
(`ledger.commands.units`), then in clinical-time order the registrations, admissions and
discharges in `Batch`es (one save per simulated day, `decisions §38`), each transfer alone
(`encounters.transfer` takes no batch), then a final coding abstract for N discharged stays
(diagnoses, procedure, status, `group_stays`, `sign_final`, one command each).

`HospitalPlan.census_counts(period)` is the plan's own count of stays in beds (a plain loop over
its stays, not `policies.statistics`), for the smoke test; `HospitalPlan.facts()` gives the same
stays as `policies.statistics.Stay`s, for the bench's in-memory baseline.
"""

from __future__ import annotations

import heapq
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from uuid import UUID

from bench.common import enrol
from ledger.application import Ledger
from ledger.commands import coding, encounters, patients, units
from ledger.commands.batch import Batch
from ledger.errors import LedgerError
from ledger.integrity.keys import Identity
from policies import statistics as st

DEFAULT_STAYS = 15_500
"""Admissions (adults and children) a year of the 200-bed hospital."""
DEFAULT_BEDS = 200
TARGET_OCCUPANCY = 0.86
WARM_UP_DAYS = 14
NURSERY = "NURS"
ARRIVALS_OVER = 1.07
"""Fresh arrivals over the rate asked for: some are turned away when the hospital is full."""


@dataclass(frozen=True)
class UnitPlan:
    code: str
    name: str
    service: str | None
    beds: int
    bassinets: int = 0


# code, name, service, share of the 200 beds
_UNITS = (
    ("ICU", "Intensive Care", "critical-care", 20),
    ("CCU", "Coronary Care", "cardiology", 12),
    ("3E", "Three East", "medicine", 28),
    ("3W", "Three West", "medicine", 28),
    ("4E", "Four East", "surgery", 26),
    ("4W", "Four West", "surgery", 26),
    ("5E", "Five East", "cardiology", 24),
    ("MAT", "Maternity", "obstetrics", 20),
    ("PED", "Pediatrics", "pediatrics", 16),
)
_BASSINETS = 24

# service: (share of admissions, mean LOS in days, the units it is placed on first)
_SERVICES: dict[str, tuple[float, float, tuple[str, ...]]] = {
    "medicine": (0.33, 4.6, ("3E", "3W")),
    "surgery": (0.25, 4.1, ("4E", "4W")),
    "cardiology": (0.14, 3.6, ("5E", "CCU")),
    "critical-care": (0.06, 5.5, ("ICU",)),
    "obstetrics": (0.13, 2.4, ("MAT",)),
    "pediatrics": (0.09, 3.0, ("PED",)),
}
_BOARD_ON = ("3E", "3W", "4E", "4W", "5E")
"""Where an adult is boarded when their service's units are full."""

# NUBC status, share (deaths are drawn apart)
_DISPOSITIONS = (
    ("01", 0.70),
    ("06", 0.11),
    ("03", 0.09),
    ("62", 0.025),
    ("02", 0.022),
    ("07", 0.015),
    ("50", 0.015),
    ("65", 0.005),
)
DEATH_SHARE = 0.026
EARLY_DEATH_SHARE = 0.33
SAME_DAY_SHARE = 0.04
TRANSFER_SHARE = 0.22
READMIT_SHARE = 0.11
RETURN_SHARE = 0.04
BIRTH_SHARE = 0.9
CODED_SHARE = 0.9
"""The discharged stays given a final abstract by default (the rest are still being coded)."""

# principal diagnosis, procedure (or None), by service; each valid in FY2025 and FY2026
_CODES: dict[str, tuple[tuple[str, str | None], ...]] = {
    "medicine": (("J18.9", None), ("N39.0", None), ("A41.9", None), ("J44.1", None),
                 ("E86.0", None), ("K92.2", "0DJ08ZZ"), ("N17.9", None), ("L03.115", None)),
    "surgery": (("K35.80", "0DTJ4ZZ"), ("K80.00", "0FT44ZZ"), ("M17.11", "0SRC0J9"),
                ("K56.609", None), ("M16.11", "0SR9019")),
    "cardiology": (("I50.23", None), ("I48.91", None), ("I21.4", "4A023N7"), ("I50.33", None),
                   ("R07.9", None)),
    "critical-care": (("A41.51", "5A1955Z"), ("J96.01", "5A1945Z"), ("I63.9", None),
                      ("K85.90", None)),
    "obstetrics": (("O80", "10E0XZZ"),),
    "pediatrics": (("J18.9", None), ("J45.901", None), ("K35.80", "0DTJ4ZZ"), ("E86.0", None)),
    "newborn": (("Z38.00", None),),
}  # fmt: skip
_SECONDARY = ("I10", "E11.9", "E78.5", "Z87.891", "E66.9", "K21.9", "F41.9")


@dataclass
class PatientPlan:
    index: int
    sex: str
    birth_date: date
    given: str
    family: str


@dataclass
class MovePlan:
    at: datetime
    bed: str
    service: str
    attending: str | None = None
    """The new attending (None: unchanged); the admission's is the stay's first attending."""


@dataclass
class StayPlan:
    index: int
    patient: int
    service: str
    attending: str
    admitted: datetime
    discharged: datetime | None
    disposition: str | None
    moves: list[MovePlan]
    newborn: bool = False
    principal: str = ""
    secondary: tuple[str, ...] = ()
    procedure: str | None = None

    @property
    def unit(self) -> str:
        return self.moves[0].bed.split("-")[0]


@dataclass
class HospitalPlan:
    seed: int
    start: date
    days: int
    units: tuple[UnitPlan, ...]
    patients: list[PatientPlan]
    stays: list[StayPlan]
    physicians: dict[str, tuple[str, ...]]
    turned_away: int = 0
    transfers_skipped: int = 0

    @property
    def end(self) -> date:
        return self.start + timedelta(days=self.days - 1)

    @property
    def period(self) -> st.Period:
        return st.Period(self.start, self.end)

    @property
    def beds(self) -> int:
        return sum(u.beds for u in self.units)

    @property
    def bassinets(self) -> int:
        return sum(u.bassinets for u in self.units)

    @property
    def transfers(self) -> int:
        return sum(len(s.moves) - 1 for s in self.stays)

    def census_counts(
        self, period: st.Period, *, newborn: bool = False, unit: str | None = None
    ) -> list[int]:
        """Each day's daily inpatient census, counted straight from the plan: a stay is in a
        bed at midnight from its admission date to the day before its discharge date, and a
        stay admitted and discharged the same day counts once on that day; with `unit`, in
        the unit of its last placement made by that day (a same-day stay: its first)."""
        counts = []
        for day in period.each_day():
            count = 0
            for stay in self.stays:
                if stay.newborn != newborn:
                    continue
                first = stay.admitted.date()
                last = None if stay.discharged is None else stay.discharged.date()
                placed = [m for m in stay.moves if m.at.date() <= day] or stay.moves[:1]
                if unit is not None and placed[-1].bed.split("-")[0] != unit:
                    continue
                if last == first:
                    count += first == day
                elif first <= day and (last is None or day < last):
                    count += 1
            counts.append(count)
        return counts

    def facts(self) -> list[st.Stay]:
        """The stays as the formulas take them (unit from the bed label, as the view does)."""
        return [
            st.Stay(
                encounter_id=str(stay.index),
                patient=str(stay.patient),
                admitted=stay.admitted,
                discharged=stay.discharged,
                moves=tuple(st.Move(m.at, m.bed.split("-")[0], m.service) for m in stay.moves),
                newborn=stay.newborn,
                disposition=stay.disposition,
                attending=next(
                    (m.attending for m in reversed(stay.moves) if m.attending), stay.attending
                ),
            )
            for stay in self.stays
        ]

    def bed_counts(self) -> list[st.BedCount]:
        opened = self.start - timedelta(days=WARM_UP_DAYS + 1)
        return [st.BedCount(u.code, u.beds, u.bassinets, opened) for u in self.units]


def _scaled_units(beds: int, bassinets: int) -> tuple[UnitPlan, ...]:
    """The nine units' beds in their default shares of `beds` (largest remainder, at least one
    each), and the nursery's bassinets."""
    total = sum(share for *_, share in _UNITS)
    exact = [share * beds / total for *_, share in _UNITS]
    counts = [max(1, math.floor(x)) for x in exact]
    order = sorted(range(len(exact)), key=lambda i: exact[i] - math.floor(exact[i]), reverse=True)
    for i in order:
        if sum(counts) >= beds:
            break
        counts[i] += 1
    made = [
        UnitPlan(code, name, service, n)
        for (code, name, service, _), n in zip(_UNITS, counts, strict=True)
    ]
    made.append(UnitPlan(NURSERY, "Newborn Nursery", "newborn", 0, max(2, bassinets)))
    return tuple(made)


def _name(i: int) -> str:
    """A distinct family name of letters only (the index refuses digits in names)."""
    letters = ""
    i += 26 * 26
    while i:
        i, rest = divmod(i, 26)
        letters = chr(ord("a") + rest) + letters
    return letters.capitalize()


_GIVEN = ("Ada", "Ben", "Cora", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kit", "Lea")


def _los_hours(rng: random.Random, mean_days: float) -> float:
    if rng.random() < SAME_DAY_SHARE:
        return rng.uniform(3, 10)
    sigma = 0.65
    mu = math.log(mean_days * 24) - sigma * sigma / 2
    return max(6.0, rng.lognormvariate(mu, sigma))


def plan_hospital(
    stays: int = DEFAULT_STAYS,
    *,
    days: int = 365,
    start: date = date(2025, 1, 1),
    seed: int = 13,
) -> HospitalPlan:
    """A hospital's `days` from `start`, about `stays` adult and child admissions in them (see
    the module); the same arguments give the same plan."""
    rng = random.Random(seed)
    per_day = stays / days
    beds = max(9, round(DEFAULT_BEDS * per_day / (DEFAULT_STAYS / 365)))
    unit_plans = _scaled_units(beds, round(_BASSINETS * beds / DEFAULT_BEDS))
    free: dict[str, list[int]] = {u.code: list(range(u.beds, 0, -1)) for u in unit_plans}
    free[NURSERY] = list(range(unit_plans[-1].bassinets, 0, -1))
    physicians = {service: tuple(f"{service[:4]}{n}" for n in (1, 2, 3)) for service in _SERVICES}
    physicians["newborn"] = ("peds1", "peds2")
    physicians["pediatrics"] = ("peds1", "peds2", "peds3")
    plan = HospitalPlan(seed, start, days, unit_plans, [], [], physicians)
    services = list(_SERVICES)
    weights = [_SERVICES[s][0] for s in services]
    first_day = datetime.combine(start - timedelta(days=WARM_UP_DAYS), day_time(0), UTC)
    end = datetime.combine(start + timedelta(days=days), day_time(0), UTC)
    fresh = per_day * (1 - READMIT_SHARE) * ARRIVALS_OVER

    # the heap: (when, order, kind, payload); kinds: arrive, readmit, transfer, leave
    heap: list[tuple[datetime, int, str, object]] = []
    order = 0

    def push(when: datetime, kind: str, payload: object) -> None:
        nonlocal order
        order += 1
        heapq.heappush(heap, (when, order, kind, payload))

    day = first_day
    while day < end:
        for _ in range(_poisson(rng, fresh)):
            hour = min(23.9, max(0.0, rng.gauss(13, 5)))
            push(day + timedelta(hours=hour), "arrive", None)
        day += timedelta(days=1)

    in_house: set[int] = set()
    last_out: dict[int, datetime] = {}
    gone: set[int] = set()  # died
    returning: list[int] = []

    def new_patient(service: str, when: datetime, *, newborn: bool = False) -> int:
        index = len(plan.patients)
        if newborn:
            born, sex = when.date(), rng.choice(("female", "male"))
        else:
            if service == "obstetrics":
                age, sex = rng.randint(18, 41), "female"
            elif service == "pediatrics":
                age, sex = rng.randint(1, 15), rng.choice(("female", "male"))
            else:
                age = min(98, max(19, round(rng.gauss(64, 17))))
                sex = rng.choice(("female", "male"))
            born = date(when.year - age - 1, rng.randint(1, 12), rng.randint(1, 28))
        plan.patients.append(
            PatientPlan(index, sex, born, rng.choice(_GIVEN), _name(index + 7 * seed))
        )
        return index

    def take_bed(units_tried: tuple[str, ...]) -> str | None:
        for code in units_tried:
            if free[code]:
                return f"{code}-{free[code].pop()}"
        return None

    def give_back(bed: str) -> None:
        code, number = bed.split("-")
        free[code].append(int(number))

    def admit(when: datetime, patient: int | None, service: str | None) -> None:
        service = service or rng.choices(services, weights)[0]
        if patient is not None and (patient in in_house or patient in gone):
            return
        bed = take_bed(_SERVICES[service][2])
        if bed is None and service not in ("obstetrics", "pediatrics"):
            bed = take_bed(tuple(rng.sample(_BOARD_ON, len(_BOARD_ON))))
        if bed is None:  # the last resort: any bed of the hospital
            bed = take_bed(tuple(u.code for u in unit_plans if u.beds))
        if bed is None:
            plan.turned_away += 1
            return
        if patient is None:
            patient = new_patient(service, when)
        in_house.add(patient)
        hours = _los_hours(rng, _SERVICES[service][1])
        died = rng.random() < DEATH_SHARE and service not in ("obstetrics", "pediatrics")
        if died and rng.random() < EARLY_DEATH_SHARE:
            hours = rng.uniform(4, 46)
        out = when + timedelta(hours=hours)
        if hours >= 24 and not died:  # discharges happen in the day, on the day the stay ends
            out = datetime.combine(out.date(), day_time(rng.randint(10, 17), rng.randint(0, 59)),
                                   UTC)  # fmt: skip
            if out <= when + timedelta(hours=20):
                out = when + timedelta(hours=hours)
        if died:
            disposition = "20"
        else:
            disposition = rng.choices([d for d, _ in _DISPOSITIONS], [w for _, w in _DISPOSITIONS])[
                0
            ]
            if service == "obstetrics":
                disposition = "01"
        principal, procedure = rng.choice(_CODES[service])
        adult = service not in ("obstetrics", "pediatrics")
        secondary = tuple(rng.sample(_SECONDARY, rng.randint(0, 2))) if adult else ()
        stay = StayPlan(
            len(plan.stays), patient, service, rng.choice(physicians[service]), when,
            None if out >= end else out, None if out >= end else disposition,
            [MovePlan(when, bed, service)], principal=principal, secondary=secondary,
            procedure=procedure if procedure and rng.random() < 0.85 else None,
        )  # fmt: skip
        plan.stays.append(stay)
        push(out, "leave", stay)
        if hours >= 36 and rng.random() < TRANSFER_SHARE:
            push(when + timedelta(hours=hours * rng.uniform(0.2, 0.6)), "transfer", stay)
        if service == "obstetrics" and rng.random() < BIRTH_SHARE:
            born_at = when + timedelta(hours=rng.uniform(2, min(14, hours - 1)))
            crib = take_bed((NURSERY,))
            if crib is not None:
                baby = new_patient("newborn", born_at, newborn=True)
                nb_out = max(out, born_at + timedelta(hours=6))
                kept = nb_out < end
                plan.stays.append(
                    StayPlan(
                        len(plan.stays), baby, "newborn", rng.choice(physicians["newborn"]),
                        born_at, nb_out if kept else None, "01" if kept else None,
                        [MovePlan(born_at, crib, "newborn")], newborn=True, principal="Z38.00",
                    )
                )  # fmt: skip
                push(nb_out, "leave", plan.stays[-1])

    def move(when: datetime, stay: StayPlan) -> None:
        if stay.discharged is not None and when >= stay.discharged - timedelta(hours=1):
            plan.transfers_skipped += 1  # the stay ends first (its discharge kept to the day)
            return
        here = stay.moves[-1].bed.split("-")[0]
        if here == "ICU" or here == "CCU":
            targets: tuple[str, ...] = _SERVICES.get(stay.service, (0, 0, _BOARD_ON))[2]
            targets = tuple(t for t in targets if t not in ("ICU", "CCU")) or ("3E", "3W")
            service = stay.service if stay.service != "critical-care" else "medicine"
        elif rng.random() < 0.45 and here not in ("MAT", "PED"):
            targets, service = ("ICU",), "critical-care"
        else:
            targets = tuple(u for u in (*_SERVICES[stay.service][2], *_BOARD_ON) if u != here)
            service = stay.service
        bed = take_bed(targets)
        if bed is None:
            plan.transfers_skipped += 1
            return
        give_back(stay.moves[-1].bed)
        attending = None
        if service != stay.moves[-1].service:
            attending = rng.choice(physicians[service])
        stay.moves.append(MovePlan(when, bed, service, attending))

    while heap:
        when, _, kind, payload = heapq.heappop(heap)
        if when >= end:
            break
        if kind == "arrive":
            patient = None
            if returning and rng.random() < RETURN_SHARE:
                candidate = rng.choice(returning)
                if when - last_out[candidate] > timedelta(days=31):
                    patient = candidate
            admit(when, patient, None if patient is None else rng.choice(services[:4]))
        elif kind == "readmit":
            patient, service = payload  # type: ignore[misc]
            admit(when, patient, service)
        elif kind == "transfer":
            move(when, payload)  # type: ignore[arg-type]
        else:
            stay = payload
            assert isinstance(stay, StayPlan)
            give_back(stay.moves[-1].bed)
            if stay.newborn:
                continue
            in_house.discard(stay.patient)
            last_out[stay.patient] = when
            if stay.disposition == "20":
                gone.add(stay.patient)
                continue
            if stay.service not in ("obstetrics", "pediatrics"):
                returning.append(stay.patient)
                if rng.random() < READMIT_SHARE:
                    back = when + timedelta(days=rng.uniform(1, 30), hours=rng.uniform(0, 8))
                    push(back, "readmit", (stay.patient, stay.service))
    return plan


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method (the means here are small)."""
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


# -- building it through the commands ------------------------------------------------------------


@dataclass
class Built:
    """What the build wrote, and how long each part took (seconds)."""

    stays: int = 0
    transfers: int = 0
    coded: int = 0
    coding_refused: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    events: int = 0
    refusals: list[str] = field(default_factory=list)
    mrns: dict[int, str] = field(default_factory=dict)
    """Each planned patient's MRN in this ledger."""
    encounters: dict[int, UUID] = field(default_factory=dict)
    """Each planned stay's encounter id in this ledger."""


def build_hospital(
    ledger: Ledger,
    admin: Identity,
    plan: HospitalPlan,
    *,
    coded: int | None = 0,
    on_progress: Callable[[str], None] | None = None,
) -> Built:
    """Write `plan` through the ledger's commands (see the module); `coded` of the discharged
    stays, a seeded sample, get a final coding abstract (None: `CODED_SHARE` of them). Returns
    counts and timings."""
    built = Built()
    say = on_progress or (lambda _: None)
    started = time.perf_counter()
    tech = enrol(ledger, admin, "registrar1", ["technician"])
    coder = enrol(ledger, admin, "coder1", ["coder"])
    for name in sorted({n for names in plan.physicians.values() for n in names}):
        enrol(ledger, admin, name, ["physician"])
    opened = plan.start - timedelta(days=WARM_UP_DAYS + 1)
    for unit in plan.units:
        units.open_unit(
            ledger, unit.code, name=unit.name, beds=unit.beds, bassinets=unit.bassinets,
            service=unit.service, effective_from=opened, actor=admin,
        )  # fmt: skip
    built.seconds["staff and units"] = time.perf_counter() - started

    started = time.perf_counter()
    actions: list[tuple[datetime, int, int, StayPlan, MovePlan | None]] = []
    for stay in plan.stays:
        actions.append((stay.admitted, 1, stay.index, stay, None))
        for placement in stay.moves[1:]:
            actions.append((placement.at, 2, stay.index, stay, placement))
        if stay.discharged is not None:
            actions.append((stay.discharged, 0, stay.index, stay, None))
    actions.sort(key=lambda a: (a[0], a[1], a[2]))
    batch = Batch(ledger)
    batch_day: date | None = None
    done = 0
    for when, kind, _, stay, placement in actions:
        if batch_day is not None and when.date() != batch_day and batch.aggregates:
            batch.save(signer=tech)
            batch = Batch(ledger)
        batch_day = when.date()
        if kind == 1:
            if stay.patient not in built.mrns:
                person = plan.patients[stay.patient]
                built.mrns[stay.patient] = patients.register_patient(
                    ledger,
                    {"given_name": person.given, "family_name": person.family,
                     "birth_date": person.birth_date, "sex": person.sex},
                    actor=tech, likely_matches=[], batch=batch,
                )  # fmt: skip
            first = stay.moves[0]
            built.encounters[stay.index] = encounters.open_encounter(
                ledger, built.mrns[stay.patient], encounter_class="inpatient",
                attending=stay.attending, service=stay.service, bed=first.bed, effective_at=when,
                actor=tech, batch=batch,
            )  # fmt: skip
            built.stays += 1
        elif kind == 2:
            encounter = built.encounters[stay.index]
            assert placement is not None
            if batch.holds(encounter):  # the command reads the saved encounter
                batch.save(signer=tech)
                batch = Batch(ledger)
            encounters.transfer(
                ledger, encounter, bed=placement.bed, service=placement.service,
                attending=placement.attending, effective_at=when, actor=tech,
            )  # fmt: skip
            built.transfers += 1
        else:
            assert stay.disposition is not None
            encounters.discharge(
                ledger, built.encounters[stay.index], disposition=stay.disposition,
                effective_at=when, actor=tech, batch=batch,
            )  # fmt: skip
        done += 1
        if done % 5000 == 0:
            say(f"{done:,} of {len(actions):,} admissions, transfers and discharges")
    if batch.aggregates:
        batch.save(signer=tech)
    built.seconds["stays"] = time.perf_counter() - started

    started = time.perf_counter()
    if coded is None:
        coded = round(CODED_SHARE * sum(1 for s in plan.stays if s.discharged is not None))
    if coded:
        _code(ledger, plan, coder, coded, built, say)
    built.seconds["coding"] = time.perf_counter() - started
    built.events = ledger.recorder.max_notification_id() or 0
    return built


def _code(
    ledger: Ledger,
    plan: HospitalPlan,
    coder: Identity,
    wanted: int,
    built: Built,
    say: Callable[[str], None],
) -> None:
    """A final abstract for a seeded sample of discharged stays: each diagnosis, the procedure
    and the status one command each, then `group_stays` over them all, then `sign_final`."""
    rng = random.Random(plan.seed + 1)
    discharged = [s for s in plan.stays if s.discharged is not None and s.index in built.encounters]
    sample = sorted(rng.sample(discharged, min(wanted, len(discharged))), key=lambda s: s.index)
    ready: list[UUID] = []
    for n, stay in enumerate(sample, 1):
        assert stay.discharged is not None
        encounter = built.encounters[stay.index]
        try:
            for i, code in enumerate((stay.principal, *stay.secondary)):
                coding.code_diagnosis(
                    ledger, encounter, code=code, poa="Y", principal=i == 0, actor=coder
                )
            if stay.procedure is not None:
                on = min(stay.discharged.date(), stay.admitted.date() + timedelta(days=1))
                coding.code_procedure(
                    ledger, encounter, code=stay.procedure, on=on,
                    operating_physician=stay.attending, actor=coder,
                )  # fmt: skip
            coding.set_status(
                ledger, encounter, discharge_status=stay.disposition, admission_source="1",
                actor=coder,
            )  # fmt: skip
        except LedgerError as refusal:
            built.coding_refused += 1
            built.refusals.append(f"{stay.principal}/{stay.procedure}: {refusal}")
            continue
        ready.append(encounter)
        if n % 500 == 0:
            say(f"coded {n:,} of {len(sample):,} stays")
    for grouping in coding.group_stays(ledger, ready, actor=coder):
        if not grouping.recorded:
            built.coding_refused += 1
            built.refusals.append(f"grouping: {grouping.refused}")
            continue
        try:
            coding.sign_final(ledger, grouping.encounter_id, actor=coder)
        except LedgerError as refusal:
            built.coding_refused += 1
            built.refusals.append(f"sign final: {refusal}")
            continue
        built.coded += 1
