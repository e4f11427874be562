"""HCPCS Level II 2025, valid by its added and termination dates (ledger.coding.hcpcs)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from ledger.coding import hcpcs
from ledger.errors import UsageError


def one_sentence(message: str) -> None:
    assert "\n" not in message and message.endswith(".")
    assert not re.search(r"[.!?]\s+[A-Z]", message[:-1]), message


def refusal(code: str, on: date) -> str:
    with pytest.raises(UsageError) as refused:
        hcpcs.check_hcpcs(code, on=on)
    one_sentence(str(refused.value))
    return str(refused.value)


def test_active_codes_on_1_january_2025() -> None:
    # the figure CMS's file gives (7,114 procedure/supply codes and 363 modifiers)
    assert hcpcs.active_on(date(2025, 1, 1)) == 7_477


def test_modifier_jg_was_discontinued_at_the_end_of_2024() -> None:
    found = hcpcs.check_hcpcs("jg", on=date(2024, 12, 31))
    assert found.kind == "modifier" and found.terminated == date(2024, 12, 31)
    assert "discontinued after 2024-12-31" in refusal("JG", date(2025, 1, 1))
    assert "discontinued" in refusal("JG", date(2025, 1, 2))


def test_a_code_added_for_2025() -> None:
    found = hcpcs.check_hcpcs("A9615", on=date(2025, 1, 1))
    assert found.added == date(2025, 1, 1) and found.kind == "procedure"
    assert "was added on 2025-01-01" in refusal("A9615", date(2024, 12, 31))


def test_a_cpt_code_is_not_carried() -> None:
    assert "CPT codes are not carried" in refusal("99213", date(2025, 1, 1))
    assert hcpcs.lookup("99213") is None
