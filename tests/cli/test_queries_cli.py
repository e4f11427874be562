"""`chartledger query …` on every store: a query raised, sent, answered by its physician and
shown; each refusal one sentence, a non-zero exit, and nothing written."""

from __future__ import annotations

import json

import click
import pytest

from cli import queries as cli_queries
from policies.purposes import PURPOSES
from policies.queries import KINDS, YES_NO_BASES
from tests.cli.test_cli import Chartledger
from tests.rawdb import RawDB

QUESTION = "Based on the hemoglobin of 7.1 and the transfusion, what condition is being treated?"
OPTIONS = ["Acute blood loss anemia", "Iron deficiency anemia", "Other", "Clinically undetermined"]


def _options(options: list[str]) -> list[str]:
    return [a for option in options for a in ("--option", option)]


class Stay:
    def __init__(self, run: Chartledger, mrn: str) -> None:
        self.run, self.mrn = run, mrn
        run.enrol("dr2", "physician")
        run.enrol("him1", "him-director")
        out = run("encounter", "admit", mrn, "--attending", "dr1", "--service", "surgery",
                  actor="tech1").output  # fmt: skip
        self.encounter = out.split(" encounter ")[1].split()[0]
        out = run("chart", "add", self.encounter, "--kind", "laboratory-report", "--text",
                  "Hemoglobin 7.1 g/dL", actor="dr1").output  # fmt: skip
        self.entry = out.split()[-1]

    def raise_(self, *extra: str, question: str = QUESTION, options: list[str] = OPTIONS,
               ok: bool = True, actor: str = "coder1") -> str:  # fmt: skip
        return self.run(
            "query", "raise", self.encounter, "--physician", "dr1", "--indicator", self.entry,
            "--question", question, *_options(options), *extra, actor=actor, ok=ok,
        ).output  # fmt: skip

    def raised(self) -> str:
        return self.raise_().split("Raised query ")[1].split()[0]

    def rows(self) -> int:
        return len(RawDB(self.run.store_url).rows())

    def refused(self, *args: str, actor: str, said: str, code: int | None = None) -> str:
        before = self.rows()
        result = self.run(*args, actor=actor, ok=False)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
        assert said in lines[0], lines[0]
        if code is not None:
            assert result.exit_code == code
        assert self.rows() == before
        return lines[0]


@pytest.fixture
def stay(clinic: tuple[Chartledger, str]) -> Stay:
    return Stay(*clinic)


def test_raise_send_answer_and_show(stay: Stay) -> None:
    run = stay.run
    out = stay.raise_()
    assert out.startswith("Raised query ") and f"on encounter {stay.encounter} for dr1." in out
    query = out.split("Raised query ")[1].split()[0]
    out = run("query", "send", query, actor="coder1").output
    assert out.startswith(f"Sent query {query} to dr1; overdue from ")
    listed = run("deficiency", "list", "--physician", "dr1", "--json", actor="tech1").stdout
    assert [r["kind"] for r in json.loads(listed) if r["kind"] == "query"] == ["query"]
    out = run("query", "answer", query, "--choice", "1", actor="dr1").output
    assert out == f"Answered query {query}, signed by dr1.\n"
    listed = run("deficiency", "list", "--physician", "dr1", "--json", actor="tech1").stdout
    assert all(r["kind"] != "query" for r in json.loads(listed))
    rows = json.loads(
        run("query", "list", "--purpose", "operations", "--json", actor="coder1").stdout
    )
    assert [(r["id"], r["mrn"], r["status"]) for r in rows] == [(query, stay.mrn, "answered")]
    assert (
        json.loads(
            run(
                "query", "list", "--open", "--purpose", "operations", "--json", actor="coder1"
            ).stdout
        )
        == []
    )
    shown = run("query", "show", query, "--purpose", "operations", actor="dr1").output
    assert "1. Acute blood loss anemia <- answer" in shown
    assert f"{stay.encounter}:{stay.entry.split(':')[-1]}" in shown
    detail = json.loads(
        run("query", "show", query, "--purpose", "operations", "--json", actor="coder1").stdout
    )
    assert (detail["answer"], detail["choice"], detail["options"]) == (OPTIONS[0], 1, OPTIONS)


def test_a_query_that_mentions_payment_is_one_sentence_and_nothing_written(stay: Stay) -> None:
    line = stay.refused(
        "query", "raise", stay.encounter, "--physician", "dr1", "--indicator", stay.entry,
        "--question", "Which DRG does the anemia support?", *_options(OPTIONS),
        actor="coder1", said="The question mentions 'DRG'", code=2,
    )  # fmt: skip
    assert "never mentions payment" in line


def test_a_query_without_clinically_undetermined_is_refused(stay: Stay) -> None:
    stay.refused(
        "query", "raise", stay.encounter, "--physician", "dr1", "--indicator", stay.entry,
        "--question", QUESTION, *_options(OPTIONS[:3]),
        actor="coder1", said='must include "clinically undetermined"', code=2,
    )  # fmt: skip


def test_a_yes_no_query_needs_its_basis(stay: Stay) -> None:
    yes_no = ["Yes", "No", "Other", "Clinically undetermined"]
    stay.refused(
        "query", "raise", stay.encounter, "--physician", "dr1", "--indicator", stay.entry,
        "--question", "Was the anemia present on admission?", *_options(yes_no),
        "--kind", "yes-no", actor="coder1", said="--basis present-on-admission",
    )  # fmt: skip
    out = stay.raise_("--kind", "yes-no", "--basis", "present-on-admission",
                      question="Was the anemia present on admission?", options=yes_no)  # fmt: skip
    assert out.startswith("Raised query ")


def test_only_the_physician_named_answers(stay: Stay) -> None:
    query = stay.raised()
    stay.refused("query", "answer", query, "--choice", "1", actor="dr1",
                 said="has not been sent yet")  # fmt: skip
    stay.run("query", "send", query, actor="coder1")
    stay.refused("query", "answer", query, "--choice", "1", actor="dr2",
                 said="Only dr1, to whom the query was sent, may answer it.", code=4)  # fmt: skip
    stay.refused("query", "answer", query, "--choice", "1", "--other", "x", actor="dr1",
                 said="(--choice N) or in your own words (--other TEXT)")  # fmt: skip
    stay.refused("query", "answer", query, "--choice", "7", actor="dr1",
                 said="Choose an option from 1 to 4.")  # fmt: skip
    out = stay.run("query", "answer", query, "--other", "Hemodilution", actor="dr1").output
    assert out.startswith(f"Answered query {query}")
    stay.refused("query", "answer", query, "--choice", "1", actor="dr1",
                 said="was already answered by dr1")  # fmt: skip


def test_escalate_and_withdraw(stay: Stay) -> None:
    query = stay.raised()
    stay.run("query", "send", query, actor="coder1")
    stay.refused("query", "escalate", actor="him1", said="Give one query id, or --overdue")
    stay.refused("query", "escalate", query, "--overdue", actor="him1",
                 said="Give one query id, or --overdue")  # fmt: skip
    stay.refused("query", "escalate", "--overdue", actor="coder1",
                 said="Only the HIM director escalates an overdue query.", code=4)  # fmt: skip
    stay.refused("query", "escalate", query, actor="him1", said="is not overdue until")
    before = stay.rows()
    out = stay.run("query", "escalate", "--overdue", actor="him1").output
    assert out == "No query is overdue; nothing was escalated.\n" and stay.rows() == before
    stay.refused("query", "withdraw", query, "--reason", "clarified", actor="dr1",
                 said="Only coder1, who raised the query, or the HIM director")  # fmt: skip
    out = stay.run("query", "withdraw", query, "--reason", "clarified", actor="coder1").output
    assert out == f"Withdrew query {query}.\n"
    stay.refused("query", "send", query, actor="coder1", said="was withdrawn by coder1")


def test_bad_references_are_one_sentence(stay: Stay) -> None:
    stay.refused("query", "send", "nonsense", actor="coder1", said="'nonsense' is not a query id.")
    stay.refused("query", "send", "00000000-0000-4000-8000-000000000000", actor="coder1",
                 said="There is no physician query")  # fmt: skip
    stay.refused(
        "query", "raise", stay.encounter, "--physician", "dr1", "--indicator", "nonsense",
        "--question", QUESTION, *_options(OPTIONS), actor="coder1", said="is not a chart entry",
    )  # fmt: skip
    stay.refused(
        "query", "raise", stay.encounter, "--physician", "dr2", "--indicator", stay.entry,
        "--question", QUESTION, *_options(OPTIONS), actor="coder1", said="not the attending",
    )  # fmt: skip


def test_the_cli_offers_exactly_the_policys_choices() -> None:
    def choices(command: click.Command, option: str) -> list[str]:
        (param,) = [p for p in command.params if p.name == option]
        assert isinstance(param.type, click.Choice)
        return list(param.type.choices)

    assert choices(cli_queries.raise_, "kind") == list(KINDS)
    assert choices(cli_queries.raise_, "basis") == list(YES_NO_BASES)
    assert choices(cli_queries.list_queries, "purpose") == list(PURPOSES)
    assert choices(cli_queries.show, "purpose") == list(PURPOSES)
