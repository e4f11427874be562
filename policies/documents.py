"""Who may file documents to a chart and move a misfiled one, and the kinds a document can be.

Pure: roles in, a `Decision` (with its reason and this policy's version) out. The CLI offers
`DOCUMENT_KIND_CHOICES` as its choices and the `Document` aggregate checks `DOCUMENT_KINDS`, so
the list lives here once.
"""

from __future__ import annotations

from collections.abc import Iterable

from policies.roles import INTERFACE, Decision

POLICY_VERSION = "documents/1"

DOCUMENT_KIND_CHOICES = (
    "consent",
    "release-form",
    "handwritten-note",
    "correspondence",
    "referral-letter",
    "discharge-summary",
    "operative-report",
    "laboratory-report",
    "imaging-report",
    "advance-directive",
    "identification",
    "other",
)
"""What a filed document is, in the order the CLI offers them."""
DOCUMENT_KINDS = frozenset(DOCUMENT_KIND_CHOICES)

FILING_ROLES = frozenset({"technician", "him-director", INTERFACE, "physician", "nurse"})
"""Who files documents to charts (scans, correspondence, an interface's attachments)."""
REFILING_ROLES = frozenset({"technician", "him-director"})
"""Who moves a misfiled document to the chart it belongs in."""


def may_file_documents(roles: Iterable[str]) -> Decision:
    """Registration, HIM and clinical staff (and interfaces) add documents to charts."""
    if FILING_ROLES & set(roles):
        return Decision(True, "registration, HIM and clinical staff file documents", POLICY_VERSION)
    return Decision(False, "your role may not file documents to charts", POLICY_VERSION)


def may_refile_documents(roles: Iterable[str]) -> Decision:
    """Moving a document between charts is HIM work: it changes whose record it is."""
    if REFILING_ROLES & set(roles):
        return Decision(True, "HIM staff move misfiled documents", POLICY_VERSION)
    return Decision(
        False,
        "only technicians or the HIM director move documents between charts",
        POLICY_VERSION,
    )
