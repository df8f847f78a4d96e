"""What the code imports is declared, and what is declared is locked.

The test environment holds more than the app's (the test extra pulls in greenlet, for one), so
an undeclared import can pass every other test and still crash a user's `scripts/run.sh`. These
checks read the source and the lock files; tests/e2e/test_runtime_environment.py runs the app in
an environment built from the runtime lock alone.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
LOCKS = ROOT / "requirements"


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _guarded_by_import_error(node: ast.Try) -> bool:
    names = []
    for handler in node.handlers:
        kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        names += [kind.id for kind in kinds if isinstance(kind, ast.Name)]
    return bool({"ImportError", "ModuleNotFoundError"} & set(names))


def required_imports(path: Path) -> set[str]:
    """Top-level module names a file imports unconditionally (an import guarded by
    `except ImportError` is optional and does not count)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    optional = {id(n) for t in ast.walk(tree) if isinstance(t, ast.Try) and _guarded_by_import_error(t)
                for stmt in t.body for n in ast.walk(stmt)}
    names = set()
    for node in ast.walk(tree):
        if id(node) in optional:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def third_party_imports() -> dict[str, set[str]]:
    """Distribution -> the files importing it, for everything the app's code imports."""
    files = [ROOT / "app.py", *sorted((ROOT / "src").rglob("*.py"))]
    owners = metadata.packages_distributions()
    found: dict[str, set[str]] = {}
    for path in files:
        for module in required_imports(path) - set(sys.stdlib_module_names) - {"ragstage"}:
            for dist in owners.get(module, [f"<no installed distribution provides {module!r}>"]):
                found.setdefault(normalize(dist), set()).add(str(path.relative_to(ROOT)))
    return found


def declared(group: list[str]) -> dict[str, Requirement]:
    return {normalize(req.name): req for req in map(Requirement, group)}


def locked_versions(lock: Path) -> dict[str, set[str]]:
    """Package -> pinned versions (a universal lock may pin two, for different Pythons)."""
    pins: dict[str, set[str]] = {}
    for name, version in re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", lock.read_text(), re.M):
        pins.setdefault(normalize(name), set()).add(version)
    return pins


RUNTIME = declared(PYPROJECT["project"]["dependencies"])
TEST_EXTRA = declared(PYPROJECT["project"]["optional-dependencies"]["test"])


def test_every_module_the_app_imports_is_a_declared_runtime_dependency():
    undeclared = {dist: files for dist, files in third_party_imports().items() if dist not in RUNTIME}
    assert not undeclared, f"imported but not in [project] dependencies: {undeclared}"


@pytest.mark.parametrize(("lock", "groups"), [("runtime.lock", [RUNTIME]), ("test.lock", [RUNTIME, TEST_EXTRA])])
def test_every_declared_dependency_is_pinned_in_the_lock_within_its_range(lock, groups):
    pins = locked_versions(LOCKS / lock)
    for group in groups:
        for name, req in group.items():
            assert name in pins, f"{name} is declared in pyproject.toml but not in {lock}: run scripts/lock.py"
            for version in pins[name]:
                assert req.specifier.contains(version, prereleases=True), f"{lock} pins {name}=={version}, outside {req}"


def test_tests_run_on_the_same_versions_users_get():
    runtime, test = locked_versions(LOCKS / "runtime.lock"), locked_versions(LOCKS / "test.lock")
    differing = {name: (runtime[name], test[name]) for name in runtime if test.get(name) != runtime[name]}
    assert not differing, f"test.lock differs from runtime.lock: {differing}"


def test_the_chat_history_layer_gets_its_async_driver_support():
    # SQLAlchemy 2.1 no longer installs greenlet by itself; Chainlit's data layer needs it.
    assert "asyncio" in RUNTIME["sqlalchemy"].extras
    assert "greenlet" in locked_versions(LOCKS / "runtime.lock")
