"""`ragstage models [--json]`: which model answers each role, and how it was found.

It resolves the roles exactly as the app does (starting the embedded servers if they are
needed, then stopping them), so what it prints is what a chat would use.
"""

from __future__ import annotations

import argparse
import asyncio
import json

from ragstage.models import EndpointStatus, ModelCatalog
from ragstage.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="show which model serves each role and where it was found")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.set_defaults(handler=run)


async def _statuses(settings: Settings) -> list[EndpointStatus]:
    catalog = ModelCatalog(settings)
    try:
        return await catalog.status()
    finally:
        await catalog.aclose()


def render_text(statuses: list[EndpointStatus]) -> str:
    lines: list[str] = []
    for status in statuses:
        endpoint = status.endpoint
        if endpoint is None:
            lines.append(f"{status.role}: NOT AVAILABLE ({status.wanted_model}, backend setting {status.backend_setting})")
            lines.append(f"    {status.error}")
        else:
            lines.append(f"{status.role}: {endpoint.label()}")
            lines.append(f"    served id {endpoint.model_id} | {endpoint.backend} | {endpoint.base_url}")
        for probe in status.probes:
            lines.append(f"    tried {probe.url}: {probe.reason}")
        if not status.probes and endpoint is not None and endpoint.backend == "embedded":
            lines.append("    tried: no remote endpoint (RAGSTAGE_BACKEND=embedded)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    statuses = asyncio.run(_statuses(Settings()))
    if args.json:
        print(json.dumps({"roles": [status.as_json() for status in statuses]}, indent=2))
    else:
        print(render_text(statuses))
    return 0 if all(status.endpoint is not None for status in statuses) else 1
