"""The completion-worklist view on every store: for random sequences of admissions, entries,
signatures, documents, discharges, queries, scans, waivers, coding and new physicians, the
lists that read only the encounters the view keeps open (`deficiency list`, `code worklist`)
equal the full replay of every encounter (decisions §56). A view that missed an event kind
would leave an encounter settled that the full replay finds deficient, and fail here."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from ledger.aggregates.access_policy import current_completion_rules
from ledger.aggregates.completion import encounter_facts, registers
from ledger.application import Ledger
from ledger.commands import coding, completion, documents, encounters, entries, patients, queries
from ledger.errors import LedgerError
from ledger.integrity.keys import Identity
from ledger.reads.physician_queries import awaiting_by_encounter
from policies.deficiency import deficiencies
from projections.coding import coding_worklist
from projections.completion import caught_up_worklist, open_deficiencies
from tests.conftest import Hospital

NOW = datetime(2030, 1, 1, tzinfo=UTC)
START = datetime(2026, 3, 1, 8, tzinfo=UTC)


def full_deficiencies(ledger: Ledger) -> list[tuple[Any, ...]]:
    """The list as it was computed before the view: every encounter replayed."""
    rules = current_completion_rules(ledger)
    known = registers(ledger)
    found = [
        d
        for facts in encounter_facts(ledger, known, queries=awaiting_by_encounter(ledger))
        for d in deficiencies(facts, now=NOW, rules=rules)
    ]
    found.sort(key=lambda d: (d.due_at, d.mrn, d.kind))
    rows = []
    for d in found:
        assignment = known.assignment(d)
        rows.append(
            (
                d,
                assignment.assigned_at if assignment else None,
                assignment.notified_at if assignment else None,
            )
        )
    return rows


def listed_deficiencies(ledger: Ledger, him: Identity) -> list[tuple[Any, ...]]:
    return [
        (r.deficiency, r.assigned_at, r.notified_at)
        for r in open_deficiencies(ledger, now=NOW, actor=him)
    ]


def worklist(ledger: Ledger, coder: Identity) -> list[dict[str, Any]]:
    rows = coding_worklist(ledger, purpose="operations", actor=coder, now=NOW)
    return [r.as_dict() for r in rows]


def reopen_every_encounter(ledger: Ledger) -> None:
    """Forget every settled mark: the next list replays every encounter (the full path)."""
    view = caught_up_worklist(ledger)
    with ledger.db.transaction(commit=True) as cur:
        cur.execute(f"UPDATE {view.open} SET pending_deficiency=1, pending_coding=1")


def settled_encounters(ledger: Ledger) -> int:
    view = caught_up_worklist(ledger)
    with ledger.db.transaction(commit=False) as cur:
        cur.execute(f"SELECT count(*) AS n FROM {view.open} WHERE pending_deficiency=0")
        return int(cur.fetchone()["n"])


class Story:
    def __init__(self, hospital: Hospital, tmp_path: Path, seed: int) -> None:
        self.ledger = hospital.ledger
        self.hospital = hospital
        self.random = random.Random(seed)  # noqa: S311 (a test's story, not a secret)
        self.tmp = tmp_path
        enrol = hospital.enrol
        self.tech = enrol("tech1", ["technician"])
        self.him = enrol("him1", ["him-director"])
        self.coder = enrol("coder1", ["coder"])
        self.doctors = [enrol("dr1", ["physician"]), enrol("dr2", ["physician"])]
        self.nurse = enrol("nurse1", ["nurse"])
        self.later = enrol("res1", ["nurse"])  # enrolled again as a physician later
        self.mrns = [
            patients.register_patient(
                self.ledger,
                {
                    "given_name": name,
                    "family_name": "Test",
                    "sex": "female",
                    "birth_date": datetime(1960 + i, 1, 1).date(),
                },
                actor=self.tech,
                likely_matches=[],
            )
            for i, name in enumerate(["Ada", "Bo", "Cy"])
        ]
        self.stays: list[tuple[UUID, str, datetime]] = []
        self.entries: list[tuple[UUID, UUID, Identity]] = []
        self.queries: list[UUID] = []
        self.clock = START

    def tick(self) -> datetime:
        self.clock += timedelta(hours=self.random.choice([3, 20, 50]))
        return self.clock

    def step(self) -> str:
        r = self.random
        kinds = ["admit", "admit", "entry", "entry", "entry", "sign", "sign", "document",
                 "discharge", "discharge", "query", "send", "answer", "scan", "waive", "code",
                 "physician"]  # fmt: skip
        kind = r.choice(kinds if self.stays else ["admit"])
        stay, mrn, _ = r.choice(self.stays) if self.stays else (None, "", START)
        doctor = r.choice(self.doctors)
        try:
            if kind == "admit":
                who = r.choice(self.mrns)
                opened = encounters.open_encounter(
                    self.ledger, who, encounter_class=r.choice(["inpatient", "outpatient"]),
                    attending=doctor.name, service="medicine", effective_at=self.tick(),
                    actor=self.tech,
                )  # fmt: skip
                self.stays.append((opened, who, self.clock))
            elif kind == "entry":
                author = r.choice([*self.doctors, self.nurse, self.later])
                entry = entries.add_entry(
                    self.ledger, stay, kind=r.choice(
                        ["history", "examination", "progress-note", "procedure"]
                    ), text="note", fields={"operative": "yes"}, effective_at=self.tick(),
                    actor=author,
                )  # fmt: skip
                self.entries.append((stay, entry, author))
            elif kind == "sign" and self.entries:
                on, entry, author = r.choice(self.entries)
                signer = author if r.random() < 0.7 else doctor
                entries.sign_entry(self.ledger, on, entry, actor=signer)
            elif kind == "document":
                path = self.tmp / "doc.txt"
                path.write_text(f"document {r.random()}")
                documents.file_document(
                    self.ledger, mrn, path, encounter_id=stay, actor=self.tech,
                    kind=r.choice(["discharge-summary", "operative-report", "consent"]),
                )  # fmt: skip
            elif kind == "discharge":
                encounters.discharge(
                    self.ledger, stay, disposition="home", effective_at=self.tick(),
                    actor=self.tech,
                )  # fmt: skip
            elif kind == "query":
                mine = [str(e) for s, e, _ in self.entries if s == stay]
                self.queries.append(
                    queries.raise_query(
                        self.ledger,
                        stay,
                        physician=doctor.name,
                        indicators=mine[:1],
                        question="What condition is present?",
                        options=["A", "B", "Other", "Clinically undetermined"],
                        actor=self.coder,
                    )
                )
            elif kind == "send" and self.queries:
                queries.send_query(self.ledger, r.choice(self.queries), actor=self.coder)
            elif kind == "answer" and self.queries:
                query = r.choice(self.queries)
                for physician in self.doctors:
                    try:
                        queries.answer_query(self.ledger, query, choice=1, actor=physician)
                    except LedgerError:
                        continue
            elif kind == "scan":
                completion.scan(self.ledger, actor=self.him)
            elif kind == "waive":
                completion.resolve(
                    self.ledger, str(stay), r.choice(["discharge-summary", "progress-notes",
                                                      "history-and-physical", "consent"]),
                    reason="waived in the test", actor=self.him,
                )  # fmt: skip
            elif kind == "code":
                coding.code_diagnosis(
                    self.ledger, stay, code="J18.9", poa="Y", principal=True, actor=self.coder
                )
                coding.group_stay(self.ledger, stay, actor=self.coder)
                if r.random() < 0.6:
                    coding.sign_final(self.ledger, stay, actor=self.coder)
            elif kind == "physician" and self.later not in self.doctors:
                self.later = self.hospital.enrol("res2", ["physician"])
                self.doctors.append(self.later)
        except LedgerError as error:
            return f"{kind} (refused: {error})"
        return kind


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_lists_read_from_the_view_equal_the_full_replay(
    hospital: Hospital, tmp_path: Path, seed: int
) -> None:
    story = Story(hospital, tmp_path, seed)
    done = []
    settled: list[int] = []
    for number in range(60):
        done.append(story.step())
        if number % 3 == 2:
            ledger = story.ledger
            assert listed_deficiencies(ledger, story.him) == full_deficiencies(ledger), done
            incremental = worklist(ledger, story.coder)
            reopen_every_encounter(ledger)
            assert incremental == worklist(ledger, story.coder), done
            listed_deficiencies(ledger, story.him)
            settled.append(settled_encounters(ledger))
    assert len(story.stays) > 3 and any("refused" not in d for d in done if d != "admit")
    assert max(settled) > 0, "no encounter was ever settled: the view's shortcut went untested"
    assert full_deficiencies(story.ledger), "the story leaves nothing deficient: it tests nothing"


def test_each_kind_of_change_reopens_a_settled_encounter(hospital: Hospital) -> None:
    """A chart found complete (settled) becomes deficient again through an event of each kind:
    an unsigned entry, an amendment (a new unsigned version), a physician query sent about it.
    Each is listed at once, as the full replay lists it."""
    story = Story(hospital, hospital.homes, 0)
    ledger, dr1 = story.ledger, story.doctors[0]
    visit = encounters.open_encounter(
        ledger, story.mrns[0], encounter_class="outpatient", attending=dr1.name,
        service="medicine", effective_at=START, actor=story.tech,
    )  # fmt: skip

    def check() -> list[tuple[Any, ...]]:
        listed = listed_deficiencies(ledger, story.him)
        assert listed == full_deficiencies(ledger)
        return listed

    def entry() -> UUID:
        return entries.add_entry(
            ledger, visit, kind="progress-note", text="seen", effective_at=START, actor=dr1
        )

    assert check() == [] and settled_encounters(ledger) == 1
    first = entry()
    assert [d.kind for d, _, _ in check()] == ["signature"]
    entries.sign_entry(ledger, visit, first, actor=dr1)
    assert check() == [] and settled_encounters(ledger) == 1
    entries.amend_entry(
        ledger, visit, first, text="seen, better", reason="typo", requested_by=dr1.name,
        actor=dr1,
    )  # fmt: skip
    assert [d.kind for d, _, _ in check()] == ["signature"]
    entries.sign_entry(ledger, visit, first, actor=dr1)
    assert check() == []
    query = queries.raise_query(
        ledger, visit, physician=dr1.name, indicators=[str(first)], question="Which?",
        options=["A", "B", "Other", "Clinically undetermined"], actor=story.coder,
    )  # fmt: skip
    assert check() == [] and settled_encounters(ledger) == 1
    queries.send_query(ledger, query, actor=story.coder)
    assert [d.kind for d, _, _ in check()] == ["query"]
