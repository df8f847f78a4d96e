"""`ragstage bench` (latency, throughput, memory, cost per target) and `ragstage eval`
(grounded answer quality per mode). Both write Markdown + JSON + PNG into --out.

Exit codes: 0 when something was measured, 1 when every target / mode failed, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from ragstage.cli import UsageError
from ragstage.evaluation.suites import (
    BenchPrompt,
    EvalCase,
    SuiteError,
    load_bench_prompts,
    load_eval_suite,
    sample_cases,
)
from ragstage.settings import Settings

if TYPE_CHECKING:
    from ragstage.evaluation.bench import BenchConfig
    from ragstage.evaluation.gold_languages import LanguageRun
    from ragstage.evaluation.gold_suite import GoldQuestion, GoldSuite
    from ragstage.evaluation.targets import BenchTarget

BENCH_ENV = {
    "BENCH_MODELS": "--targets (comma-separated: slm, llm, hybrid, role:model-id, or a configured model name)",
    "BENCH_ROUNDS": "--rounds",
    "BENCH_PROMPT": "--prompt (one question instead of the prompt set)",
    "COMPARE_PROMPT": "--prompt, when BENCH_PROMPT is not set",
    "BENCH_STREAM": "--show-stream when 1/true/yes/on (answers are always streamed, so TTFT is real)",
}
EVAL_MODES = ("slm", "llm", "hybrid")
_TRUE = {"1", "true", "yes", "on"}


def _env_help() -> str:
    return "environment defaults (the workshop's variables):\n" + "\n".join(
        f"  {name:<15} -> {meaning}" for name, meaning in BENCH_ENV.items()
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    bench = subparsers.add_parser(
        "bench", help="measure latency, decode speed, memory and cost per model target",
        description="Run a fixed prompt set through each target (temperature 0, one warm-up answer, "
        "N measured rounds) and write bench.md, bench.json and PNG charts.",
        epilog=_env_help(), formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    bench.add_argument("--targets", help="slm, llm, hybrid or role:model-id, comma-separated (default slm,llm)")
    bench.add_argument("--rounds", type=int, help="measured rounds over the prompts (default 3)")
    bench.add_argument("--prompt", help="benchmark this one question instead of the prompt set")
    bench.add_argument("--prompts", type=Path, help="JSONL prompt set ({\"id\", \"question\"} per line)")
    bench.add_argument("--limit", type=int, help="use only the first N prompts")
    bench.add_argument("--max-tokens", type=int, default=128, help="tokens generated per answer (default 128)")
    bench.add_argument("--show-stream", action="store_true", default=None, help="echo answers as they stream")
    bench.add_argument("--engines", help="compare embedded engines on the same model: llama.cpp,onnxruntime "
                       "(targets must be roles; writes engines.md/json)")
    bench.add_argument("--quality-suite", type=Path, help="with --engines: gold QA folder (passages.jsonl + "
                       "qa.jsonl, e.g. squad11_dev_tune) scored per engine")
    bench.add_argument("--quality-questions", type=int, default=50, help="with --quality-suite: questions (default 50)")
    bench.add_argument("--seed", type=int, default=7, help="with --quality-suite: sampling seed (default 7)")
    _common(bench, "bench-out")
    bench.set_defaults(handler=run_bench_command)

    evaluate = subparsers.add_parser(
        "eval", help="score grounded answer quality per mode, beside latency and cost",
        description="Answer a QA suite in each mode (temperature 0) and write eval.md, eval.json and a "
        "quality-vs-latency PNG. A suite FOLDER (passages.jsonl + qa.jsonl with gold answers and gold "
        "passages, e.g. squad11_dev_tune) becomes the knowledge folder and is scored by retrieval hit@k, "
        "answers containing a gold answer, gold passage cited, and latency.",
    )
    evaluate.add_argument("--modes", default="slm,llm,hybrid", help="comma-separated: slm, llm, hybrid")
    evaluate.add_argument("--suite", type=Path,
                          help="JSONL suite, or a gold suite folder (default: the shipped JSONL suite)")
    evaluate.add_argument("--limit", type=int, help="use only the first N questions")
    evaluate.add_argument("--sample", type=int, help="answer N questions drawn at random with --seed")
    evaluate.add_argument("--seed", type=int, default=7, help="seed of --sample (default 7)")
    evaluate.add_argument("--lang", help="for a suite folder with one suite per language (passages.<lang>.jsonl): "
                          "a language code, several comma-separated, or all")
    evaluate.add_argument("--max-tokens", type=int, help="tokens generated per answer (default: the setting)")
    _common(evaluate, "eval-out")
    evaluate.set_defaults(handler=run_eval_command)


def _common(parser: argparse.ArgumentParser, out_default: str) -> None:
    parser.add_argument("--knowledge", type=Path, help="knowledge folder (default: the setting)")
    parser.add_argument("--out", type=Path, default=Path(out_default), help=f"report folder (default {out_default})")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")


def _positive(value: int | None, name: str) -> None:
    if value is not None and value < 1:
        raise UsageError(f"{name} must be at least 1 (got {value})")


def _env_int(name: str) -> int | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise UsageError(f"{name}={raw!r} is not a whole number") from None


def _settings(knowledge: Path | None) -> Settings:
    settings = Settings()
    if knowledge is not None:
        settings = settings.model_copy(update={"knowledge_dir": knowledge})
    if not settings.knowledge_dir.is_dir():
        raise UsageError(f"knowledge folder not found: {settings.knowledge_dir}")
    return settings


def _bench_prompts(args: argparse.Namespace) -> list[BenchPrompt]:
    question = args.prompt or os.environ.get("BENCH_PROMPT") or os.environ.get("COMPARE_PROMPT")
    if question and question.strip():
        return [BenchPrompt("prompt", question.strip())]
    try:
        prompts = load_bench_prompts(args.prompts)
    except SuiteError as err:
        raise UsageError(str(err)) from None
    return prompts[: args.limit] if args.limit else prompts


def _progress(total: int, unit: str, enabled: bool = True) -> tqdm:
    return tqdm(total=total, unit=unit, file=sys.stderr, disable=None if enabled else True, dynamic_ncols=True)


def _print(result: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    if as_json:
        print(json.dumps(result, indent=2, default=str))
    else:
        print("\n".join(lines))


def run_bench_command(args: argparse.Namespace) -> int:
    from ragstage.evaluation.bench import BenchConfig
    from ragstage.evaluation.targets import parse_targets

    rounds = args.rounds if args.rounds is not None else (_env_int("BENCH_ROUNDS") or 3)
    for value, name in ((rounds, "--rounds / BENCH_ROUNDS"), (args.limit, "--limit"), (args.max_tokens, "--max-tokens")):
        _positive(value, name)
    settings = _settings(args.knowledge)
    try:
        targets = parse_targets(args.targets or os.environ.get("BENCH_MODELS") or "slm,llm", settings)
    except ValueError as err:
        raise UsageError(str(err)) from None
    if args.engines:
        from ragstage.cli.engine_bench_command import run_engine_bench_command

        return run_engine_bench_command(args, settings, targets, _bench_prompts(args), rounds)
    show_stream = args.show_stream or os.environ.get("BENCH_STREAM", "").strip().lower() in _TRUE
    config = BenchConfig(prompts=tuple(_bench_prompts(args)), rounds=rounds, max_tokens=args.max_tokens)
    return asyncio.run(_bench(settings, targets, config, args, show_stream))


async def _bench(settings: Settings, targets: list[BenchTarget], config: BenchConfig, args: argparse.Namespace,
                 show_stream: bool) -> int:
    from ragstage.evaluation.bench import BenchHooks, run_bench
    from ragstage.evaluation.bench_report import write_bench_report
    from ragstage.evaluation.bench_summary import summarize_target
    from ragstage.evaluation.reports import plain
    from ragstage.runtime import Runtime

    per_target = config.warmup_answers + config.rounds * len(config.prompts)
    with _progress(per_target * len(targets), "answer", enabled=not show_stream) as bar:
        hooks = BenchHooks(answer_done=lambda target: (bar.set_postfix_str(target), bar.update(1)))
        if show_stream:
            hooks = BenchHooks(
                answer_done=lambda _target: print(file=sys.stderr),
                token=lambda text: print(text, end="", file=sys.stderr, flush=True),
                answer_started=lambda target, question, round_no: print(
                    f"[{target} {'warm-up' if round_no == 0 else f'round {round_no}'}] {question}", file=sys.stderr),
            )
        async with await Runtime.start(settings, warm_roles=()) as runtime:
            runs = await run_bench(runtime, targets, config, hooks)
    summaries = [summarize_target(run) for run in runs]
    files = write_bench_report(args.out, runs, summaries, config)
    lines = [f"{s.target}: {s.status}; TTFT p50 {s.ttft_ms.p50:.0f} ms, total p50 {s.total_ms.p50:.0f} ms"
             if s.total_ms and s.ttft_ms else f"{s.target}: {s.status}: {s.error}" for s in summaries]
    _print({"summary": plain(summaries), "files": files}, args.json, [*lines, f"report: {files['markdown']}"])
    return 0 if any(s.answers for s in summaries) else 1


def run_eval_command(args: argparse.Namespace) -> int:
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in EVAL_MODES]
    if unknown or not modes:
        raise UsageError(f"unknown mode {', '.join(unknown) or '(none)'}; choose from {', '.join(EVAL_MODES)}")
    for value, name in ((args.limit, "--limit"), (args.max_tokens, "--max-tokens"), (args.sample, "--sample")):
        _positive(value, name)
    modes = list(dict.fromkeys(modes))
    if args.suite is not None and args.suite.is_dir():
        return _gold_eval_command(args, modes)
    if args.lang is not None:
        raise UsageError("--lang needs --suite FOLDER holding one suite per language (passages.<lang>.jsonl)")
    settings = _settings(args.knowledge)
    try:
        cases = load_eval_suite(args.suite)
    except SuiteError as err:
        raise UsageError(str(err)) from None
    cases = sample_cases(cases, args.sample, args.seed)
    cases = cases[: args.limit] if args.limit else cases
    return asyncio.run(_eval(settings, modes, cases, args))


async def _eval(settings: Settings, modes: list[str], cases: list[EvalCase], args: argparse.Namespace) -> int:
    from ragstage.evaluation.eval_report import write_eval_report
    from ragstage.evaluation.evaluate import run_eval, summarize_mode
    from ragstage.evaluation.reports import plain
    from ragstage.evaluation.suites import default_eval_suite_path
    from ragstage.runtime import Runtime

    max_tokens = args.max_tokens or settings.max_answer_tokens
    with _progress(len(modes) * len(cases), "question") as bar:
        async with await Runtime.start(settings, warm_roles=()) as runtime:
            runs = await run_eval(runtime, modes, cases, max_tokens,
                                  lambda mode: (bar.set_postfix_str(mode), bar.update(1)))
    summaries = [summarize_mode(run) for run in runs]
    meta = {"suite": str(args.suite or default_eval_suite_path()), "knowledge": str(settings.knowledge_dir),
            "questions": len(cases), "top_k": settings.top_k, "max_tokens": max_tokens, "modes": modes}
    files = write_eval_report(args.out, runs, summaries, meta)
    lines = [f"{s.mode}: {s.status}; quality {100 * s.quality:.0f}%, total p50 {s.total_ms.p50:.0f} ms"
             if s.quality is not None and s.total_ms else f"{s.mode}: {s.status}: {s.error}" for s in summaries]
    _print({"summary": plain(summaries), "files": files}, args.json, [*lines, f"report: {files['markdown']}"])
    return 0 if any(s.questions - s.errors for s in summaries) else 1


def _gold_suites(args: argparse.Namespace) -> list[GoldSuite]:
    from ragstage.evaluation.gold_suite import load_gold_suite, parse_languages, suite_languages

    try:
        languages = parse_languages(args.lang, suite_languages(args.suite)) if args.lang is not None else [None]
        return [load_gold_suite(args.suite, lang) for lang in languages]
    except SuiteError as err:
        raise UsageError(str(err)) from None


def _gold_eval_command(args: argparse.Namespace, modes: list[str]) -> int:
    if args.knowledge is not None:
        raise UsageError("--knowledge cannot be combined with a suite folder: its passages are the knowledge")
    suites = []
    for suite in _gold_suites(args):
        questions = sample_cases(suite.questions, args.sample, args.seed)
        suites.append((suite, questions[: args.limit] if args.limit else questions))
    return asyncio.run(_gold_eval(Settings(), suites, modes, args))


def _gold_line(run: LanguageRun, ratios: dict[tuple[str, str], float | None]) -> list[str]:
    lines = []
    for s in run.summaries:
        if s.total_ms is None or s.hit_at_5 is None:
            lines.append(f"{run.lang} {s.mode}: {s.status}: {s.error}")
            continue
        ratio = ratios.get((run.lang, s.mode))
        versus = f" ({ratio:.2f}x en)" if ratio is not None and run.lang != "en" else ""
        escalated = f", escalated {100 * s.escalation_rate:.0f}%" if s.escalation_rate is not None else ""
        lines.append(f"{run.lang} {s.mode}: {s.status}; hit@5 {100 * s.hit_at_5:.0f}%, contains gold "
                     f"{100 * s.contains_gold:.0f}%{versus}, gold cited {100 * s.gold_cited:.0f}% "
                     f"(model's own [n] {100 * s.gold_cited_by_model:.0f}%){escalated}, total mean "
                     f"{s.total_ms.mean:.0f} ms, p95 {s.total_ms.p95:.0f} ms, ${s.cost_per_answer_usd:.6f}/answer")
    return lines


async def _gold_eval(settings: Settings, suites: list[tuple[GoldSuite, list[GoldQuestion]]], modes: list[str],
                     args: argparse.Namespace) -> int:
    from ragstage.evaluation.gold_languages import relative_to_baseline, run_languages
    from ragstage.evaluation.gold_report import write_gold_report
    from ragstage.evaluation.reports import plain

    max_tokens = args.max_tokens or settings.max_answer_tokens
    with _progress(len(modes) * sum(len(q) for _, q in suites), "question") as bar:
        runs = await run_languages(settings, suites, modes, max_tokens,
                                   lambda label: (bar.set_postfix_str(label), bar.update(1)))
    first = runs[0]
    meta = {"suite": str(first.suite.folder), "lang": first.lang,
            "knowledge": str(first.knowledge),
            "suite_questions": len(first.suite.questions), "questions": len(first.questions), "sample": args.sample,
            "seed": args.seed, "top_k": settings.top_k, "context_budget_tokens": settings.context_budget_tokens,
            "chunk_size_tokens": settings.chunk_size_tokens, "embedded_threads": settings.embedded_threads,
            "max_tokens": max_tokens, "modes": modes}
    files = write_gold_report(args.out, runs, meta)
    ratios = relative_to_baseline(runs)
    lines = [line for run in runs for line in _gold_line(run, ratios)]
    summaries = [s for run in runs for s in run.summaries]
    _print({"summary": plain(summaries), "files": files}, args.json, [*lines, f"report: {files['markdown']}"])
    return 0 if any(s.questions - s.errors for s in summaries) else 1
