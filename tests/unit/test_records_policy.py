"""The records department's rules of policies/records.py, each both ways, for every role: who
moves and requests charts, tracks completion, waives, opens and resolves discrepancies."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from policies import records, release
from policies.roles import ROLES, Decision

Rule = Callable[[Iterable[str]], Decision]

WHO: list[tuple[Rule, frozenset[str], str, str]] = [
    (
        records.may_move_charts,
        frozenset({"technician", "him-director"}),
        "the file room moves charts",
        "only technicians or the HIM director move charts",
    ),
    (
        records.may_request_charts,
        frozenset({"technician", "him-director", "physician", "nurse", "coder"}),
        "clinical and HIM staff request charts",
        "your role may not request charts",
    ),
    (
        records.may_track_completion,
        frozenset({"technician", "him-director"}),
        "the records department tracks chart completion",
        "only technicians or the HIM director track chart completion",
    ),
    (
        records.may_waive,
        frozenset({"him-director"}),
        "the HIM director may waive a deficiency",
        "only the HIM director may waive a deficiency the chart still has",
    ),
    (
        records.may_open_discrepancies,
        frozenset({"technician", "him-director", "coder"}),
        "HIM staff and coders report discrepancies",
        "only technicians, coders or the HIM director open discrepancies",
    ),
    (
        records.may_resolve_discrepancies,
        frozenset({"technician", "him-director"}),
        "HIM staff resolve discrepancies",
        "only technicians or the HIM director resolve discrepancies",
    ),
]


@pytest.mark.parametrize(
    ("rule", "allowed", "yes", "no"), WHO, ids=lambda x: getattr(x, "__name__", "")
)
@pytest.mark.parametrize("role", sorted(ROLES))
def test_each_rule_allows_exactly_its_roles_and_says_why(
    rule: Rule, allowed: frozenset[str], yes: str, no: str, role: str
) -> None:
    decision = rule([role])
    assert decision.allowed is (role in allowed)
    assert decision.reason == (yes if role in allowed else no)  # the sentence a user is shown
    assert decision.policy_version == records.POLICY_VERSION


@pytest.mark.parametrize(
    ("rule", "allowed", "yes", "no"), WHO, ids=lambda x: getattr(x, "__name__", "")
)
def test_no_roles_is_refused_and_one_allowed_role_among_others_is_enough(
    rule: Rule, allowed: frozenset[str], yes: str, no: str
) -> None:
    assert not rule([]).allowed
    assert not rule(["wizard"]).allowed
    assert rule(["wizard", *sorted(allowed)[:1]]).allowed
    assert rule(iter(sorted(allowed))).allowed  # any iterable of roles, read once


def test_every_allowed_role_is_a_role() -> None:
    for _, allowed, _, _ in WHO:
        assert allowed <= ROLES


@pytest.mark.parametrize(
    "words",
    [
        records.HOLDER_KINDS,
        records.RECORD_TYPES,
        records.NOTICE_METHODS,
        records.DISCREPANCY_KINDS,
        release.METHODS,
    ],
)
def test_each_vocabulary_is_an_ordered_list_of_distinct_lowercase_words(
    words: tuple[str, ...],
) -> None:
    assert isinstance(words, tuple) and words
    assert len(set(words)) == len(words)
    assert all(w == w.strip().lower() and " " not in w for w in words)


def test_the_people_among_holders_are_holders_and_the_electronic_record_is_no_volume_type() -> None:
    assert records.PERSON_KINDS == {"physician", "person"}
    assert records.PERSON_KINDS < set(records.HOLDER_KINDS)
    assert "electronic" not in records.RECORD_TYPES
