"""`ragstage settings`: the effective configuration, or the README table of every setting."""

from __future__ import annotations

import argparse
import json

from ragstage.settings import Settings, settings_table_markdown


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("settings", help="show the effective settings")
    parser.add_argument("--markdown", action="store_true", help="print the README table of all settings")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.markdown:
        print(settings_table_markdown())
    else:
        print(json.dumps(Settings().model_dump(mode="json"), indent=2))
    return 0
