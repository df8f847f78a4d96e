"""Can this environment run ragstage? Import every module of the package and say which cannot.

Set-up runs this last (`python -m ragstage.install_check`), so a dependency missing from the
environment (such as greenlet after SQLAlchemy 2.1 stopped installing it) stops set-up with the
real import error instead of surfacing as a traceback after "set-up finished".
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import traceback
from collections.abc import Iterator

import ragstage

# `python -m` entry points run their command when imported; they are checked through their package.
_ENTRY_POINTS = ("__main__",)


def module_names() -> Iterator[str]:
    """Every module of the ragstage package, parents before children."""
    yield ragstage.__name__
    for info in pkgutil.walk_packages(ragstage.__path__, prefix=f"{ragstage.__name__}."):
        if info.name.rsplit(".", 1)[-1] not in _ENTRY_POINTS:
            yield info.name


def import_failures() -> dict[str, BaseException]:
    """Module name -> the exception its import raised."""
    failures: dict[str, BaseException] = {}
    for name in module_names():
        try:
            importlib.import_module(name)
        except Exception as err:  # noqa: BLE001 - every failure is reported, none is fatal here
            failures[name] = err
    return failures


def main() -> int:
    failures = import_failures()
    for name, err in failures.items():
        print(f"ragstage: cannot import {name}:", file=sys.stderr)
        traceback.print_exception(err, limit=-3, file=sys.stderr)
    if failures:
        print(
            "ragstage: this environment lacks what the app imports. Re-run `python3 scripts/setup.py`; "
            "if it persists, a dependency is missing from pyproject.toml / requirements/*.lock.",
            file=sys.stderr,
        )
        return 1
    print(f"ragstage: all {sum(1 for _ in module_names())} modules import.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
