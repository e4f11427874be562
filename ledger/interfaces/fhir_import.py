"""Import of a FHIR R4 bulk export (NDJSON): each resource once, signed by one interface user,
written by the same commands a person's workstation runs.

Three steps. `ledger.interfaces.fhir_bulk.read_export` checks and maps every line first (what
each resource becomes is described there). The import then *plans*: it runs the commands for
every resource (`patients.register_patient`, `encounters.open_encounter` and `discharge`,
`entries.add_entry`, `documents.file_attachment`), each in a `ledger.commands.batch.Batch`, one
batch per save, each planned after the one before and seeing what that one holds; nothing is
saved yet. The commands make their own checks (the actor's roles, the attending, the text
limits, the one open inpatient stay, the access policy's judgement of every admission and
entry), so the first problem any of them finds, like the first bad line, stops the import before
anything is written, naming the file and line. Last, it *writes*: each batch saved in turn, with
the `ImportedResource` records the import adds to it.

Idempotence lives in the ledger: each imported resource has an `ImportedResource` aggregate whose
id is derived from "TYPE/ID", saved in the same batch as what the resource became, so it is
imported exactly once: a second import finds it (`in ledger.repository`) and skips the resource,
and of two imports that race the loser's save conflicts on it. An encounter is saved with all its
new entries and documents and their records in one batch, and its own record notes them
(`Included`, same save), so importing the same export again reads one record per patient and per
encounter rather than one per resource. The encounters of a patient registered by this very run
cannot have records yet, so they are planned several to a batch (about `_SAVE_RESOURCES`) without
being read first (a racing import still conflicts on their records). A document's bytes are
stored just before its batch's events: a save that fails leaves an unreferenced blob, which a
later import reuses.

The plan was made on the ledger as it was read. When a save conflicts, someone else changed it
meanwhile (another import, someone registering or charting), so that batch and every one after
it are dropped and their resources imported again as they were before batches were planned:
one save at a time, each read afresh, a conflicting one checked resource by resource. A command
that refuses then (only a racing writer can make it) stops the import midway: what was saved
stays, each resource fully imported or not at all, and running it again completes it (the
sentence says so). Nothing is shown, so no access is recorded.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from ledger.aggregates.imported_resource import ImportedResource, imported_id
from ledger.aggregates.patient import patient_id
from ledger.commands import documents, encounters, entries, patients
from ledger.commands.batch import Batch
from ledger.errors import (
    ConflictError,
    NotAuthorised,
    NotFound,
    ProbableDuplicate,
    UsageError,
    require,
)
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
from ledger.text_checks import check_event
from policies.limits import UnknownDisposition
from policies.roles import may_import_records

if TYPE_CHECKING:
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


@dataclass
class _Job:
    """One save of the import (or none): its batch, what to count once it is saved, and how to
    import its resources again, live, when the plan no longer holds."""

    redo: Callable[[], None]
    batch: Batch | None = None
    counts: list[Callable[[], None]] = field(default_factory=list)


class _Importer:
    """Plans a checked export as batches of commands, then writes them (see the module)."""

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
        self.jobs: list[_Job] | None = None
        """While planning: the saves to make, in order."""
        self._job: _Job | None = None
        self._last: Batch | None = None
        self._made: dict[UUID, Source] = {}
        """While planning: what each new aggregate or entry was imported from."""

    # -- planning, then writing -----------------------------------------------------------------
    def job(self, work: Callable[[], None], redo: Callable[[], None] | None = None) -> None:
        """Run one job (at most one save): while planning, its commands run into a batch planned
        after the others and its save waits for `write`; afterwards, at once."""
        if self.jobs is None:
            work()
            return
        self._job = _Job(redo=redo or work)
        try:
            work()
        finally:
            self.jobs.append(self._job)
            self._job = None

    def write(self) -> None:
        """Save the planned batches in order, counting each once saved. At the first conflict
        the plan no longer holds: that job and every one after it run again, live."""
        jobs, self.jobs = self.jobs or [], None
        for index, job in enumerate(jobs):
            if job.batch is not None:
                try:
                    self._save(job.batch)
                except ConflictError:
                    for later in jobs[index:]:
                        later.redo()
                    return
            for count in job.counts:
                count()

    def _batch(self) -> Batch:
        """A job's batch: while planning, planned after the last one (it sees what they hold)."""
        if self.jobs is None:
            return Batch(self.ledger)
        batch = self._last.next() if self._last is not None else Batch(self.ledger)
        self._last = batch
        return batch

    def _commit(self, batch: Batch, source: Source) -> None:
        """Save a job's batch; while planning, check what its save would (`Ledger.save`'s text
        checks, event by event, naming the resource an event came from) and leave it to
        `write`. A conflict raises `ConflictError` (for the caller to read again)."""
        if self._job is None:
            self._save(batch)
            return
        for aggregate_id, event in batch.events():
            made = self._made.get(getattr(event, "entry_id", None) or aggregate_id, source)
            with self._for(made):
                check_event(event)
        self._job.batch = batch

    def _count(self, count: Callable[[], None]) -> None:
        """Report something done: once its job is saved (at once when nothing is planned)."""
        if self._job is not None:
            self._job.counts.append(count)
        else:
            count()

    @contextmanager
    def _for(self, source: Source) -> Iterator[None]:
        """A command's refusal of a resource, as one sentence naming its file and line."""
        try:
            yield
        except (UsageError, NotAuthorised, NotFound) as error:
            if isinstance(error, ProbableDuplicate):
                raise
            outcome = (
                "nothing was imported"
                if self.jobs is not None
                else "the import stopped there (what it saved before stays; run it again once "
                "this is resolved to import the rest)"
            )
            reason = str(error).rstrip(".")
            raise type(error)(
                f"{source.where} ({source.key}) cannot be imported: {reason}; {outcome}."
            ) from None

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

    def _save(self, batch: Batch) -> None:
        self.report.events += len(batch.save(signer=self.actor))

    def _tick(self, count: int = 1) -> None:
        self.done += count
        if self.progress is not None:
            self.progress("importing", self.done, self.report.resources)

    def _already(self, source: Source) -> None:
        def count() -> None:
            self.report.already[source.type] += 1
            self._tick()

        self._count(count)

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

    def _use_patient(self, pid: str, record: ImportedResource) -> None:
        patient = self.ledger.patient(record.became)
        if patient.merged_into is not None:
            raise UsageError(
                f"Patient/{pid} was imported as {patient.mrn}, which was merged into "
                f"{patient.merged_into}; nothing was imported."
            )
        self.patients[pid] = _PatientRef(patient.id, patient.mrn)
        self.report.mrns[pid] = patient.mrn

    def plan_patient(self, plan: PatientPlan) -> None:
        pid = plan.source.id

        def again() -> None:  # its registration was never saved: the patient is not ours yet
            if pid in self.new_patients:
                del self.patients[pid]
                self.new_patients.discard(pid)
            self.import_patient(plan)

        self.job(partial(self.import_patient, plan), redo=again)

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
            batch = self._batch()
            with self._for(plan.source):
                mrn = patients.register_patient(
                    self.ledger,
                    plan.demographics,
                    actor=self.actor,
                    likely_matches=[],
                    batch=batch,
                )
            batch.add(
                ImportedResource.record(
                    "Patient",
                    pid,
                    patient_id=patient_id(mrn),
                    kind="patient",
                    became=mrn,
                    details=plan.details,
                    actor=self.actor.name,
                )
            )
            self.patients[pid] = _PatientRef(patient_id(mrn), mrn)  # later batches build on it
            self.new_patients.add(pid)
            try:
                self._commit(batch, plan.source)
            except ConflictError:  # another registration took the number, or an import this patient
                del self.patients[pid]
                self.new_patients.discard(pid)
                continue
            self._count(partial(self._registered, pid, mrn))
            return
        raise ConflictError(
            f"The index is very busy; Patient/{pid} was not imported. Run the import again."
        )

    def _registered(self, pid: str, mrn: str) -> None:
        self.report.mrns[pid] = mrn
        self.report.new_mrns.append(mrn)
        self.report.imported["Patient"] += 1
        self._tick()

    # -- encounters and what they hold ----------------------------------------------------------
    def plan_encounters(self, visits: list[tuple[EncounterPlan, list[Child]]]) -> None:
        """One patient's encounters, each with the entries and documents that refer to it.

        An encounter's record can exist only once its patient's does, so the encounters of a
        patient registered by this run are new: several are saved per batch without a read
        each. A racing import makes that save conflict; then each is checked on its own.
        """
        if not visits:
            return
        if visits[0][0].patient not in self.new_patients:
            for plan, children in visits:
                self.job(partial(self.import_encounter, plan, children))
            return
        for chunk in _chunks(visits, _SAVE_RESOURCES):
            self.job(partial(self.import_new_encounters, chunk))

    def import_new_encounters(self, chunk: list[tuple[EncounterPlan, list[Child]]]) -> None:
        """Encounters of a patient this run registered, in one batch (if it did: run again after
        a conflict, the patient may have been found imported before)."""
        if chunk[0][0].patient not in self.new_patients:
            for plan, children in chunk:
                self.import_encounter(plan, children)
            return
        batch = self._batch()
        built = [self._build_encounter(batch, plan, children) for plan, children in chunk]
        try:
            self._commit(batch, chunk[0][0].source)
        except ConflictError:
            for plan, children in chunk:
                self.import_encounter(plan, children)
            return

        def count() -> None:
            for (plan, children), written in zip(chunk, built, strict=True):
                self._encounter_done(plan, children, written)

        self._count(count)

    def import_encounter(self, plan: EncounterPlan, children: list[Child]) -> None:
        """A new encounter with all its children in one batch; else add what it lacks."""
        record = self._record(plan.source.key)
        if record is None:
            batch = self._batch()
            built = self._build_encounter(batch, plan, children)
            try:
                self._commit(batch, plan.source)
            except ConflictError:
                record = self._record(plan.source.key)  # another import took it first
                if record is None:
                    raise
            else:
                self._count(partial(self._encounter_done, plan, children, built))
                return
        self._already(plan.source)
        self.add_to_existing(plan.source.key, plan.patient, children, record=record)

    def _build_encounter(
        self, batch: Batch, plan: EncounterPlan, children: list[Child]
    ) -> _Written:
        """The new encounter (opened, and discharged if it ended), its record and its children
        (new too: their encounter is), added to `batch`."""
        patient = self.patients[plan.patient]
        with self._for(plan.source):
            encounter_id = encounters.open_encounter(
                self.ledger,
                patient.mrn,
                encounter_class=plan.encounter_class,
                attending=self.attending,
                service=plan.service,
                effective_at=plan.start,
                actor=self.actor,
                batch=batch,
            )
            if plan.end is not None:
                encounters.discharge(
                    self.ledger,
                    encounter_id,
                    disposition=plan.disposition or UnknownDisposition(NO_DISPOSITION),
                    effective_at=plan.end,
                    actor=self.actor,
                    batch=batch,
                )
        imported = ImportedResource.record(
            "Encounter",
            plan.source.id,
            patient_id=patient.id,
            kind="encounter",
            became=str(encounter_id),
            details=plan.details,
            actor=self.actor.name,
        )
        batch.add(imported)
        self._made[encounter_id] = self._made[imported.id] = plan.source
        written = self._add_children(batch, encounter_id, patient, children)
        if children:
            imported.include([c.source.key for c in children], actor=self.actor.name)
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
            batch = self._batch()
            encounter_id = UUID(record.became)
            batch.add(batch.encounter(encounter_id), record)
            written = self._add_children(batch, encounter_id, patient, children)
            record.include([c.source.key for c in children], actor=self.actor.name)
            try:
                self._commit(batch, children[0].source)
            except ConflictError:
                check_each, record = True, None
                continue
            self._count(partial(self._added, written, len(children)))
            return
        raise ConflictError(
            f"The encounter imported from {key} is very busy; some resources were not imported. "
            "Run the import again."
        )

    def _added(self, written: _Written, resources: int) -> None:
        written.count(self.report)
        self._tick(resources)

    def import_history(self, pid: str, children: list[Child]) -> None:
        """The resources of a patient that name no encounter, in one "imported history" one."""
        key = f"Patient/{pid}{HISTORY_SUFFIX}"
        record = self._record(key)
        if record is None:
            patient = self.patients[pid]
            held = [c for c in children if isinstance(c, EntryPlan)]
            start = min(e.effective_at for e in held)
            batch = self._batch()
            with self._for(held[0].source):
                encounter_id = encounters.open_encounter(
                    self.ledger,
                    patient.mrn,
                    encounter_class="outpatient",
                    attending=self.attending,
                    service=HISTORY_SERVICE,
                    effective_at=start,
                    actor=self.actor,
                    batch=batch,
                )
                encounters.discharge(
                    self.ledger,
                    encounter_id,
                    disposition=UnknownDisposition(HISTORY_DISPOSITION),
                    effective_at=start,
                    actor=self.actor,
                    batch=batch,
                )
            imported = ImportedResource.record(
                "Patient",
                pid + HISTORY_SUFFIX,
                patient_id=patient.id,
                kind="history-encounter",
                became=str(encounter_id),
                actor=self.actor.name,
            )
            batch.add(imported)
            written = self._add_children(batch, encounter_id, patient, children)
            imported.include([c.source.key for c in children], actor=self.actor.name)
            try:
                self._commit(batch, held[0].source)
            except ConflictError:
                record = self._record(key)  # another import made it first
                if record is None:
                    raise
            else:
                self._count(partial(self._history_done, written, len(children)))
                return
        self.add_to_existing(key, pid, children, record=record)

    def _history_done(self, written: _Written, resources: int) -> None:
        self.report.history_encounters += 1
        self._added(written, resources)

    def import_loose_document(self, pid: str, document: Child) -> None:
        """A document that names no encounter: filed to the patient, with its record."""
        patient = self.patients[pid]
        for _ in range(_RETRIES):
            if self._exists(document.source):
                self._already(document.source)
                return
            batch = self._batch()
            written = self._add_children(batch, None, patient, [document])
            try:
                self._commit(batch, document.source)
            except ConflictError:
                continue
            self._count(partial(self._added, written, 1))
            return

    def _add_children(
        self,
        batch: Batch,
        encounter_id: UUID | None,
        patient: _PatientRef,
        children: list[Child],
    ) -> _Written:
        """Each child through its command, with its record, added to `batch`."""
        written = _Written()
        for child in children:
            with self._for(child.source):
                if isinstance(child, EntryPlan):
                    assert encounter_id is not None  # noqa: S101 (entries always go into one)
                    entry_id = entries.add_entry(
                        self.ledger,
                        encounter_id,
                        kind=child.kind,
                        text=child.text,
                        fields=child.fields,
                        author=None,  # the interface is the author
                        effective_at=child.effective_at,
                        actor=self.actor,
                        batch=batch,
                    )
                    became, kind = f"{encounter_id}:{entry_id}", "entry"
                    self._made[entry_id] = child.source
                    written.entries[child.kind] += 1
                    details: dict[str, Any] = {}
                else:
                    ids = [
                        str(
                            documents.file_attachment(
                                self.ledger,
                                patient.mrn,
                                attachment.content,
                                filename=attachment.filename,
                                media_type=attachment.media_type,
                                kind=child.kind,
                                actor=self.actor,
                                encounter_id=encounter_id,
                                batch=batch,
                            )
                        )
                        for attachment in child.attachments
                    ]
                    became, kind, details = " ".join(ids), "document", child.details
                    self._made.update((UUID(i), child.source) for i in ids)
                    written.documents += len(ids)
            record = ImportedResource.record(
                child.source.type,
                child.source.id,
                patient_id=patient.id,
                kind=kind,
                became=became,
                details=details,
                actor=self.actor.name,
            )
            batch.add(record)
            self._made[record.id] = child.source
            written.types[child.source.type] += 1
        return written


@dataclass
class _Written:
    """What a batch's children added, counted once it is saved."""

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


def import_fhir(
    ledger: Ledger,
    folder: Path,
    *,
    actor: Identity,
    attending: str,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a FHIR R4 bulk export; each resource once, however often this runs."""
    require(may_import_records(ledger.authenticate(actor).roles))
    export = read_export(folder, progress=progress)
    importer = _Importer(ledger, export, actor=actor, attending=attending, progress=progress)
    with ledger.one_read():  # the plan reads each unchanged record (actor, policy…) once
        importer.resolve_references()
        importer.jobs = []
        _plan(importer, export)
    importer.write()
    return importer.report


def _plan(importer: _Importer, export: Export) -> None:
    """Every resource's job, in the order they are saved: patients, their encounters (by
    start), encounters imported by an earlier run, each patient's history, loose documents."""
    for plan in export.patients.values():
        importer.plan_patient(plan)
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
        importer.plan_encounters(patient_visits)
    for encounter, children in by_encounter.items():  # encounters imported by an earlier run
        key, pid = f"Encounter/{encounter}", children[0].patient
        importer.job(partial(importer.add_to_existing, key, pid, children))
    for pid, children in history.items():
        importer.job(partial(importer.import_history, pid, children))
    for pid, children in loose.items():
        for document in children:
            importer.job(partial(importer.import_loose_document, pid, document))
