"""Every read model is in `projections.views.every_view`, names the tables it makes (so
`upgrade` can rebuild it), and a fresh ledger records each view's version."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import ledger
import projections
from ledger.follower import Follower, view_version
from projections.views import every_view
from tests.conftest import Hospital


def _view_classes() -> set[type]:
    found: set[type] = set()
    for package in (ledger, projections):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            for _, cls in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
                has = all(callable(getattr(cls, m, None)) for m in ("create_tables", "apply"))
                if (
                    has
                    and isinstance(getattr(cls, "name", None), str)
                    and cls.__module__ == module.name
                ):
                    found.add(cls)
    return found


def test_every_view_is_listed_for_upgrade(hospital: Hospital) -> None:
    assert {type(v) for v in every_view(hospital.ledger.db)} == _view_classes()


def test_each_view_names_exactly_the_tables_it_makes(hospital: Hospital) -> None:
    db = hospital.ledger.db

    def tables() -> set[str]:
        with db.transaction(commit=False) as cur:
            if db.is_postgres:
                cur.execute(
                    "SELECT table_name AS name FROM information_schema.tables "
                    "WHERE table_schema = ?",
                    (db.store.schema,),
                )
            else:
                cur.execute("SELECT name FROM sqlite_master WHERE type='table'")
            return {str(r["name"]) for r in cur.fetchall()}

    for view in every_view(db):
        before = tables()
        Follower(hospital.ledger, [view])
        made = tables() - before
        assert made in (set(), set(view.tables)), view.name  # set(): made earlier, at init
        assert set(view.tables) <= tables(), view.name
        assert db.tables_version(view.name) == view_version(view)
