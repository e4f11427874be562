"""The layers of the house, read from every module's imports (also those inside functions).

`policies/` (pure rules) < `ledger/` < `projections/` < `cli/` (thin): a layer imports only the
layers below it, and `policies/` nothing of ours at all, only the standard library and its pure
libraries. Modules below `cli/` do no work at import time beyond definitions.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("policies", "ledger", "projections", "cli")
BELOW: dict[str, frozenset[str]] = {
    "policies": frozenset(),
    "ledger": frozenset({"policies"}),
    "projections": frozenset({"policies", "ledger"}),
    "cli": frozenset({"policies", "ledger", "projections"}),
}
PURE_LIBRARIES = frozenset({"jellyfish", "rapidfuzz"})
"""What `policies/` may import besides the standard library: string matching, no I/O."""


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int

    def __str__(self) -> str:
        return f"{self.importer} (line {self.line}) imports {self.imported}"


def modules(root: Path) -> dict[str, Path]:
    """Every module of our packages under `root`, by dotted name."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: set[str] | dict[str, Path]) -> list[Import]:
    """What a module imports, anywhere in it; `from a import b` names `a.b` when it is a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(name, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                target = f"{base}.{alias.name}"
                found.append(Import(name, target if target in known else base, node.lineno))
    return found


def layer_violations(root: Path) -> list[str]:
    """Every import that goes up a layer, or out of `policies/` to anything not pure."""
    known = modules(root)
    problems: list[str] = []
    for name, path in known.items():
        layer = name.split(".")[0]
        for item in imports(name, path, known):
            top = item.imported.split(".")[0]
            if top in PACKAGES and top != layer and top not in BELOW[layer]:
                problems.append(f"{item}: {layer}/ must not import {top}/")
            elif layer == "policies" and top not in PACKAGES:
                if top not in sys.stdlib_module_names and top not in PURE_LIBRARIES:
                    problems.append(f"{item}: policies/ imports only pure libraries")
    return sorted(problems)


def import_time_work(root: Path) -> list[str]:
    """Top-level statements of `policies/`, `ledger/` and `projections/` that are not definitions
    (imports, functions, classes, assignments, docstrings, `if TYPE_CHECKING:`)."""
    problems: list[str] = []
    for name, path in modules(root).items():
        if name.startswith("cli"):
            continue  # the CLI registers its commands when imported: that is its definition
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in tree.body:
            if isinstance(
                node,
                ast.Import
                | ast.ImportFrom
                | ast.FunctionDef
                | ast.AsyncFunctionDef
                | ast.ClassDef
                | ast.Assign
                | ast.AnnAssign,
            ):
                continue
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                continue
            if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
                continue
            problems.append(f"{name} (line {node.lineno}) does work at import time")
    return problems


VERIFIER = "ledger.verifier"
VERIFIER_MAY_USE = ("ledger.verifier", "ledger.errors", "policies")
"""Of ours, the offline verifier's import closure holds only itself, the errors and the rules."""
WRITE_SIDE_LIBRARIES = (
    "eventsourcing.application",
    "eventsourcing.sqlite",
    "eventsourcing.postgres",
    "psycopg",
    "sqlite3",
)


def closure(root: Path, start: str) -> dict[str, Import]:
    """Every module the modules of package `start` import, transitively (with one import that
    brings each in, to name in a failure); a module brings in its parent packages too."""
    known = modules(root)
    seen: dict[str, Import] = {}
    todo = [name for name in known if name == start or name.startswith(start + ".")]
    for name in todo:
        seen[name] = Import(name, name, 0)
    while todo:
        name = todo.pop()
        for item in imports(name, known[name], known):
            parts = item.imported.split(".")
            for depth in range(1, len(parts) + 1):
                target = ".".join(parts[:depth])
                if target not in seen:
                    seen[target] = item
                    if target in known:
                        todo.append(target)
    return seen


def verifier_violations(root: Path) -> list[str]:
    """What the offline verifier reaches of the write side: any module of ours outside it, the
    errors and `policies/`, or a library of applications and stores."""
    problems = []
    for name, item in closure(root, VERIFIER).items():
        ours = name.split(".")[0] in PACKAGES
        allowed = any(name == a or name.startswith(a + ".") for a in VERIFIER_MAY_USE)
        written = any(name == w or name.startswith(w + ".") for w in WRITE_SIDE_LIBRARIES)
        if (ours and not allowed and name != "ledger") or written:
            problems.append(f"{item}: the offline verifier must not reach {name}")
    return sorted(problems)


def _tree(root: Path, files: dict[str, str]) -> Path:
    for package in PACKAGES:
        (root / package).mkdir(parents=True, exist_ok=True)
        (root / package / "__init__.py").write_text("")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_layers_hold() -> None:
    assert layer_violations(ROOT) == []


def test_no_module_below_the_cli_does_work_at_import_time() -> None:
    assert import_time_work(ROOT) == []


def test_an_import_up_a_layer_is_caught_even_inside_a_function(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "ledger/fine.py": "import hashlib\nfrom policies import roles\nfrom ledger import x\n",
            "ledger/x.py": "",
            "ledger/bad.py": "def f():\n    from projections.audit import trail\n",
            "projections/audit.py": "from . import queries\nfrom cli.main import cli\n",
            "projections/queries.py": "from ..ledger import fine\n",
            "policies/roles.py": "import datetime\nimport rapidfuzz\nfrom ledger.errors import E\n",
            "policies/io.py": "import psycopg\n",
            "cli/main.py": "from projections import audit\nfrom policies import roles\n",
        },
    )
    assert layer_violations(root) == [
        "ledger.bad (line 2) imports projections.audit: ledger/ must not import projections/",
        "policies.io (line 1) imports psycopg: policies/ imports only pure libraries",
        "policies.roles (line 3) imports ledger.errors: policies/ must not import ledger/",
        "projections.audit (line 2) imports cli.main: projections/ must not import cli/",
    ]


def test_work_at_import_time_is_caught(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "ledger/ok.py": '"""Doc."""\nif TYPE_CHECKING:\n    import x\nA = 1\n',
            "ledger/busy.py": "import os\nos.makedirs('/tmp/x')\n",
            "cli/main.py": "cli()\n",
        },
    )
    assert import_time_work(root) == ["ledger.busy (line 2) does work at import time"]


def test_the_offline_verifier_imports_nothing_of_the_write_side() -> None:
    assert verifier_violations(ROOT) == []
    reached = closure(ROOT, VERIFIER)
    for entry in ("export", "package", "transcoder"):
        assert f"ledger.verifier.{entry}" in reached


def test_the_offline_verifier_loads_no_aggregate_store_or_application() -> None:
    """At run time too: importing what `verify --export` and `verify --package` run loads no
    aggregate, store, application or `eventsourcing.application`."""
    code = (
        "import sys, ledger.verifier.export, ledger.verifier.package, ledger.verifier.transcoder;"
        "print('\\n'.join(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = set(done.stdout.split())
    ours = {m for m in loaded if m.split(".")[0] in PACKAGES}
    assert ours <= {"ledger", "ledger.errors", "policies", "policies.roles"} | {
        m for m in ours if m.startswith("ledger.verifier")
    }
    assert not loaded & {"eventsourcing.application", "psycopg", "sqlite3"}


def test_a_verifier_that_reaches_the_write_side_is_caught(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "ledger/verifier/__init__.py": "",
            "ledger/verifier/log.py": "from . import keys\nfrom ledger import errors\n",
            "ledger/verifier/keys.py": "def f():\n    from ledger.user import NODE_USER\n",
            "ledger/verifier/export.py": "from eventsourcing.application import Application\n",
            "ledger/errors.py": "",
            "ledger/user.py": "from ledger.application import Ledger\n",
            "ledger/application.py": "",
        },
    )
    assert verifier_violations(root) == [
        "ledger.user (line 1) imports ledger.application: "
        "the offline verifier must not reach ledger.application",
        "ledger.verifier.export (line 1) imports eventsourcing.application: "
        "the offline verifier must not reach eventsourcing.application",
        "ledger.verifier.keys (line 2) imports ledger.user: "
        "the offline verifier must not reach ledger.user",
    ]


def test_the_verifiers_user_topics_are_those_of_the_user_events() -> None:
    """The key rules name the key events by topic (they import no aggregate): the names must
    stay the stored topics of the `User` event classes."""
    from eventsourcing.utils import get_topic

    from ledger.aggregates import user
    from ledger.verifier import identities

    pairs = {
        identities.REGISTERED: user.User.Registered,
        identities.INVITED: user.User.Invited,
        identities.ENROLLED: user.User.Enrolled,
        identities.REINSTATED: user.User.Reinstated,
        identities.KEY_ROTATED: user.User.KeyRotated,
        identities.KEY_REVOKED: user.User.KeyRevoked,
    }
    for topic, cls in pairs.items():
        assert topic == get_topic(cls) == cls.TOPIC
    assert identities.KEY_TOPICS == user.KEY_TOPICS == frozenset(pairs)


SPEC_VERIFIER = ROOT / "tests" / "spec_verifier"
SPEC_LIBRARIES = frozenset({"cryptography", "msgpack"})
"""All the verifier written from docs/format.md may use besides the standard library."""


def spec_verifier_violations(folder: Path) -> list[str]:
    """Every import of a module under `folder` that is neither the standard library nor one of
    `SPEC_LIBRARIES` (a relative import, or any of ours, `tests` included, is a violation)."""
    problems: list[str] = []
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [(alias.name, node.lineno) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [("." * node.level + (node.module or ""), node.lineno)]
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "__import__"
            ) or (isinstance(node, ast.Attribute) and node.attr == "import_module"):
                names = [("<dynamic import>", node.lineno)]
            else:
                continue
            for imported, line in names:
                top = imported.split(".")[0]
                allowed = top in SPEC_LIBRARIES or (
                    top in sys.stdlib_module_names and top != "importlib"
                )
                if imported.startswith(".") or not allowed:
                    problems.append(f"{path.name} (line {line}) imports {imported}")
    return problems


def test_the_spec_verifier_imports_only_the_standard_library_cryptography_and_msgpack() -> None:
    assert (SPEC_VERIFIER / "verify_export.py").is_file()
    assert spec_verifier_violations(SPEC_VERIFIER) == []


def test_a_spec_verifier_that_imports_the_project_is_caught(tmp_path: Path) -> None:
    folder = tmp_path / "spec"
    folder.mkdir()
    (folder / "v.py").write_text(
        "import json, msgpack\nfrom cryptography.exceptions import InvalidSignature\n"
        "from ledger.verifier import envelope\nfrom . import helper\nimport tests.rawdb\n"
        "def f():\n    import policies.roles\n    return __import__('cli')\n",
        encoding="utf-8",
    )
    assert spec_verifier_violations(folder) == [
        "v.py (line 3) imports ledger.verifier",
        "v.py (line 4) imports .",
        "v.py (line 5) imports tests.rawdb",
        "v.py (line 7) imports policies.roles",
        "v.py (line 8) imports <dynamic import>",
    ]


AGGREGATE_ONLY = ("trigger_event", "_create")
"""What only an aggregate's own methods may call (on `self` or `cls`): the aggregate keeps its
invariants, commands call its methods (docs/decisions.md §0)."""


def outside_calls(root: Path) -> list[str]:
    """Every `X.trigger_event(…)` or `X._create(…)` made outside the methods of an aggregate
    class (one whose bases name `Aggregate`): a command calls the aggregate's method instead."""
    problems: list[str] = []
    for name, path in modules(root).items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        inside: set[int] = set()
        for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
            if not any(ast.unparse(base).endswith("Aggregate") for base in cls.bases):
                continue
            for method in cls.body:
                if isinstance(method, ast.FunctionDef):
                    inside |= {id(node) for node in ast.walk(method)}
        for node in ast.walk(tree):
            func = getattr(node, "func", None)
            if isinstance(func, ast.Attribute) and func.attr in AGGREGATE_ONLY:
                if id(node) not in inside:
                    problems.append(f"{name} (line {node.lineno}) calls {func.attr} from outside")
    return sorted(problems)


def rooms_violations(root: Path) -> list[str]:
    """Aggregates import no command, read, interface or application at run time; commands no
    interface. (Under `if TYPE_CHECKING:` a type may be named.)"""
    rules = {
        "ledger.aggregates": ("ledger.commands", "ledger.interfaces", "ledger.reads"),
        "ledger.commands": ("ledger.interfaces",),
    }
    known = modules(root)
    problems: list[str] = []
    for name, path in known.items():
        forbidden = next((v for k, v in rules.items() if name.startswith(k + ".")), None)
        if forbidden is None:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        typing_only = {
            id(n)
            for block in ast.walk(tree)
            if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING"
            for n in ast.walk(block)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and id(node) not in typing_only:
                target = node.module or ""
                if any(target == f or target.startswith(f + ".") for f in forbidden):
                    problems.append(f"{name} (line {node.lineno}) imports {target}")
    return sorted(problems)


def test_only_an_aggregate_triggers_its_events() -> None:
    assert outside_calls(ROOT) == []


def test_the_rooms_hold() -> None:
    assert rooms_violations(ROOT) == []


def test_an_outside_trigger_and_a_command_in_an_aggregate_are_caught(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "ledger/aggregates/thing.py": (
                "from ledger.commands import things\n"
                "class Thing(Aggregate):\n"
                "    def go(self):\n"
                "        self.trigger_event(1)\n"
                "    @classmethod\n"
                "    def make(cls):\n"
                "        return cls._create(1)\n"
            ),
            "ledger/commands/things.py": "def go(thing):\n    thing.trigger_event(1)\n",
        },
    )
    assert outside_calls(root) == [
        "ledger.commands.things (line 2) calls trigger_event from outside"
    ]
    assert rooms_violations(root) == ["ledger.aggregates.thing (line 1) imports ledger.commands"]
