"""Tune the prompt by measurement: answer a fixed sample of a suite under named variants (chunk
size, top-k, context budget, instruction, where the sources sit, source format, answer length)
and print one row per variant: quality, citations before/after attribution, latency, tokens.

Suites: a gold folder (`--suite ../shared/datasets/squad11_dev_tune`: contains-gold, gold passage
cited) or the project's own (`--own`: src/ragstage/data/eval_suite.jsonl over knowledge/, every
fact stated or rightly declined, right document cited). Every answer goes through the app's own
pipeline (`Runtime.answer`) with the embedded models, temperature 0. Records are appended to
`OUT/<suite>-<mode>-s<seed>-<variant>.jsonl` and a rerun skips questions already answered, so a
long tuning run can be stopped and resumed.

Usage:
  nice .venv/bin/python benchmarks/tune_answers.py --suite ../shared/datasets/squad11_dev_tune \\
      --mode slm --sample 40 --seed 7 --variants base,k3,k3short --out tune-out
  .venv/bin/python benchmarks/tune_answers.py --own --mode llm --variants base,tuned --out tune-out --report
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ragstage.answer import AnswerResult
from ragstage.answer.prompt import SHORT_ANSWER_PROMPT, PromptStyle
from ragstage.evaluation.evaluate import eval_record
from ragstage.evaluation.gold_eval import gold_record
from ragstage.evaluation.gold_suite import build_knowledge_folder, load_gold_suite
from ragstage.evaluation.stats import distribution, mean
from ragstage.evaluation.suites import load_eval_suite, sample_cases
from ragstage.settings import Settings

BASE_STYLE = PromptStyle()  # the wording before tuning, pinned so "base" stays the same measurement
SHORT = replace(BASE_STYLE, instruction=SHORT_ANSWER_PROMPT)
BASE_INSTRUCTION = BASE_STYLE.instruction
# Candidate wordings measured against SHORT_ANSWER_PROMPT (the chosen one lives in answer/prompt.py).
EXTRACT = replace(BASE_STYLE, instruction=(
    f"{BASE_INSTRUCTION} Answer in one short sentence that copies the exact words of the source."))
PHRASE_FIRST = replace(BASE_STYLE, instruction=(
    f"{BASE_INSTRUCTION} Start with the answer itself in a few words taken from the source, "
    "then add at most one sentence."))


@dataclass(frozen=True)
class Variant:
    settings: dict[str, Any] = field(default_factory=dict)  # need their own index / servers
    options: dict[str, Any] = field(default_factory=dict)  # per answer


# The settings before tuning (docs/ANSWER-QUALITY.md baseline) are pinned here, so "base"
# stays the same measurement when the defaults change.
BASE_SETTINGS = {"chunk_size_tokens": 256, "chunk_overlap_tokens": 32}
BASE_OPTIONS = {"top_k": 4, "context_budget_tokens": 900, "max_answer_tokens": 256, "prompt_style": BASE_STYLE}


def _variant(settings: dict[str, Any] | None = None, **options: Any) -> Variant:
    return Variant(BASE_SETTINGS | (settings or {}), BASE_OPTIONS | options)


VARIANTS: dict[str, Variant] = {
    "base": _variant(),
    "k3": _variant(top_k=3, context_budget_tokens=700),
    "k3short": _variant(top_k=3, context_budget_tokens=700, max_answer_tokens=96, prompt_style=SHORT),
    "k3short_qfirst": _variant(top_k=3, context_budget_tokens=700, max_answer_tokens=96,
                               prompt_style=replace(SHORT, layout="question_first")),
    "k3short_around": _variant(top_k=3, context_budget_tokens=700, max_answer_tokens=96,
                               prompt_style=replace(SHORT, layout="question_around")),
    "k3short_brackets": _variant(top_k=3, context_budget_tokens=700, max_answer_tokens=96,
                                 prompt_style=replace(SHORT, source_format="bracketed")),
    "k2short": _variant(top_k=2, context_budget_tokens=500, max_answer_tokens=96, prompt_style=SHORT),
    "k3long": _variant(top_k=3, context_budget_tokens=700, max_answer_tokens=256, prompt_style=SHORT),
    "k2extract": _variant(top_k=2, context_budget_tokens=500, max_answer_tokens=96, prompt_style=EXTRACT),
    "k3extract": _variant(top_k=3, context_budget_tokens=700, max_answer_tokens=96, prompt_style=EXTRACT),
    "k2phrase": _variant(top_k=2, context_budget_tokens=500, max_answer_tokens=96, prompt_style=PHRASE_FIRST),
    "k3b600short": _variant(top_k=3, context_budget_tokens=600, max_answer_tokens=96, prompt_style=SHORT),
    "c128k4short": _variant({"chunk_size_tokens": 128, "chunk_overlap_tokens": 16}, top_k=4,
                            context_budget_tokens=700, max_answer_tokens=96, prompt_style=SHORT),
    "c192k3b650short": _variant({"chunk_size_tokens": 192, "chunk_overlap_tokens": 24}, top_k=3,
                                context_budget_tokens=650, max_answer_tokens=96, prompt_style=SHORT),
    "c128k4b600short": _variant({"chunk_size_tokens": 128, "chunk_overlap_tokens": 16}, top_k=4,
                                context_budget_tokens=600, max_answer_tokens=96, prompt_style=SHORT),
    "c128k3b500short": _variant({"chunk_size_tokens": 128, "chunk_overlap_tokens": 16}, top_k=3,
                                context_budget_tokens=500, max_answer_tokens=96, prompt_style=SHORT),
    "c160k3b550short": _variant({"chunk_size_tokens": 160, "chunk_overlap_tokens": 20}, top_k=3,
                                context_budget_tokens=550, max_answer_tokens=96, prompt_style=SHORT),
    "defaults": Variant({}, {}),  # whatever the current Settings defaults are
}


def _gold_row(mode: str, case: Any, result: AnswerResult, lang: str) -> dict[str, Any]:
    record = gold_record(mode, case, result, lang)
    return {"id": record.question_id, "correct": record.contains_gold, "cited": record.gold_cited,
            "cited_by_model": record.gold_cited_by_model, "support": record.support_score,
            "escalated": record.escalated, "answer": record.answer, "gold_shown": any(
                p.source == record.gold_source for p in record.shown)}


def _own_row(mode: str, case: Any, result: AnswerResult, _lang: str) -> dict[str, Any]:
    record = eval_record(mode, case, result)
    cited = {c.chunk.source for c in result.citations}
    model_cited = {s for s in record.cited_sources if s}
    gold = case.source
    return {"id": case.case_id, "correct": record.scores.correct, "answerable": case.answerable,
            "cited": gold in cited if case.answerable and gold else None,
            "cited_by_model": gold in model_cited if case.answerable and gold else None,
            "support": result.attribution.support_score if result.attribution else None,
            "escalated": result.escalation.escalated if result.escalation else None, "answer": result.text,
            "gold_shown": any(h.chunk.source == gold for h in result.prompt_sources) if gold else None}


def _timing_row(result: AnswerResult) -> dict[str, Any]:
    metrics = result.metrics
    return {"error": result.error, "ttft_ms": metrics.ttft_ms, "total_ms": metrics.total_ms,
            "prompt_tokens": metrics.usage.prompt_tokens, "completion_tokens": metrics.usage.completion_tokens,
            "cost_usd": metrics.cost_usd, "load_1m": os.getloadavg()[0]}


def _done_ids(path: Path) -> set[str]:
    if not path.is_file():
        return set()
    return {json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


async def run_variant(name: str, variant: Variant, suite: dict[str, Any], args: argparse.Namespace) -> Path:
    from ragstage.runtime import Runtime

    out = args.out / f"{suite['name']}-{args.mode}-s{args.seed}-{name}.jsonl"
    todo = [case for case in suite["cases"] if suite["case_id"](case) not in _done_ids(out)]
    if not todo:
        return out
    settings = Settings().model_copy(update={"knowledge_dir": suite["knowledge"], **variant.settings})
    async with await Runtime.start(settings, warm_roles=()) as runtime:
        options = runtime.options(mode=args.mode, temperature=0.0, **variant.options)
        for number, case in enumerate(todo, 1):
            result = await runtime.answer(suite["question"](case), options)
            row = suite["row"](args.mode, case, result, suite["lang"]) | _timing_row(result)
            with out.open("a", encoding="utf-8") as stream:
                stream.write(json.dumps(row, ensure_ascii=False) + "\n")
            print(f"[{name} {number}/{len(todo)}] correct={row['correct']} cited={row['cited']} "
                  f"ttft={row['ttft_ms']:.0f} total={row['total_ms']:.0f} load={row['load_1m']:.1f}",
                  file=sys.stderr, flush=True)
    return out


def load_suite(args: argparse.Namespace) -> dict[str, Any]:
    if args.own:
        cases = sample_cases(load_eval_suite(), args.sample, args.seed)
        return {"name": "own", "cases": cases, "knowledge": Path("knowledge"), "lang": "en", "row": _own_row,
                "case_id": lambda c: c.case_id, "question": lambda c: c.question}
    suite = load_gold_suite(args.suite)
    cases = sample_cases(suite.questions, args.sample, args.seed)
    knowledge = build_knowledge_folder(suite, Settings().cache_dir)
    return {"name": args.suite.name, "cases": cases, "knowledge": knowledge, "lang": suite.lang, "row": _gold_row,
            "case_id": lambda c: c.question_id, "question": lambda c: c.question}


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value / 1000:.1f}"


def summary_row(name: str, rows: Sequence[dict[str, Any]]) -> str:
    done = [r for r in rows if not r["error"]]
    total = distribution(r["total_ms"] for r in done)
    ttft = distribution(r["ttft_ms"] for r in done if r["ttft_ms"] > 0)
    escalated = mean(r["escalated"] for r in rows if r.get("escalated") is not None)
    return (f"| {name} | {len(rows)} | {_pct(mean(r['correct'] for r in rows))} | {_pct(mean(r['cited'] for r in rows))} "
            f"| {_pct(mean(r['cited_by_model'] for r in rows))} | {_pct(mean(r['support'] for r in rows))} "
            f"| {_pct(escalated)} | {mean(r['prompt_tokens'] for r in done) or 0:.0f} "
            f"| {mean(r['completion_tokens'] for r in done) or 0:.0f} | {_s(ttft.p50 if ttft else None)} "
            f"| {_s(total.mean if total else None)} | {_s(total.p95 if total else None)} "
            f"| {mean(r['cost_usd'] for r in done) or 0:.6f} | {mean(r['load_1m'] for r in rows) or 0:.1f} |")


def report(paths: dict[str, Path]) -> str:
    lines = ["| variant | n | correct | gold cited | by model [n] | support | escalated | prompt tok | answer tok "
             "| TTFT p50 s | total mean s | total p95 s | cost/answer $ | load |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, path in paths.items():
        if path.is_file():
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            lines.append(summary_row(name, rows))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--suite", type=Path, help="gold suite folder (passages.jsonl + qa.jsonl)")
    source.add_argument("--own", action="store_true", help="the project's suite over knowledge/")
    parser.add_argument("--mode", default="slm", choices=("slm", "llm", "hybrid"))
    parser.add_argument("--sample", type=int, help="questions drawn with --seed (default: all)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--variants", default="base", help=f"comma-separated: {', '.join(VARIANTS)}")
    parser.add_argument("--out", type=Path, default=Path("tune-out"))
    parser.add_argument("--report", action="store_true", help="only print the table of what was measured")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.variants.split(",") if n.strip()]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    args.out.mkdir(parents=True, exist_ok=True)
    suite = load_suite(args)
    paths = {}
    for name in names:
        path = args.out / f"{suite['name']}-{args.mode}-s{args.seed}-{name}.jsonl"
        paths[name] = path if args.report else asyncio.run(run_variant(name, VARIANTS[name], suite, args))
    print(f"{suite['name']}, mode {args.mode}, {len(suite['cases'])} questions, seed {args.seed}")
    print(report(paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
