"""The purposes of use a reader declares: the words `--purpose` offers and the access policy
decides on (`policies.access`), listed once here, in the order the CLI shows them.

Imports nothing, so the CLI builds its choices from it at `--help` time. (The purposes of a
release of information, a wider list from the Privacy Rule, are `policies.release.PURPOSES`.)
"""

from __future__ import annotations

PURPOSES = (
    "treatment",
    "payment",
    "operations",
    "legal",
    "patient-request",
    "research",
    "public-health",
)
"""Why someone looks at a chart (recorded with every access)."""
