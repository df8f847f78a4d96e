"""`ragstage bench --engines A,B`: the engine comparison's arguments, run and summary lines."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ragstage.cli import UsageError
from ragstage.evaluation.suites import BenchPrompt
from ragstage.models.engines import ENGINES
from ragstage.models.roles import ROLES, role_config
from ragstage.models.threads import thread_counts
from ragstage.settings import Settings

if TYPE_CHECKING:
    from ragstage.evaluation.engine_bench import EngineBenchPlan
    from ragstage.evaluation.targets import BenchTarget


def _engines(text: str) -> tuple[str, ...]:
    engines = tuple(dict.fromkeys(e.strip() for e in text.split(",") if e.strip()))
    unknown = [e for e in engines if e not in ENGINES]
    if unknown or not engines:
        raise UsageError(f"unknown engine {', '.join(unknown) or '(none)'}; choose from {', '.join(ENGINES)}")
    return engines


def _quality(args: argparse.Namespace, settings: Settings) -> dict:
    from ragstage.evaluation.gold_questions import GoldFolderError, gold_index, load_gold_folder, sample_questions

    if args.quality_suite is None:
        return {}
    if not Path(args.quality_suite).is_dir():
        raise UsageError(f"--quality-suite {args.quality_suite} is not a folder")
    try:
        documents, questions = load_gold_folder(args.quality_suite)
    except GoldFolderError as err:
        raise UsageError(str(err)) from None
    index = gold_index(documents, settings.chunk_size_tokens, settings.chunk_overlap_tokens)
    chosen = sample_questions(questions, args.quality_questions, args.seed)
    return {"quality_index": index, "quality_questions": tuple(chosen)}


def run_engine_bench_command(args: argparse.Namespace, settings: Settings, targets: list[BenchTarget],
                             prompts: list[BenchPrompt], rounds: int) -> int:  # fmt: skip
    from ragstage.evaluation.engine_bench import EngineBenchPlan

    engines = _engines(args.engines)
    roles = tuple(t.name for t in targets)
    if any(t.name not in ROLES or t.model_override for t in targets):
        raise UsageError(f"--engines compares the embedded models of roles: use --targets {','.join(ROLES)}")
    if args.quality_questions < 1:
        raise UsageError("--quality-questions must be at least 1")
    plan = EngineBenchPlan(roles, engines, tuple(prompts), rounds, args.max_tokens, **_quality(args, settings),
                           progress=lambda text: print(f"bench --engines: {text}", file=sys.stderr, flush=True))
    return asyncio.run(_run(settings, plan, args))


async def _run(settings: Settings, plan: EngineBenchPlan, args: argparse.Namespace) -> int:
    from ragstage.evaluation.engine_bench import run_engine_bench
    from ragstage.evaluation.engine_report import write_engine_report
    from ragstage.knowledge import KnowledgeBase

    knowledge = await asyncio.to_thread(KnowledgeBase.open, settings.knowledge_dir, settings)
    runs = await run_engine_bench(settings, knowledge.index, plan)
    meta = {"roles": plan.roles, "engines": plan.engines, "prompts": len(plan.prompts), "rounds": plan.rounds,
            "max_tokens": plan.max_tokens, "threads": {r: thread_counts(role_config(settings, r).threads) for r in plan.roles},
            "quality_suite": str(args.quality_suite) if args.quality_suite else None,
            "quality_questions": len(plan.quality_questions), "quality_max_tokens": plan.quality_max_tokens,
            "seed": args.seed}  # fmt: skip
    files = write_engine_report(args.out, runs, meta)
    print((Path(files["markdown"]).read_text(encoding="utf-8")))
    return 0 if any(run.status == "ok" for run in runs) else 1
