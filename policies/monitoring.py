"""Access monitoring: which accesses a compliance officer should look at, and why.

Pure: the access lines of a period, facts about staff and patients, the reviews already made and
the configuration in; alerts out, each with the rule's name and one sentence (identifiers only,
never a patient's name or address). The rules:

- `unexplained`: a treatment access granted with no treatment relationship on record and no
  break-the-glass (possible for roles that need none, e.g. technicians);
- `self-access`: the user's staff record names this MRN as their own chart;
- `family`: the patient's family name is the user's; `neighbour`: the same street and locality;
- `co-worker`: the MRN is another user's own chart;
- `vip`, `restricted`: the configuration lists the MRN;
- `deceased`: the access came after the patient's recorded death;
- `after-hours`: outside the working hours, in the configured time zone;
- `volume`: the user's accesses on one day exceed `volume_factor` times their own daily average
  over the previous `baseline_days` (and at least `volume_minimum`);
- `after-deactivation`: the access came after the user's key was revoked;
- `break-glass-unreviewed`: a break-the-glass access no review has answered yet.

Denied attempts fire the rules about whose record it was (self, family, neighbour, co-worker,
VIP, restricted, deceased) and the time rules: a refused look at a relative's chart is worth a
conversation too. `unexplained` and `break-glass-unreviewed` need a granted access.
"""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

RULES = (
    "unexplained",
    "self-access",
    "family",
    "neighbour",
    "co-worker",
    "vip",
    "restricted",
    "deceased",
    "after-hours",
    "volume",
    "after-deactivation",
    "break-glass-unreviewed",
)


@dataclass(frozen=True)
class AccessLine:
    """One access to one patient's record, as monitoring sees it."""

    event: str
    at: datetime
    actor: str
    mrn: str
    purpose: str | None
    granted: bool
    break_glass_reason: str | None = None
    relationship: str | None = None


@dataclass(frozen=True)
class StaffFacts:
    """What monitoring knows of a user (from the policy's `[staff]` and the key history)."""

    name: str
    family_name: str = ""
    address: str = ""
    patient_mrn: str | None = None
    deactivated_at: datetime | None = None


@dataclass(frozen=True)
class PatientFacts:
    """What monitoring knows of a patient (from the index and the chart)."""

    mrn: str
    family_name: str = ""
    address: str = ""
    deceased_at: datetime | None = None


@dataclass(frozen=True)
class MonitoringConfig:
    """The `[monitoring]` and `[patients]` sections of the access policy document."""

    working_hours: tuple[time, time] = (time(7, 0), time(19, 0))
    zone: str = "UTC"
    volume_factor: float = 3.0
    baseline_days: int = 30
    volume_minimum: int = 20
    vip: frozenset[str] = frozenset()
    restricted: frozenset[str] = frozenset()
    staff: Mapping[str, StaffFacts] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, document: Mapping[str, Any]) -> MonitoringConfig:
        """Read the sections it needs from a parsed policy document; `ValueError` if wrong."""
        section = document.get("monitoring", {})
        if not isinstance(section, Mapping):
            raise ValueError("[monitoring] must be a table")
        hours = section.get("working_hours", ["07:00", "19:00"])
        try:
            start, end = (time.fromisoformat(str(h)) for h in hours)
        except (TypeError, ValueError):
            raise ValueError('[monitoring] working_hours must be ["HH:MM", "HH:MM"]') from None
        zone = str(section.get("time_zone", "UTC"))
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"[monitoring] time_zone '{zone}' is not a known zone") from None
        patients = document.get("patients", {})
        staff = {
            str(name): StaffFacts(
                name=str(name),
                family_name=str(facts.get("family_name", "")),
                address=str(facts.get("address", "")),
                patient_mrn=str(facts["patient_mrn"]).upper() if facts.get("patient_mrn") else None,
            )
            for name, facts in dict(document.get("staff", {})).items()
            if isinstance(facts, Mapping)
        }
        return cls(
            working_hours=(start, end),
            zone=zone,
            volume_factor=float(section.get("volume_factor", 3.0)),
            baseline_days=int(section.get("baseline_days", 30)),
            volume_minimum=int(section.get("volume_minimum", 20)),
            vip=frozenset(str(m).upper() for m in patients.get("vip", [])),
            restricted=frozenset(str(m).upper() for m in patients.get("restricted", [])),
            staff=staff,
        )


@dataclass(frozen=True)
class Alert:
    """One access worth a look: which rule, which event, and why (identifiers only)."""

    rule: str
    event: str
    at: datetime
    actor: str
    mrn: str
    why: str

    def as_dict(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "event": self.event,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "mrn": self.mrn,
            "why": self.why,
        }


def _plain(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text or "")
    letters = "".join(c for c in folded if c.isalnum() or c.isspace()).casefold()
    return " ".join(letters.split())


def after_hours(moment: datetime, config: MonitoringConfig) -> bool:
    """Outside the working hours, in the configured zone (the end of the day is exclusive)."""
    local = moment.astimezone(ZoneInfo(config.zone)).time()
    start, end = config.working_hours
    return not (start <= local < end)


def _identity_alerts(
    line: AccessLine, staff: Mapping[str, StaffFacts], patient: PatientFacts | None
) -> Iterable[tuple[str, str]]:
    user = staff.get(line.actor)
    if user is not None and user.patient_mrn == line.mrn:
        yield "self-access", "the user opened their own chart"
        return
    if user is not None and patient is not None:
        if user.family_name and _plain(user.family_name) == _plain(patient.family_name):
            yield "family", "the patient has the user's family name"
        if user.address and _plain(user.address) == _plain(patient.address):
            yield "neighbour", "the patient lives at the user's address"
    owners = [s.name for s in staff.values() if s.patient_mrn == line.mrn and s.name != line.actor]
    if owners:
        yield "co-worker", f"the record is the own chart of user {owners[0]}"


def alerts(
    lines: Sequence[AccessLine],
    *,
    config: MonitoringConfig,
    patients: Mapping[str, PatientFacts],
    reviewed: frozenset[str] = frozenset(),
    history: Sequence[AccessLine] = (),
) -> list[Alert]:
    """Every alert for `lines`, in their order; `history` (earlier lines) sets the baselines."""
    found: list[Alert] = []
    staff = config.staff

    def add(line: AccessLine, rule: str, why: str) -> None:
        found.append(Alert(rule, line.event, line.at, line.actor, line.mrn, why))

    for line in lines:
        patient = patients.get(line.mrn)
        for rule, why in _identity_alerts(line, staff, patient):
            add(line, rule, why)
        if line.mrn in config.vip:
            add(line, "vip", "the patient is on the VIP list")
        if line.mrn in config.restricted:
            add(line, "restricted", "the record is restricted")
        if (
            patient is not None
            and patient.deceased_at is not None
            and line.at > patient.deceased_at
        ):
            add(line, "deceased", "the access came after the patient's recorded death")
        if after_hours(line.at, config):
            add(line, "after-hours", "outside the working hours")
        user = staff.get(line.actor)
        if user is not None and user.deactivated_at is not None and line.at > user.deactivated_at:
            add(line, "after-deactivation", "the access came after the user's key was revoked")
        if not line.granted:
            continue
        if (
            line.purpose == "treatment"
            and line.relationship is None
            and not line.break_glass_reason
        ):
            add(line, "unexplained", "treatment with no treatment relationship on record")
        if line.break_glass_reason and line.event not in reviewed:
            add(line, "break-glass-unreviewed", "break-the-glass access not reviewed yet")
    found.extend(_volume_alerts(lines, history, config))
    order = {line.event: i for i, line in enumerate(lines)}
    return sorted(found, key=lambda a: (order.get(a.event, 0), RULES.index(a.rule)))


def _volume_alerts(
    lines: Sequence[AccessLine], history: Sequence[AccessLine], config: MonitoringConfig
) -> Iterable[Alert]:
    """Days on which a user read far more records than their own baseline."""
    zone = ZoneInfo(config.zone)
    per_day: Counter[tuple[str, date]] = Counter()
    first_of_day: dict[tuple[str, date], AccessLine] = {}
    for line in lines:
        key = (line.actor, line.at.astimezone(zone).date())
        per_day[key] += 1
        first_of_day.setdefault(key, line)
    past: dict[str, Counter[date]] = defaultdict(Counter)
    for line in [*history, *lines]:
        past[line.actor][line.at.astimezone(zone).date()] += 1
    for (actor, day), count in sorted(per_day.items()):
        window = [day - timedelta(days=n) for n in range(1, config.baseline_days + 1)]
        baseline = sum(past[actor][d] for d in window) / config.baseline_days
        if count >= config.volume_minimum and count > config.volume_factor * baseline:
            line = first_of_day[(actor, day)]
            yield Alert(
                "volume",
                line.event,
                line.at,
                actor,
                line.mrn,
                f"{count} accesses on {day.isoformat()}, against a daily average of "
                f"{baseline:.1f} over the previous {config.baseline_days} days",
            )
