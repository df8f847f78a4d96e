"""`ragstage models [--json]`: which model answers each role, and how it was found;
`ragstage models build-onnx [--role R] [--browser]`: convert GGUF models for ONNX Runtime.

It resolves the roles exactly as the app does (starting the embedded servers if they are
needed, then stopping them), so what it prints is what a chat would use.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from pathlib import Path

from ragstage.cli import UsageError
from ragstage.models import ROLES, EndpointStatus, ModelCatalog
from ragstage.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="show which model serves each role and where it was found")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.set_defaults(handler=run)
    actions = parser.add_subparsers(dest="models_action", required=False)
    build = actions.add_parser(
        "build-onnx", help="convert a role's GGUF into an ONNX Runtime model (opt-in; minutes, once per machine)",
        description="Convert GGUF models into ONNX Runtime GenAI models (int4) in RAGSTAGE_ONNX_DIR, with "
        "torch and transformers in a separate tools environment. Idempotent: a finished conversion is kept.",
    )
    build.add_argument("--role", choices=[*ROLES, "all"], help="the role whose GGUF to convert for the CPU "
                       "(default: every role, unless --browser alone is given)")
    build.add_argument("--browser", action="store_true", help="also convert the browser tab's model (SmolLM2-135M) "
                       "for WebGPU, and for the CPU (the ONNX Runtime server engine and the integration tests)")
    build.set_defaults(handler=run_build_onnx)


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


def _conversions(args: argparse.Namespace, settings: Settings) -> list[tuple[str, Path, str]]:
    """(what, GGUF, target) for each conversion asked for."""
    from ragstage.models.engines import in_tab_gguf
    from ragstage.models.weights import WeightsError, embedded_spec

    if args.role == "all" or (args.role is None and not args.browser):
        roles = list(ROLES)
    else:
        roles = [args.role] if args.role else []
    try:
        jobs = [(f"{role} model", embedded_spec(role, settings).path, "cpu") for role in roles]
        if args.browser:
            jobs += [("browser tab model", in_tab_gguf(), "webgpu"), ("browser tab model", in_tab_gguf(), "cpu")]
    except WeightsError as err:
        raise UsageError(str(err)) from None
    return jobs


def run_build_onnx(args: argparse.Namespace) -> int:
    from ragstage.models.onnx_build import ConversionError, build_onnx

    settings = Settings()
    for what, gguf, target in _conversions(args, settings):
        print(f"build-onnx: {what}: {gguf.name} for ONNX Runtime ({target})", flush=True)
        try:
            model = build_onnx(gguf, settings.onnx_dir, target, lambda text: print(f"build-onnx:   {text}", flush=True))
        except ConversionError as err:
            print(f"ragstage: build-onnx failed: {err}", file=sys.stderr)
            return 1
        size_mb = sum(model.files().values()) / 1e6
        print(f"build-onnx: {what}: ready, {size_mb:.0f} MB in {model.folder}", flush=True)
    return 0
