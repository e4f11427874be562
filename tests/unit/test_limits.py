"""policies/limits: bounded, printable text; finite numbers; closed dispositions; safe cells."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies.limits import (
    DEFAULT_LIMITS,
    Limits,
    argument_problem,
    csv_cell,
    discharge_disposition,
    escape,
    finite_decimal,
    text_problem,
)


@pytest.mark.parametrize("bad", ["a\nb", "a\x00b", "a\x1b[2Jb", "a\tb", "a\x7fb", "a\x85b"])
def test_one_line_fields_refuse_control_characters(bad: str) -> None:
    problem = text_problem(bad, what="the family name", limit=100)
    assert (
        problem == "The family name contains a control character (one line of printable text only)."
    )


def test_multi_line_texts_keep_newlines_and_tabs_but_no_other_control() -> None:
    assert text_problem("line 1\n\tline 2", what="the text", limit=100, multiline=True) is None
    assert text_problem("a\x1bb", what="the text", limit=100, multiline=True) is not None
    assert text_problem("a\x00b", what="the text", limit=100, multiline=True) is not None


def test_invalid_utf8_and_length_are_one_sentence_without_the_value() -> None:
    assert text_problem("x\udcff", what="the reason", limit=10) == (
        "The reason is not valid UTF-8 text."
    )
    long = "secret" * 10
    problem = text_problem(long, what="the reason", limit=10)
    assert problem == "The reason is longer than 10 characters."
    assert "secret" not in problem
    assert text_problem("Okafor", what="the name", limit=10) is None


def test_arguments_with_surrogates_or_nul_are_refused() -> None:
    assert argument_problem("\udcff") is not None
    assert argument_problem("a\x00") is not None
    assert argument_problem("two\nlines\tok") is None


@pytest.mark.parametrize("value", ["NaN", "nan", "Infinity", "-inf", "sNaN", "abc", ""])
def test_non_finite_numbers_are_a_sentence(value: str) -> None:
    assert isinstance(finite_decimal(value, what="the fee"), str)


def test_finite_numbers_pass() -> None:
    assert str(finite_decimal("12.50", what="the fee")) == "12.50"


def test_escape_makes_controls_visible_and_keeps_plain_text() -> None:
    assert escape("Ada Okafor") == "Ada Okafor"
    assert escape("Ada\nMRN: MR9") == "Ada\\nMRN: MR9"
    assert escape("\x1b[31mred") == "\\x1b[31mred"
    assert escape("evil\u202egnp.exe") == "evil\\u202egnp.exe"
    assert escape("Zoë 李") == "Zoë 李"
    assert escape(None) == ""


@given(st.text())
def test_escaped_text_is_one_printable_line(value: str) -> None:
    out = escape(value)
    assert "\n" not in out and "\r" not in out and "\x1b" not in out
    assert argument_problem(out) is None


@pytest.mark.parametrize("cell", ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_neutralised(cell: str) -> None:
    assert csv_cell(cell) == "'" + cell


def test_other_cells_are_left_alone() -> None:
    assert csv_cell("Okafor") == "Okafor"
    assert csv_cell(3) == 3
    assert csv_cell("") == ""


@pytest.mark.parametrize(
    ("given_", "word"),
    [
        ("home", "home"),
        ("01", "home"),
        ("1", "home"),
        ("20", "expired"),
        ("Expired", "expired"),
        ("snf", "skilled-nursing-facility"),
        ("21", "law-enforcement"),
    ],
)
def test_dispositions_are_nubc_codes_or_their_words(given_: str, word: str) -> None:
    assert discharge_disposition(given_) == word


@pytest.mark.parametrize("bad", ["moon", "", "99", "home\nx", "08"])
def test_other_dispositions_are_refused(bad: str) -> None:
    assert discharge_disposition(bad) is None


def test_limits_from_the_policy_and_their_checks() -> None:
    assert Limits.from_mapping({}) == DEFAULT_LIMITS
    limits = Limits.from_mapping({"limits": {"text_chars": 10, "document_bytes": 1024}})
    assert limits.text_chars == 10 and limits.document_bytes == 1024
    assert limits.name_chars == DEFAULT_LIMITS.name_chars
    for bad in (
        {"text_chars": 0},
        {"text_chars": "10"},
        {"text_chars": True},
        {"text_chars": 10**9},
        {"pages": 3},
    ):
        with pytest.raises(ValueError, match=r"\[limits\]"):
            Limits.from_mapping({"limits": bad})
