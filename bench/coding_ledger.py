"""(c) of `bench/coding.py`: the same generated stays grouped through the ledger.

`prepare(stays)` makes a fresh SQLite ledger in a temporary folder with a technician, a physician
and a coder, and for each stay a patient of its age and sex, an inpatient encounter discharged on
its date, its codes (`code dx`, `code px`) and its discharge status and admission source, all
before any timing. The runner it returns groups every prepared stay with
`ledger.commands.coding.group_stay` (check, group, sign, save: one transaction a stay), which is
what `code group` does; each round records a new grouping of each stay.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from uuid import UUID

from bench.common import enrol
from ledger.coding.claim import Claim
from ledger.commands import coding, encounters, patients
from ledger.errors import LedgerError
from ledger.home import LedgerHome
from ledger.integrity.keys import load_identity


def _name(i: int) -> str:
    """A distinct family name of letters only (the index refuses digits in names)."""
    letters = ""
    i += 26 * 26
    while i:
        i, rest = divmod(i, 26)
        letters = chr(ord("a") + rest) + letters
    return letters.capitalize()


def _born(discharge: date, age: int) -> date:
    admitted = discharge - timedelta(days=3)
    return date(admitted.year - age - 1, 1, 1) if age else admitted


@dataclass(frozen=True)
class Prepared:
    run: Callable[[], None]
    """Groups every prepared stay once, through `group_stay`."""
    stays: int
    """How many stays it groups."""
    skipped: int
    """How many could not be coded through the commands (a code they refuse on a partial
    abstract, say)."""


def prepare(stays: Sequence[Claim]) -> Prepared:
    """The stays coded through the commands in a new ledger, and the runner that groups them."""
    folder = Path(tempfile.mkdtemp(prefix="bench-coding-"))
    home = LedgerHome(folder / "home")
    ledger, _ = home.initialise(
        admin="admin", origin="bench/coding", db=f"sqlite:///{folder / 'ledger.db'}"
    )
    admin = load_identity("admin", home.key_path("admin"))
    tech = enrol(ledger, admin, "tech1", ["technician"])
    enrol(ledger, admin, "doc1", ["physician"])
    coder = enrol(ledger, admin, "coder1", ["coder"])
    ready: list[UUID] = []
    skipped = 0
    for i, stay in enumerate(stays):
        sex = {"F": "female", "M": "male"}.get(stay.sex, "unknown")
        mrn = patients.register_patient(
            ledger,
            {
                "given_name": "Bench",
                "family_name": _name(i),
                "birth_date": _born(stay.discharge, stay.age),
                "sex": sex,
            },
            actor=tech,
            likely_matches=[],
        )
        out = datetime.combine(stay.discharge, time(12), UTC)
        encounter = encounters.open_encounter(
            ledger,
            mrn,
            encounter_class="inpatient",
            attending="doc1",
            service="medicine",
            effective_at=out - timedelta(days=3),
            actor=tech,
        )
        encounters.discharge(
            ledger, encounter, disposition=stay.discharge_status, effective_at=out, actor=tech
        )
        try:
            for n, dx in enumerate((stay.principal, *stay.secondary)):
                coding.code_diagnosis(
                    ledger, encounter, code=dx.code, poa=dx.poa, principal=n == 0, actor=coder
                )
            for px in stay.procedures:
                coding.code_procedure(
                    ledger,
                    encounter,
                    code=px.code,
                    on=px.on,
                    operating_physician="doc1",
                    actor=coder,
                )
            coding.set_status(
                ledger,
                encounter,
                discharge_status=stay.discharge_status,
                admission_source=stay.admission_source,
                actor=coder,
            )
        except LedgerError:
            skipped += 1
            continue
        ready.append(encounter)

    def run() -> None:
        for encounter in ready:
            coding.group_stay(ledger, encounter, actor=coder)

    return Prepared(run, len(ready), skipped)
