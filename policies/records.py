"""The records department: who moves, requests and routes charts, who tracks completion and
waives a deficiency, who opens and resolves discrepancies, and the words each of those takes.

Pure: roles in, a `Decision` (with its reason and this policy's version) out. The CLI offers
these vocabularies as its choices and the commands check them, so each lives here once.
"""

from __future__ import annotations

from collections.abc import Iterable

from policies.roles import Decision

POLICY_VERSION = "records/1"

# -- chart locations -------------------------------------------------------------------------------

HOLDER_KINDS = ("department", "clinic", "physician", "person")
"""Who or where a chart volume (or the electronic record) goes to."""
PERSON_KINDS = frozenset({"physician", "person"})
"""The holder kinds that are one reader, checked by the access policy before a record is routed."""
RECORD_TYPES = ("medical-record", "radiology", "emergency", "outpatient", "legal-hold", "other")
"""The kinds of physical volume (the electronic record is not one of them)."""
FILE_ROOM_ROLES = frozenset({"technician", "him-director"})
REQUESTER_ROLES = frozenset({"technician", "him-director", "physician", "nurse", "coder"})


def may_move_charts(roles: Iterable[str]) -> Decision:
    """Custody of a volume (and routing the electronic record) is the file room's."""
    if FILE_ROOM_ROLES & set(roles):
        return Decision(True, "the file room moves charts", POLICY_VERSION)
    return Decision(False, "only technicians or the HIM director move charts", POLICY_VERSION)


def may_request_charts(roles: Iterable[str]) -> Decision:
    """Whoever works with charts may ask for one to be pulled."""
    if REQUESTER_ROLES & set(roles):
        return Decision(True, "clinical and HIM staff request charts", POLICY_VERSION)
    return Decision(False, "your role may not request charts", POLICY_VERSION)


# -- chart completion ------------------------------------------------------------------------------

DEFICIENCIES = (
    "history-and-physical",
    "discharge-summary",
    "operative-report",
    "consent",
    "progress-notes",
    "signature",
    "co-signature",
    "query",
)
"""What a chart can lack: the kinds `policies.deficiency` finds, and a resolution names."""
NOTICE_METHODS = ("in-person", "letter", "email", "phone", "inbox")
"""How a physician was told of their open deficiencies."""
TRACKING_ROLES = frozenset({"technician", "him-director"})
WAIVING_ROLES = frozenset({"him-director"})


def may_track_completion(roles: Iterable[str]) -> Decision:
    """Scanning, notifying and resolving deficiencies is the records department's work."""
    if TRACKING_ROLES & set(roles):
        return Decision(True, "the records department tracks chart completion", POLICY_VERSION)
    return Decision(
        False, "only technicians or the HIM director track chart completion", POLICY_VERSION
    )


def may_waive(roles: Iterable[str]) -> Decision:
    """Closing a deficiency the chart still has is the HIM director's call alone."""
    if WAIVING_ROLES & set(roles):
        return Decision(True, "the HIM director may waive a deficiency", POLICY_VERSION)
    return Decision(
        False, "only the HIM director may waive a deficiency the chart still has", POLICY_VERSION
    )


# -- discrepancies ---------------------------------------------------------------------------------

DISCREPANCY_KINDS = ("date-of-birth", "unsupported-diagnosis", "misfiled-document", "other")
OPENING_ROLES = frozenset({"technician", "him-director", "coder"})
RESOLVING_ROLES = frozenset({"technician", "him-director"})


def may_open_discrepancies(roles: Iterable[str]) -> Decision:
    """Whoever reads charts for the record's quality may report facts that disagree."""
    if OPENING_ROLES & set(roles):
        return Decision(True, "HIM staff and coders report discrepancies", POLICY_VERSION)
    return Decision(
        False, "only technicians, coders or the HIM director open discrepancies", POLICY_VERSION
    )


def may_resolve_discrepancies(roles: Iterable[str]) -> Decision:
    """Resolving links the correcting events: HIM staff, who make those corrections."""
    if RESOLVING_ROLES & set(roles):
        return Decision(True, "HIM staff resolve discrepancies", POLICY_VERSION)
    return Decision(
        False, "only technicians or the HIM director resolve discrepancies", POLICY_VERSION
    )
