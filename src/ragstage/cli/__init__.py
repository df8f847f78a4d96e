"""The `ragstage` command. Each sub-command lives in its own module that registers itself.

Exit codes: 0 success, 1 the work failed (e.g. a model server error), 2 bad arguments or a
missing path (one-line message on stderr).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

# sub-command name -> module under ragstage.cli exposing `register(subparsers)`; each
# registered parser sets `handler=callable(args) -> int` with set_defaults.
COMMAND_MODULES: dict[str, str] = {
    "index": "knowledge_commands",
    "search": "knowledge_commands",
    "models": "model_commands",
    "ask": "ask_command",
    "bench": "bench_commands",
    "eval": "bench_commands",
    "settings": "settings_command",
}


class UsageError(Exception):
    """Bad arguments or a missing path: reported in one line, exit code 2."""


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints usage and exits 2; keep it one line
        self.exit(2, f"ragstage: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="ragstage", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)
    for module_name in dict.fromkeys(COMMAND_MODULES.values()):
        try:
            module = importlib.import_module(f"ragstage.cli.{module_name}")
        except ModuleNotFoundError as err:
            if err.name != f"ragstage.cli.{module_name}":
                raise
            continue  # a sub-command still being built
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except UsageError as err:
        print(f"ragstage: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ragstage: interrupted", file=sys.stderr)
        return 130
