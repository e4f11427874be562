"""Reading a FHIR R4 bulk export (NDJSON): every line checked and mapped, nothing written.

`read_export` checks every line of every `*.ndjson` file (JSON, `resourceType`, the
`fhir.resources.R4B` model, then what the import needs: ids, references, times, demographics)
and maps each resource to a plan of what it will become; the first problem raises `UsageError`
naming the file and line. `ledger.interfaces.fhir_import` writes the plans.

What each resource becomes:

- Patient: a patient index entry (`ledger.commands.patients.register_patient`, the next MRN),
  registered with `likely_matches=[]` and no override: duplicate detection against patients
  already in the index is not wired in yet, so a patient already registered by hand is
  registered again. The SSN identifier, if present, becomes the `identifier` demographic.
- Encounter: an encounter. Class IMP/ACUTE/NONAC/SS is inpatient, EMER emergency, any other
  (AMB, HH, VR, ...) outpatient. `period.start` is the admission, `period.end` a discharge with
  the `hospitalization.dischargeDisposition` as a NUBC status (a NUBC coding, an HL7
  discharge-disposition code with a NUBC equivalent, or text that names one); otherwise the
  status is not known (`policies.limits.UnknownDisposition`), in the source's words or "not
  recorded in the FHIR export". A cancelled or entered-in-error encounter without an end is
  closed at its start, its status unknown ("cancelled (FHIR status)"). Practitioners
  are not enrolled users, so the attending is the physician given as the default attending, and the
  source's practitioner is written into the service text ("<type>; practitioner <name>") and, with
  the source's class, type, reason and disposition codes, into the import record's `details`.
- Condition: a `diagnosis` entry when its category is encounter-diagnosis, else `condition`.
  Procedure: `procedure`. MedicationRequest: `medication`. AllergyIntolerance: `allergy`.
  Immunization: `treatment` (a vaccine given; `fields["category"] == "immunization"`).
  Codes go into the entry's `fields` (`system`, `code`, `display`, and `codings` when there are
  several), with `fhir` (TYPE/ID), the statuses, and `practitioner` when the resource names one.
  The entry's author is the interface (`author=None`); `effective_at` is the resource's onset,
  performed, authoredOn, occurrence or recorded time (a date alone is midnight UTC), else its
  encounter's start.
- DocumentReference: each attachment with inline data is base64-decoded and filed as a document
  (LOINC discharge summary, operative, laboratory, imaging, referral and consent notes get that
  kind; everything else `other`); its type, author and date go into the import record's
  `details`, since a filed document has no place for them. One with URLs only becomes a
  `physician-note` entry that records the URLs.
- Practitioner: only read, for the names above.
- Any other type is skipped and counted.

An entry without an encounter (Synthea's allergies) goes into one "imported history" encounter
per patient: outpatient, opened and closed at the earliest time of what it holds, so it never
looks like a current visit. A document without an encounter is filed to the patient alone. A
reference to a patient or encounter that is neither in the export nor imported before is an
error, as is a resource that belongs to another patient than its encounter.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.aggregates.documents import MAX_SIZE
from ledger.aggregates.encounter import check_effective_at
from ledger.errors import UsageError
from ledger.text_checks import check_demographics
from policies.documents import DOCUMENT_KINDS
from policies.limits import UnknownDisposition, discharge_disposition

if TYPE_CHECKING:
    pass

IMPORTED_TYPES = (
    "Patient",
    "Practitioner",
    "Encounter",
    "Condition",
    "Procedure",
    "MedicationRequest",
    "AllergyIntolerance",
    "Immunization",
    "DocumentReference",
)

ENTRY_TYPES = ("Condition", "Procedure", "MedicationRequest", "AllergyIntolerance", "Immunization")

SKIPPED_FILES = frozenset({"log.ndjson"})
"""The bulk-data client's export log sits beside the resource files; it holds no resources."""

INPATIENT_CLASSES = frozenset({"IMP", "ACUTE", "NONAC", "SS"})

EMERGENCY_CLASSES = frozenset({"EMER"})

DOCUMENT_KIND_BY_LOINC = {
    "18842-5": "discharge-summary",
    "11504-8": "operative-report",
    "11502-2": "laboratory-report",
    "18748-4": "imaging-report",
    "57133-1": "referral-letter",
    "59284-0": "consent",
}

NO_DISPOSITION = "not recorded in the FHIR export"
"""The words of an unknown discharge status when the export has no dischargeDisposition."""

NUBC_DISCHARGE = "http://www.nubc.org/patient-discharge"

HL7_DISCHARGE = "http://terminology.hl7.org/CodeSystem/discharge-disposition"

NUBC_BY_HL7_DISCHARGE = {
    "home": "01",
    "aadvice": "07",
    "exp": "20",
    "hosp": "50",
    "rehab": "62",
    "long": "63",
    "psy": "65",
    "snf": "03",
    "other-hcf": "70",
}
"""HL7's discharge-disposition codes that name a NUBC status (`alt-home` and `oth` name none)."""

SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn"

_ID = r"[A-Za-z0-9\-.]{1,64}"

_REFERENCE = re.compile(rf"(?:.*/)?(?P<type>[A-Z][A-Za-z]+)/(?P<id>{_ID})(?:/_history/.*)?")

_URN = re.compile(rf"urn:uuid:(?P<id>{_ID})")

Progress = Callable[[str, int, int], None]
"""`progress(phase, done, total)`: phase "checking" counts lines, "importing" resources."""


# -- what the export holds, checked and mapped ---------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Where a resource came from: its file and line, its type and id."""

    file: str
    line: int
    type: str
    id: str

    @property
    def key(self) -> str:
        return f"{self.type}/{self.id}"

    @property
    def where(self) -> str:
        return f"{self.file} line {self.line}"


@dataclass(frozen=True)
class PatientPlan:
    source: Source
    demographics: dict[str, Any]
    details: dict[str, Any]


@dataclass(frozen=True)
class EncounterPlan:
    source: Source
    patient: str
    encounter_class: str
    service: str
    start: datetime
    end: datetime | None
    disposition: str | UnknownDisposition | None
    """A NUBC status's word, or the status not known, when the encounter has ended."""
    details: dict[str, Any]


@dataclass(frozen=True)
class EntryPlan:
    source: Source
    patient: str
    encounter: str | None
    kind: str
    text: str
    fields: dict[str, Any]
    effective_at: datetime


@dataclass(frozen=True)
class Attachment:
    content: bytes
    media_type: str
    filename: str


@dataclass(frozen=True)
class DocumentPlan:
    source: Source
    patient: str
    encounter: str | None
    kind: str
    attachments: tuple[Attachment, ...]
    details: dict[str, Any]


Child = EntryPlan | DocumentPlan


@dataclass
class Export:
    """A checked export: every resource mapped to what it becomes, grouped for writing."""

    files: list[str] = field(default_factory=list)
    lines: int = 0
    patients: dict[str, PatientPlan] = field(default_factory=dict)
    encounters: dict[str, EncounterPlan] = field(default_factory=dict)
    children: list[Child] = field(default_factory=list)
    practitioners: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    outside_patients: dict[str, str] = field(default_factory=dict)
    """Patients referred to but not in the export (by id: where first referred to)."""
    outside_encounters: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Encounters referred to but not in the export (by id: where first, and whose)."""

    @property
    def resources(self) -> int:
        """Resources to import (practitioners and skipped types not counted)."""
        return len(self.patients) + len(self.encounters) + len(self.children)


class _Invalid(Exception):
    """A line's problem, before the file and line are put in front of it."""


def read_export(
    folder: Path, *, progress: Progress | None = None, now: datetime | None = None
) -> Export:
    """Check and map every resource of every `*.ndjson` file in `folder`; write nothing."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"There is no folder at {folder}.")
    paths = sorted(
        p for p in folder.iterdir() if p.suffix == ".ndjson" and p.name not in SKIPPED_FILES
    )
    if not paths:
        raise UsageError(f"There are no .ndjson files in {folder}.")
    moment = now or datetime.now(UTC)
    export = Export(files=[p.name for p in paths])
    raw: list[tuple[Source, dict[str, Any]]] = []
    contents = []
    for path in paths:
        try:
            contents.append((path.name, path.read_bytes().split(b"\n")))
        except OSError:
            raise UsageError(f"The file {path} cannot be read.") from None
    total = sum(len(lines) for _, lines in contents)
    done = 0
    seen: dict[str, str] = {}
    for name, lines in contents:
        for number, line in enumerate(lines, start=1):
            done += 1
            if progress is not None and (done % 500 == 0 or done == total):
                progress("checking", done, total)
            if not line.strip():
                continue
            export.lines += 1
            resource = _parse_line(name, number, line)
            source = Source(name, number, resource["resourceType"], str(resource.get("id", "")))
            if source.type not in IMPORTED_TYPES:
                export.skipped[source.type] += 1
                continue
            if not source.id:
                raise UsageError(f"{source.where} cannot be imported: it has no id.")
            if source.key in seen:
                raise UsageError(
                    f"{source.where} cannot be imported: {source.key} is also at "
                    f"{seen[source.key]}."
                )
            seen[source.key] = source.where
            raw.append((source, resource))
    names = _practitioner_names(raw)
    export.practitioners = sum(1 for source, _ in raw if source.type == "Practitioner")
    # Patients, then encounters, then what refers to them: references are checked in order.
    for rank in (("Patient",), ("Encounter",), (*ENTRY_TYPES, "DocumentReference")):
        for source, resource in raw:
            if source.type not in rank:
                continue
            try:
                _map(export, source, resource, names, moment)
            except (_Invalid, UsageError) as problem:
                raise UsageError(f"{source.where} cannot be imported: {_clause(problem)}") from None
    return export


def _parse_line(name: str, number: int, line: bytes) -> dict[str, Any]:
    """One line as a resource checked against its R4B model, or a one-sentence UsageError."""
    expected = name.split(".")[0] if name[:1].isupper() else "resource"

    def invalid(what: str, reason: str) -> UsageError:
        return UsageError(f"{name} line {number} is not a valid FHIR {what}: {reason}.")

    try:
        resource = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        raise invalid(expected, "it is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise invalid(expected, f"it is not JSON ({error.msg}, column {error.colno})") from None
    if not isinstance(resource, dict):
        raise invalid(expected, "it is not a JSON object")
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str) or not resource_type:
        raise invalid(expected, "it has no resourceType")
    if resource_type not in IMPORTED_TYPES:
        return resource
    model = _model(resource_type)
    validate = getattr(model, "model_validate", None) or model.parse_obj
    try:
        validate(resource)
    except (ValueError, TypeError) as error:
        raise invalid(resource_type, _model_reason(error)) from None
    return resource


def _model(resource_type: str) -> Any:
    """The `fhir.resources.R4B` model class (imported here: the package is slow to import)."""
    module = importlib.import_module(f"fhir.resources.R4B.{resource_type.lower()}")
    return getattr(module, resource_type)


def _model_reason(error: Exception) -> str:
    """The first problem pydantic found, by location and message (never the value given)."""
    errors = getattr(error, "errors", None)
    found: list[dict[str, Any]] = []
    if callable(errors):
        try:
            found = list(errors())
        except TypeError:
            found = []
    if not found:
        return "it does not match the R4B model"
    first = found[0]
    where = ""
    for part in first.get("loc", ()):
        where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
    message = str(first.get("msg", "invalid")).removeprefix("Value error, ").rstrip(".")
    message = message[:1].lower() + message[1:]
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return f"{where or 'the resource'}: {message[:160]}{more}"


def _clause(problem: Exception) -> str:
    """A sentence as a clause after a colon: first letter lowered, full stop kept once."""
    text = str(problem).strip().rstrip(".")
    if text[:2] != text[:2].upper():  # leave acronyms and ids alone
        text = text[:1].lower() + text[1:]
    return text + "."


# -- mapping -----------------------------------------------------------------------------------


def _map(
    export: Export,
    source: Source,
    resource: dict[str, Any],
    names: dict[str, str],
    now: datetime,
) -> None:
    if source.type == "Patient":
        export.patients[source.id] = _patient(source, resource, now)
    elif source.type == "Encounter":
        export.encounters[source.id] = _encounter(export, source, resource, names, now)
    elif source.type == "DocumentReference":
        export.children.append(_document(export, source, resource, names, now))
    else:
        export.children.append(_entry(export, source, resource, names, now))


def _patient(source: Source, resource: dict[str, Any], now: datetime) -> PatientPlan:
    names = [n for n in resource.get("name", []) if isinstance(n, dict)]
    name = next((n for n in names if n.get("use") == "official"), None) or next(
        (n for n in names if n.get("use") not in ("old", "maiden")), names[0] if names else {}
    )
    demographics: dict[str, Any] = {
        "given_name": " ".join(name.get("given", [])).strip(),
        "family_name": str(name.get("family") or "").strip(),
    }
    if resource.get("birthDate"):
        demographics["birth_date"] = _date(resource["birthDate"])
    if resource.get("gender"):
        demographics["sex"] = resource["gender"]
    address = next(iter(resource.get("address", [])), None)
    if address:
        optional = {
            "street": ", ".join(address.get("line", [])),
            "locality": address.get("city"),
            "postcode": address.get("postalCode"),
            "state": address.get("state"),
        }
        demographics.update({k: v for k, v in optional.items() if v})
    phone = next((t for t in resource.get("telecom", []) if t.get("system") == "phone"), None)
    if phone and phone.get("value"):
        demographics["phone"] = phone["value"]
    ssn = next((i for i in resource.get("identifier", []) if i.get("system") == SSN_SYSTEM), None)
    if ssn and ssn.get("value"):
        demographics["identifier"] = ssn["value"]
    check_demographics(demographics, today=now.date())
    details: dict[str, Any] = {}
    if resource.get("deceasedDateTime"):
        details["deceased_at"] = _time(resource["deceasedDateTime"])
    elif resource.get("deceasedBoolean"):
        details["deceased"] = True
    return PatientPlan(source, demographics, details)


def _encounter(
    export: Export,
    source: Source,
    resource: dict[str, Any],
    names: dict[str, str],
    now: datetime,
) -> EncounterPlan:
    patient = _patient_ref(export, resource.get("subject"), source.where)
    period = resource.get("period") or {}
    if not period.get("start"):
        raise _Invalid("it has no period.start (the admission time)")
    start = _checked_time(period["start"], now, "admission time")
    end = _checked_time(period["end"], now, "discharge time") if period.get("end") else None
    if end is not None and end < start:
        raise _Invalid("its period ends before it starts")
    status = resource.get("status")
    klass = resource.get("class") or {}
    code = str(klass.get("code") or "")
    if code in INPATIENT_CLASSES:
        encounter_class = "inpatient"
    elif code in EMERGENCY_CLASSES:
        encounter_class = "emergency"
    else:
        encounter_class = "outpatient"
    service = (
        _concept_text(resource.get("serviceType"))
        or _concept_text(next(iter(resource.get("type", [])), {}))
        or str(klass.get("display") or "")
        or "unspecified"
    )
    if code and code not in INPATIENT_CLASSES | EMERGENCY_CLASSES | {"AMB"}:
        service += f" [{code}]"
    practitioner = None
    for participant in resource.get("participant", []):
        practitioner = _practitioner(participant.get("individual"), names)
        if practitioner:
            break
    if practitioner:
        service += f"; practitioner {practitioner}"
    hospitalization = resource.get("hospitalization") or {}
    disposition = _disposition(hospitalization.get("dischargeDisposition") or {})
    if end is None and status in ("cancelled", "entered-in-error"):
        end = start
        if isinstance(disposition, UnknownDisposition) and disposition.words == NO_DISPOSITION:
            disposition = UnknownDisposition(f"{status} (FHIR status)")
    details: dict[str, Any] = {
        "fhir": source.key,
        "status": status,
        "class_system": klass.get("system"),
        "class_code": code or None,
        "types": [_codings(t) for t in resource.get("type", [])],
        "reasons": [_concept_text(r) for r in resource.get("reasonCode", [])],
        "practitioner": practitioner,
        "disposition_codes": _codings(hospitalization.get("dischargeDisposition") or {}),
    }
    provider = (resource.get("serviceProvider") or {}).get("display")
    if provider:
        details["service_provider"] = provider
    return EncounterPlan(
        source,
        patient,
        encounter_class,
        service,
        start,
        end,
        disposition if end is not None else None,
        {k: v for k, v in details.items() if v not in (None, [], "")},
    )


def _disposition(concept: dict[str, Any]) -> str | UnknownDisposition:
    """The NUBC status a dischargeDisposition names (its word), or the status not known in the
    source's words (`NO_DISPOSITION` when it has none)."""
    for coding in _coding(concept):
        code, system = str(coding.get("code") or ""), coding.get("system")
        if system == HL7_DISCHARGE:
            code = NUBC_BY_HL7_DISCHARGE.get(code, "")
        elif system != NUBC_DISCHARGE:
            continue
        word = discharge_disposition(code) if code else None
        if word is not None:
            return word
    text = _concept_text(concept)
    word = discharge_disposition(text) if text else None
    if word is not None:
        return word
    return UnknownDisposition(text or NO_DISPOSITION)


def _entry(
    export: Export,
    source: Source,
    resource: dict[str, Any],
    names: dict[str, str],
    now: datetime,
) -> EntryPlan:
    kind = source.type
    patient_field = "patient" if kind in ("AllergyIntolerance", "Immunization") else "subject"
    patient = _patient_ref(export, resource.get(patient_field), source.where)
    encounter = _encounter_ref(export, resource.get("encounter"), patient, source.where)
    fields: dict[str, Any] = {"fhir": source.key}
    times: list[Any] = []
    practitioner: str | None = None
    if kind == "Condition":
        categories = {c.get("code") for cat in resource.get("category", []) for c in _coding(cat)}
        entry_kind = "diagnosis" if "encounter-diagnosis" in categories else "condition"
        concept = resource.get("code") or {}
        times = [
            resource.get("onsetDateTime"),
            (resource.get("onsetPeriod") or {}).get("start"),
            resource.get("recordedDate"),
        ]
        fields["clinical_status"] = _concept_code(resource.get("clinicalStatus"))
        fields["verification_status"] = _concept_code(resource.get("verificationStatus"))
        fields["category"] = ",".join(sorted(c for c in categories if c)) or None
        if resource.get("abatementDateTime"):
            fields["abatement"] = _time(resource["abatementDateTime"])
        if resource.get("recordedDate"):
            fields["recorded"] = _time(resource["recordedDate"])
        practitioner = _practitioner(resource.get("asserter"), names) or _practitioner(
            resource.get("recorder"), names
        )
    elif kind == "Procedure":
        entry_kind = "procedure"
        concept = resource.get("code") or {}
        period = resource.get("performedPeriod") or {}
        times = [resource.get("performedDateTime"), period.get("start")]
        if period.get("end"):
            fields["performed_end"] = _time(period["end"])
        fields["status"] = resource.get("status")
        fields["reasons"] = _reasons(resource)
        for performer in resource.get("performer", []):
            practitioner = _practitioner(performer.get("actor"), names)
            if practitioner:
                break
    elif kind == "MedicationRequest":
        entry_kind = "medication"
        concept = resource.get("medicationCodeableConcept") or {}
        if not concept and resource.get("medicationReference"):
            concept = {"text": (resource["medicationReference"].get("display") or "")}
        times = [resource.get("authoredOn")]
        fields["status"] = resource.get("status")
        fields["intent"] = resource.get("intent")
        fields["dosage"] = _dosage(resource.get("dosageInstruction", []))
        fields["reasons"] = _reasons(resource)
        practitioner = _practitioner(resource.get("requester"), names)
    elif kind == "AllergyIntolerance":
        entry_kind = "allergy"
        concept = resource.get("code") or {}
        times = [
            resource.get("onsetDateTime"),
            (resource.get("onsetPeriod") or {}).get("start"),
            resource.get("recordedDate"),
        ]
        fields["type"] = resource.get("type")
        fields["category"] = ",".join(resource.get("category", [])) or None
        fields["criticality"] = resource.get("criticality")
        fields["clinical_status"] = _concept_code(resource.get("clinicalStatus"))
        fields["verification_status"] = _concept_code(resource.get("verificationStatus"))
        reactions = [
            _concept_text(m)
            for reaction in resource.get("reaction", [])
            for m in reaction.get("manifestation", [])
        ]
        fields["reactions"] = [r for r in reactions if r] or None
        practitioner = _practitioner(resource.get("asserter"), names) or _practitioner(
            resource.get("recorder"), names
        )
    else:  # Immunization: a vaccine given is a treatment
        entry_kind = "treatment"
        concept = resource.get("vaccineCode") or {}
        times = [resource.get("occurrenceDateTime"), resource.get("recorded")]
        fields["category"] = "immunization"
        fields["status"] = resource.get("status")
        if "primarySource" in resource:
            fields["primary_source"] = bool(resource["primarySource"])
        for performer in resource.get("performer", []):
            practitioner = _practitioner(performer.get("actor"), names)
            if practitioner:
                break
    primary = next(iter(_codings(concept)), {})
    fields.update({k: primary.get(k) for k in ("system", "code", "display")})
    if len(_codings(concept)) > 1:
        fields["codings"] = _codings(concept)
    fields["practitioner"] = practitioner
    text = _concept_text(concept) or f"{kind} (no code or text in the export)"
    effective = _effective(export, times, encounter, now)
    return EntryPlan(
        source,
        patient,
        encounter,
        entry_kind,
        text,
        {k: v for k, v in fields.items() if v not in (None, [], "")},
        effective,
    )


def _document(
    export: Export,
    source: Source,
    resource: dict[str, Any],
    names: dict[str, str],
    now: datetime,
) -> Child:
    patient = _patient_ref(export, resource.get("subject"), source.where)
    context = resource.get("context") or {}
    first = next(iter(context.get("encounter", [])), None)
    encounter = _encounter_ref(export, first, patient, source.where)
    doc_type = resource.get("type") or {}
    codes = _codings(doc_type)
    loinc = [c["code"] for c in codes if c.get("code") in DOCUMENT_KIND_BY_LOINC]
    kind = DOCUMENT_KIND_BY_LOINC[loinc[0]] if loinc else "other"
    assert kind in DOCUMENT_KINDS  # noqa: S101 (a constant's invariant)
    practitioner = None
    for author in resource.get("author", []):
        practitioner = _practitioner(author, names)
        if practitioner:
            break
    when = resource.get("date") or (context.get("period") or {}).get("start")
    title = _concept_text(doc_type) or "document"
    details: dict[str, Any] = {
        "fhir": source.key,
        "status": resource.get("status"),
        "types": codes,
        "practitioner": practitioner,
        "date": _time(when) if when else None,
    }
    details = {k: v for k, v in details.items() if v not in (None, [], "")}
    attachments = []
    urls = []
    for number, content in enumerate(resource.get("content", []), start=1):
        attachment = content.get("attachment") or {}
        if attachment.get("data"):
            try:
                data = base64.b64decode(attachment["data"], validate=True)
            except (binascii.Error, ValueError):
                raise _Invalid(f"attachment {number} is not valid base64") from None
            if len(data) > MAX_SIZE:
                raise _Invalid(f"attachment {number} is larger than {MAX_SIZE // 2**20} MiB")
            media_type = str(attachment.get("contentType") or "application/octet-stream")
            stem = _slug(title) + (f"-{when[:10]}" if when else "")
            suffix = ".txt" if media_type.startswith("text/plain") else ".bin"
            number_part = f"-{number}" if len(resource.get("content", [])) > 1 else ""
            attachments.append(Attachment(data, media_type, f"{stem}{number_part}{suffix}"))
        elif attachment.get("url"):
            urls.append(str(attachment["url"]))
    if attachments:
        return DocumentPlan(source, patient, encounter, kind, tuple(attachments), details)
    fields = {
        "fhir": source.key,
        "urls": urls or None,
        "status": resource.get("status"),
        "practitioner": practitioner,
    }
    primary = next(iter(codes), {})
    fields.update({k: primary.get(k) for k in ("system", "code", "display")})
    effective = _effective(export, [when], encounter, now)
    text = f"{title} (not imported: {'held at a URL' if urls else 'no content in the export'})"
    return EntryPlan(
        source,
        patient,
        encounter,
        "physician-note",
        text,
        {k: v for k, v in fields.items() if v not in (None, [], "")},
        effective,
    )


def _effective(
    export: Export, times: Iterable[Any], encounter: str | None, now: datetime
) -> datetime:
    for value in times:
        if value:
            return _checked_time(value, now, "effective time")
    if encounter is not None and encounter in export.encounters:
        return export.encounters[encounter].start
    raise _Invalid("it gives no time (onset, performed, authored, occurrence or recorded)")


def _reference(value: Any, resource_type: str) -> str | None:
    if not isinstance(value, dict) or not value.get("reference"):
        return None
    ref = str(value["reference"])
    urn = _URN.fullmatch(ref)
    if urn:
        return urn["id"]
    found = _REFERENCE.fullmatch(ref)
    if not found or found["type"] != resource_type:
        raise _Invalid(f"its reference '{ref}' is not a {resource_type}/ID reference")
    return found["id"]


def _patient_ref(export: Export, value: Any, where: str) -> str:
    patient = _reference(value, "Patient")
    if patient is None:
        raise _Invalid("it names no patient")
    if patient not in export.patients:  # must have been imported before: checked at the start
        export.outside_patients.setdefault(patient, where)
    return patient


def _encounter_ref(export: Export, value: Any, patient: str, where: str) -> str | None:
    encounter = _reference(value, "Encounter")
    if encounter is None:
        return None
    plan = export.encounters.get(encounter)
    if plan is None:  # must have been imported before: checked at the start
        export.outside_encounters.setdefault(encounter, (where, patient))
    elif plan.patient != patient:
        raise _Invalid(f"it refers to Encounter/{encounter}, which is another patient's")
    return encounter


def _practitioner_names(raw: list[tuple[Source, dict[str, Any]]]) -> dict[str, str]:
    """Names by "Practitioner/ID" and by "SYSTEM|VALUE" of each identifier."""
    names: dict[str, str] = {}
    for source, resource in raw:
        if source.type != "Practitioner":
            continue
        name = _human_name(resource.get("name", []))
        if not name:
            continue
        names[source.key] = name
        for identifier in resource.get("identifier", []):
            if identifier.get("value"):
                names[f"{identifier.get('system', '')}|{identifier['value']}"] = name
    return names


def _practitioner(value: Any, names: dict[str, str]) -> str | None:
    """A practitioner's name from a reference: by id, by identifier, else its display."""
    if not isinstance(value, dict):
        return None
    ref = str(value.get("reference") or "")
    found: str | None = None
    if ref.startswith("Practitioner?identifier="):
        found = names.get(ref.removeprefix("Practitioner?identifier="))
    elif ref:
        match = _REFERENCE.fullmatch(ref)
        if match and match["type"] == "Practitioner":
            found = names.get(f"Practitioner/{match['id']}")
    return found or (str(value["display"]) if value.get("display") else None)


def _human_name(names: list[Any]) -> str:
    for name in names:
        if not isinstance(name, dict):
            continue
        if name.get("text"):
            return str(name["text"])
        parts = [*name.get("prefix", []), *name.get("given", []), name.get("family") or ""]
        text = " ".join(str(p) for p in parts if p)
        if text:
            return text
    return ""


def _coding(concept: Any) -> list[dict[str, Any]]:
    if not isinstance(concept, dict):
        return []
    return [c for c in concept.get("coding", []) if isinstance(c, dict)]


def _codings(concept: Any) -> list[dict[str, str]]:
    return [
        {k: str(c[k]) for k in ("system", "code", "display") if c.get(k)} for c in _coding(concept)
    ]


def _concept_text(concept: Any) -> str:
    if not isinstance(concept, dict):
        return ""
    if concept.get("text"):
        return str(concept["text"]).strip()
    for coding in _coding(concept):
        if coding.get("display") or coding.get("code"):
            return str(coding.get("display") or coding.get("code")).strip()
    return ""


def _concept_code(concept: Any) -> str | None:
    return next((str(c["code"]) for c in _coding(concept) if c.get("code")), None)


def _reasons(resource: dict[str, Any]) -> list[str]:
    texts = [_concept_text(r) for r in resource.get("reasonCode", [])]
    texts += [str(r.get("display") or "") for r in resource.get("reasonReference", [])]
    return [t for t in texts if t]


def _dosage(instructions: list[Any]) -> str | None:
    parts = []
    for dosage in instructions:
        if dosage.get("text"):
            parts.append(str(dosage["text"]))
            continue
        repeat = ((dosage.get("timing") or {}).get("repeat")) or {}
        rates: list[dict[str, Any]] = dosage.get("doseAndRate", [])
        dose: dict[str, Any] = next(iter(rates), {}).get("doseQuantity") or {}
        text = " ".join(
            p
            for p in (
                f"{dose.get('value')} {dose.get('unit') or ''}".strip() if dose else "",
                f"{repeat.get('frequency')} per {repeat.get('period')} {repeat.get('periodUnit')}"
                if repeat.get("frequency")
                else "",
                "as needed" if dosage.get("asNeededBoolean") else "",
            )
            if p
        )
        if text:
            parts.append(text)
    return "; ".join(parts) or None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "document"


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value[:10]) if len(value) >= 10 else date(int(value[:4]), 1, 1)
    except ValueError:
        raise _Invalid(f"'{value}' is not a date") from None


def _time(value: str) -> datetime:
    """A FHIR date or dateTime as an aware datetime; a date alone (or year, month) is 00:00 UTC."""
    text = str(value)
    try:
        if "T" not in text:
            parts = [int(p) for p in text.split("-")] + [1, 1]
            return datetime(parts[0], parts[1], parts[2], tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _Invalid(f"'{text}' is not a date and time") from None
    if moment.tzinfo is None:
        raise _Invalid(f"'{text}' has no time zone")
    return moment


def _checked_time(value: str, now: datetime, what: str) -> datetime:
    moment = _time(value)
    check_effective_at(moment, now=now, what=what)
    return moment
