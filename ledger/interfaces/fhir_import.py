"""Import of a FHIR R4 bulk export (NDJSON): each resource once, signed by one interface user.

Two phases. `ledger.interfaces.fhir_bulk.read_export` checks and maps every line first (what each
resource becomes is described there); the first problem stops the import before anything is
written. `import_fhir` then writes.

Idempotence lives in the ledger: each imported resource has an `ImportedResource` aggregate whose
id is derived from "TYPE/ID", saved in the same `ledger.save(...)` as what the resource became,
so it is imported exactly once: a second import finds it (`in ledger.repository`) and skips the
resource, and of two imports that race the loser's save conflicts on it, and it re-checks and
skips. An encounter is saved with all its new entries and documents and their records in one
call, and its own record notes them (`Included`, same save), so importing the same export again
reads one record per patient and per encounter rather than one per resource; after a conflict
each resource's own record is checked. The encounters of a patient registered by this very run
cannot have records yet, so they are saved several to a call without being read first (a racing
import still conflicts on their records). A document's bytes are stored (encrypted, by hash)
just before the save, as `file_document` does: a save that fails leaves an unreferenced blob,
which a later import reuses. An import stopped midway leaves each resource fully imported or not
at all; running it again completes it. Nothing is shown, so no access is recorded.

Entries are written with the encounter aggregate's own methods (`Encounter.open`, `discharge`,
`record_entry`) and patients with `ledger.commands.patients.next_mrn` and `Patient.register`,
after the checks the commands make (`check_importer`: the actor, the policies, the attending;
`check_demographics` and `check_effective_at` while reading), because the one-shot commands
each save on their own and could not share a transaction with the import records.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from ledger.aggregates.documents import Document
from ledger.aggregates.encounter import Encounter
from ledger.aggregates.imported_resource import ImportedResource, imported_id
from ledger.aggregates.patient import Patient
from ledger.commands import patients
from ledger.commands.encounters import check_attending
from ledger.errors import ConflictError, NotFound, UsageError, require
from ledger.interfaces.fhir_bulk import (
    NO_DISPOSITION,
    Child,
    EncounterPlan,
    EntryPlan,
    Export,
    PatientPlan,
    Progress,
    Source,
    read_export,
)
from ledger.reads import charts
from policies import charting
from policies.documents import may_file_documents
from policies.roles import may_import_records, may_maintain_index

if TYPE_CHECKING:
    from eventsourcing.domain import MutableOrImmutableAggregate

    from ledger.application import Ledger
    from ledger.integrity.keys import Identity


HISTORY_SUFFIX = "#imported-history"
"""A patient's "imported history" encounter is recorded as `Patient/ID#imported-history`
('#' cannot occur in a FHIR id, so this never names a real resource)."""

HISTORY_SERVICE = "imported history (FHIR resources without an encounter)"

HISTORY_DISPOSITION = "not applicable (imported history)"

_RETRIES = 10

_SAVE_RESOURCES = 200
"""About how many resources (a few hundred events) one save holds when nothing can conflict."""


@dataclass
class ImportReport:
    """What an import did: counts and MRNs only (never names)."""

    files: list[str]
    lines: int
    resources: int
    imported: Counter[str] = field(default_factory=Counter)
    already: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    entries: Counter[str] = field(default_factory=Counter)
    documents: int = 0
    history_encounters: int = 0
    practitioners: int = 0
    events: int = 0
    mrns: dict[str, str] = field(default_factory=dict)
    new_mrns: list[str] = field(default_factory=list)


# -- writing -----------------------------------------------------------------------------------


@dataclass
class _PatientRef:
    id: UUID
    mrn: str


class _Importer:
    """Writes a checked export; every resource with its `ImportedResource` in one save."""

    def __init__(
        self,
        ledger: Ledger,
        export: Export,
        *,
        actor: Identity,
        attending: str,
        progress: Progress | None,
    ) -> None:
        self.ledger = ledger
        self.export = export
        self.actor = actor
        self.attending = attending
        self.progress = progress
        self.report = ImportReport(
            files=list(export.files),
            lines=export.lines,
            resources=export.resources,
            skipped=Counter(export.skipped),
            practitioners=export.practitioners,
        )
        self.patients: dict[str, _PatientRef] = {}
        self.new_patients: set[str] = set()
        self.done = 0

    # -- helpers --------------------------------------------------------------------------------
    def _record(self, key: str) -> ImportedResource | None:
        resource_type, _, resource_id = key.partition("/")
        try:
            found: object = self.ledger.repository.get(imported_id(resource_type, resource_id))
        except AggregateNotFoundError:
            return None
        return cast(ImportedResource, found)

    def _exists(self, source: Source) -> bool:
        return imported_id(source.type, source.id) in self.ledger.repository

    def _save(self, *objs: MutableOrImmutableAggregate[UUID]) -> None:
        self.report.events += len(self.ledger.save(*objs, signer=self.actor))

    def _tick(self, count: int = 1) -> None:
        self.done += count
        if self.progress is not None:
            self.progress("importing", self.done, self.report.resources)

    def _already(self, source: Source) -> None:
        self.report.already[source.type] += 1
        self._tick()

    # -- patients -------------------------------------------------------------------------------
    def resolve_references(self) -> None:
        """Find the patients imported before (none merged away since); patients and encounters
        referred to but not in the export must be among what was imported before."""
        for pid in self.export.patients:
            record = self._record(f"Patient/{pid}")
            if record is not None:
                self._use_patient(pid, record)
        for pid, where in self.export.outside_patients.items():
            record = self._record(f"Patient/{pid}")
            if record is None:
                raise UsageError(
                    f"{where} cannot be imported: it refers to Patient/{pid}, which is neither "
                    "in the export nor imported before."
                )
            self._use_patient(pid, record)
        for enc, (where, pid) in self.export.outside_encounters.items():
            record = self._record(f"Encounter/{enc}")
            if record is None:
                raise UsageError(
                    f"{where} cannot be imported: it refers to Encounter/{enc}, which is neither "
                    "in the export nor imported before."
                )
            owner = self.patients.get(pid)
            if owner is None or record.patient_id != owner.id:
                raise UsageError(
                    f"{where} cannot be imported: it refers to Encounter/{enc}, which is another "
                    "patient's."
                )

    def check_open_stays(self) -> None:
        """Before anything is written: an encounter still open (no `period.end`) must not give
        its patient a second open inpatient stay, beside one in the ledger or earlier in the
        export (`policies.charting.may_open_encounter`). Closed ones are history and pass."""
        opening: dict[str, list[EncounterPlan]] = defaultdict(list)
        for plan in sorted(self.export.encounters.values(), key=lambda p: p.start):
            if plan.end is None and plan.encounter_class in charting.ONE_AT_A_TIME:
                opening[plan.patient].append(plan)
        for pid, plans in opening.items():
            open_now: list[charting.OpenEncounter] = []
            known = self.patients.get(pid)
            if known is not None:  # imported before: what is open in its chart now
                open_now = [
                    charting.OpenEncounter(str(e.id), e.encounter_class, e.admitted_at)
                    for e in charts.encounters(self.ledger, known.mrn)
                    if not e.discharged
                ]
            for plan in plans:
                if self._exists(plan.source):
                    continue  # imported before: already one of those open
                decision = charting.may_open_encounter(plan.encounter_class, open_now)
                if not decision.allowed:
                    raise UsageError(
                        f"{plan.source.where} cannot be imported: {plan.source.key} is still "
                        f"open, and {decision.reason}; nothing was imported."
                    )
                open_now.append(
                    charting.OpenEncounter(plan.source.key, plan.encounter_class, plan.start)
                )

    def _use_patient(self, pid: str, record: ImportedResource) -> None:
        patient = self.ledger.patient(record.became)
        if patient.merged_into is not None:
            raise UsageError(
                f"Patient/{pid} was imported as {patient.mrn}, which was merged into "
                f"{patient.merged_into}; nothing was imported."
            )
        self.patients[pid] = _PatientRef(patient.id, patient.mrn)
        self.report.mrns[pid] = patient.mrn

    def import_patient(self, plan: PatientPlan) -> None:
        pid = plan.source.id
        if pid in self.patients:  # found by `resolve_references`
            self._already(plan.source)
            return
        for _ in range(_RETRIES):
            record = self._record(plan.source.key)
            if record is not None:
                self._use_patient(pid, record)
                self._already(plan.source)
                return
            registry, new_registry = patients.mrn_registry(self.ledger, actor=self.actor.name)
            mrn = patients.next_mrn(self.ledger, registry)
            patient = Patient.register(
                mrn,
                plan.demographics,
                actor=self.actor.name,
                likely_matches=[],
                override=None,
            )
            imported = ImportedResource.record(
                "Patient",
                pid,
                patient_id=patient.id,
                kind="patient",
                became=mrn,
                details=plan.details,
                actor=self.actor.name,
            )
            try:
                self._save(*([registry] if new_registry else []), patient, imported)
            except ConflictError:
                continue  # another registration took the number, or another import this patient
            self.patients[pid] = _PatientRef(patient.id, mrn)
            self.new_patients.add(pid)
            self.report.mrns[pid] = mrn
            self.report.new_mrns.append(mrn)
            self.report.imported["Patient"] += 1
            self._tick()
            return
        raise ConflictError(
            f"The index is very busy; Patient/{pid} was not imported. Run the import again."
        )

    # -- encounters and what they hold ----------------------------------------------------------
    def import_encounters(self, visits: list[tuple[EncounterPlan, list[Child]]]) -> None:
        """One patient's encounters, each with the entries and documents that refer to it.

        An encounter's record can exist only once its patient's does, so the encounters of a
        patient registered by this run are new: several are saved per call without a read
        each. A racing import makes that save conflict; then each is checked on its own.
        """
        if not visits:
            return
        if visits[0][0].patient not in self.new_patients:
            for plan, children in visits:
                self.import_encounter(plan, children)
            return
        for chunk in _chunks(visits, _SAVE_RESOURCES):
            built = [self._build_encounter(plan, children) for plan, children in chunk]
            try:
                self._save(*(aggregate for b in built for aggregate in b.aggregates))
            except ConflictError:
                for plan, children in chunk:
                    self.import_encounter(plan, children)
                continue
            for (plan, children), b in zip(chunk, built, strict=True):
                self._encounter_done(plan, children, b)

    def import_encounter(self, plan: EncounterPlan, children: list[Child]) -> None:
        """A new encounter with all its children in one save; else add what it lacks."""
        record = self._record(plan.source.key)
        if record is None:
            built = self._build_encounter(plan, children)
            try:
                self._save(*built.aggregates)
            except ConflictError:
                record = self._record(plan.source.key)  # another import took it first
                if record is None:
                    raise
            else:
                self._encounter_done(plan, children, built)
                return
        self._already(plan.source)
        self.add_to_existing(plan.source.key, plan.patient, children, record=record)

    def _build_encounter(self, plan: EncounterPlan, children: list[Child]) -> _Written:
        """The new encounter, its record and its children (new too: their encounter is)."""
        patient = self.patients[plan.patient]
        encounter = Encounter.open(
            patient.id,
            patient.mrn,
            encounter_class=plan.encounter_class,
            attending=self.attending,
            service=plan.service,
            bed=None,
            effective_at=plan.start,
            actor=self.actor.name,
        )
        if plan.end is not None:
            encounter.discharge(
                disposition=plan.disposition or NO_DISPOSITION,
                effective_at=plan.end,
                actor=self.actor.name,
            )
        imported = ImportedResource.record(
            "Encounter",
            plan.source.id,
            patient_id=patient.id,
            kind="encounter",
            became=str(encounter.id),
            details=plan.details,
            actor=self.actor.name,
        )
        written = self._add_children(encounter, patient, children)
        if children:
            imported.include([c.source.key for c in children], actor=self.actor.name)
        written.aggregates[:0] = [encounter, imported]
        return written

    def _encounter_done(self, plan: EncounterPlan, children: list[Child], built: _Written) -> None:
        self.report.imported["Encounter"] += 1
        built.count(self.report)
        self._tick(1 + len(children))

    def add_to_existing(
        self,
        key: str,
        pid: str,
        children: list[Child],
        *,
        record: ImportedResource | None = None,
    ) -> None:
        """Add the children not imported yet to an encounter imported before (`key` its record).

        Its record lists what was imported into it; after a conflict (another import, someone
        charting, or a resource a later export moved to another encounter) each resource's own
        record is checked too.
        """
        patient = self.patients[pid]
        check_each = False
        for _ in range(_RETRIES):
            record = record or self._record(key)
            if record is None:  # pragma: no cover (only called once the record exists)
                raise NotFound(f"{key} was not imported.")
            included = set(record.included)
            pending = []
            for child in children:
                if child.source.key in included or (check_each and self._exists(child.source)):
                    self._already(child.source)
                else:
                    pending.append(child)
            children = pending
            if not children:
                return
            encounter = self.ledger.encounter(UUID(record.became))
            written = self._add_children(encounter, patient, children)
            record.include([c.source.key for c in children], actor=self.actor.name)
            try:
                self._save(encounter, record, *written.aggregates)
            except ConflictError:
                check_each, record = True, None
                continue
            written.count(self.report)
            self._tick(len(children))
            return
        raise ConflictError(
            f"The encounter imported from {key} is very busy; some resources were not imported. "
            "Run the import again."
        )

    def import_history(self, pid: str, children: list[Child]) -> None:
        """The resources of a patient that name no encounter, in one "imported history" one."""
        key = f"Patient/{pid}{HISTORY_SUFFIX}"
        record = self._record(key)
        if record is None:
            patient = self.patients[pid]
            entries = [c for c in children if isinstance(c, EntryPlan)]
            start = min(e.effective_at for e in entries)
            encounter = Encounter.open(
                patient.id,
                patient.mrn,
                encounter_class="outpatient",
                attending=self.attending,
                service=HISTORY_SERVICE,
                bed=None,
                effective_at=start,
                actor=self.actor.name,
            )
            encounter.discharge(
                disposition=HISTORY_DISPOSITION, effective_at=start, actor=self.actor.name
            )
            imported = ImportedResource.record(
                "Patient",
                pid + HISTORY_SUFFIX,
                patient_id=patient.id,
                kind="history-encounter",
                became=str(encounter.id),
                actor=self.actor.name,
            )
            written = self._add_children(encounter, patient, children)
            imported.include([c.source.key for c in children], actor=self.actor.name)
            try:
                self._save(encounter, imported, *written.aggregates)
            except ConflictError:
                record = self._record(key)  # another import made it first
                if record is None:
                    raise
            else:
                self.report.history_encounters += 1
                written.count(self.report)
                self._tick(len(children))
                return
        self.add_to_existing(key, pid, children, record=record)

    def import_loose_documents(self, pid: str, documents: list[Child]) -> None:
        """Documents that name no encounter: filed to the patient, each with its record."""
        patient = self.patients[pid]
        for document in documents:
            for _ in range(_RETRIES):
                if self._exists(document.source):
                    self._already(document.source)
                    break
                written = self._add_children(None, patient, [document])
                try:
                    self._save(*written.aggregates)
                except ConflictError:
                    continue
                written.count(self.report)
                self._tick()
                break

    def _add_children(
        self, encounter: Encounter | None, patient: _PatientRef, children: list[Child]
    ) -> _Written:
        written = _Written()
        for child in children:
            if isinstance(child, EntryPlan):
                assert encounter is not None  # noqa: S101 (entries always go into an encounter)
                entry_id = encounter.record_entry(
                    kind=child.kind,
                    text=child.text,
                    fields=child.fields,
                    author=self.actor.name,  # the interface is the author (author=None)
                    effective_at=child.effective_at,
                    actor=self.actor.name,
                )
                became, kind = f"{encounter.id}:{entry_id}", "entry"
                written.entries[child.kind] += 1
                details: dict[str, Any] = {}
            else:
                ids = []
                for attachment in child.attachments:
                    digest = self.ledger.blobs.put(patient.id, attachment.content)
                    document = Document.file(
                        patient.id,
                        patient.mrn,
                        encounter_id=encounter.id if encounter is not None else None,
                        kind=child.kind,
                        sha256=digest,
                        size=len(attachment.content),
                        media_type=attachment.media_type,
                        filename=attachment.filename,
                        actor=self.actor.name,
                    )
                    written.aggregates.append(document)
                    ids.append(str(document.id))
                became, kind, details = " ".join(ids), "document", child.details
                written.documents += len(ids)
            written.aggregates.append(
                ImportedResource.record(
                    child.source.type,
                    child.source.id,
                    patient_id=patient.id,
                    kind=kind,
                    became=became,
                    details=details,
                    actor=self.actor.name,
                )
            )
            written.types[child.source.type] += 1
        return written


@dataclass
class _Written:
    """What one save adds besides the encounter: documents and import records, and counts."""

    aggregates: list[MutableOrImmutableAggregate[UUID]] = field(default_factory=list)
    entries: Counter[str] = field(default_factory=Counter)
    types: Counter[str] = field(default_factory=Counter)
    documents: int = 0

    def count(self, report: ImportReport) -> None:
        report.entries.update(self.entries)
        report.imported.update(self.types)
        report.documents += self.documents


def _chunks(
    visits: list[tuple[EncounterPlan, list[Child]]], size: int
) -> Iterable[list[tuple[EncounterPlan, list[Child]]]]:
    """Encounters in groups of about `size` resources (an encounter and its children)."""
    chunk: list[tuple[EncounterPlan, list[Child]]] = []
    resources = 0
    for visit in visits:
        chunk.append(visit)
        resources += 1 + len(visit[1])
        if resources >= size:
            yield chunk
            chunk, resources = [], 0
    if chunk:
        yield chunk


def check_importer(ledger: Ledger, actor: Identity, attending: str) -> None:
    """The actor may import (an interface the charting policies allow); the attending may attend."""
    acting = ledger.authenticate(actor)
    require(may_import_records(acting.roles))
    require(may_maintain_index(acting.roles))
    require(charting.may_manage_encounter(acting.roles))
    require(charting.may_record_entry(acting.roles))
    require(may_file_documents(acting.roles))
    check_attending(ledger, attending)


def import_fhir(
    ledger: Ledger,
    folder: Path,
    *,
    actor: Identity,
    attending: str,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a FHIR R4 bulk export; each resource once, however often this runs."""
    check_importer(ledger, actor, attending)
    export = read_export(folder, progress=progress)
    importer = _Importer(ledger, export, actor=actor, attending=attending, progress=progress)
    importer.resolve_references()
    importer.check_open_stays()
    for plan in export.patients.values():
        importer.import_patient(plan)
    by_encounter: dict[str, list[Child]] = defaultdict(list)
    history: dict[str, list[Child]] = defaultdict(list)
    loose: dict[str, list[Child]] = defaultdict(list)  # documents without an encounter
    for child in export.children:
        if child.encounter is not None:
            by_encounter[child.encounter].append(child)
        elif isinstance(child, EntryPlan):
            history[child.patient].append(child)
        else:
            loose[child.patient].append(child)
    visits: dict[str, list[tuple[EncounterPlan, list[Child]]]] = defaultdict(list)
    for visit in sorted(export.encounters.values(), key=lambda p: p.start):
        visits[visit.patient].append((visit, by_encounter.pop(visit.source.id, [])))
    for patient_visits in visits.values():
        importer.import_encounters(patient_visits)
    for encounter, children in by_encounter.items():  # encounters imported by an earlier run
        importer.add_to_existing(f"Encounter/{encounter}", children[0].patient, children)
    for pid, children in history.items():
        importer.import_history(pid, children)
    for pid, children in loose.items():
        importer.import_loose_documents(pid, children)
    return importer.report
