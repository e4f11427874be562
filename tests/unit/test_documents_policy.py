"""The documents policy: who files and who moves documents, every role both ways, and the kinds."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ledger.errors import NotAuthorised, require
from policies.documents import (
    DOCUMENT_KIND_CHOICES,
    DOCUMENT_KINDS,
    FILING_ROLES,
    POLICY_VERSION,
    REFILING_ROLES,
    may_file_documents,
    may_refile_documents,
)
from policies.roles import ROLES, Decision


def test_the_kinds_are_listed_once_in_the_order_offered() -> None:
    assert len(DOCUMENT_KIND_CHOICES) == len(set(DOCUMENT_KIND_CHOICES)) == 12
    assert frozenset(DOCUMENT_KIND_CHOICES) == DOCUMENT_KINDS
    assert DOCUMENT_KIND_CHOICES[0] == "consent" and DOCUMENT_KIND_CHOICES[-1] == "other"
    assert {"discharge-summary", "operative-report", "advance-directive"} <= DOCUMENT_KINDS


def test_the_roles_are_roles_the_ledger_knows() -> None:
    assert FILING_ROLES <= ROLES and REFILING_ROLES <= ROLES
    assert REFILING_ROLES <= FILING_ROLES  # who may move a document may file one


@pytest.mark.parametrize("role", sorted(ROLES))
def test_who_files(role: str) -> None:
    decision = may_file_documents([role])
    assert decision.allowed is (role in FILING_ROLES)
    assert decision.policy_version == POLICY_VERSION
    if not decision.allowed:  # the sentence the command has always given
        with pytest.raises(NotAuthorised, match=r"^Your role may not file documents to charts\.$"):
            require(decision)


@pytest.mark.parametrize("role", sorted(ROLES))
def test_who_moves_a_misfiled_document(role: str) -> None:
    decision = may_refile_documents([role])
    assert decision.allowed is (role in {"technician", "him-director"})
    assert decision.policy_version == POLICY_VERSION
    if not decision.allowed:
        assert "only technicians or the HIM director" in decision.reason


@pytest.mark.parametrize("decide", [may_file_documents, may_refile_documents])
def test_no_role_or_an_unknown_one_is_refused_and_one_among_several_is_enough(
    decide: Callable[[list[str]], Decision],
) -> None:
    assert not decide([]).allowed
    assert not decide(["unknown"]).allowed
    assert decide(["coder", "technician"]).allowed


def test_the_cli_offers_the_kinds_listed_here() -> None:
    import click

    from policies.charting import ENTRY_KIND_CHOICES
    from tests.cli.tree import command_at

    def choices(group: str, name: str) -> tuple[str, ...]:
        (kind,) = [p for p in command_at((group, name)).params if p.name == "kind"]
        assert isinstance(kind.type, click.Choice)
        return tuple(kind.type.choices)

    assert choices("chart", "file") == DOCUMENT_KIND_CHOICES
    assert choices("chart", "add") == ENTRY_KIND_CHOICES
