"""Choose hybrid `auto`'s thresholds on the tuning set: replay the escalation rule over SLM
answers whose LLM answers to the same questions are known (two runs of tune_answers.py, same
suite, seed and variant), for a grid of support-score and length thresholds.

For each setting: escalation rate; hybrid contains-gold (a kept draft scores as the SLM's answer,
an escalated one as the LLM's: the refine stage sees the same sources plus the draft); estimated
mean latency (SLM time, plus the LLM's time when escalated) as a share of the LLM-only mean. The
refusal rule is applied as the app does (`is_refusal`; every tuning question has a strong passage).

Usage: .venv/bin/python benchmarks/escalation_thresholds.py tune-out/squad11_dev_tune-slm-s7-k2short.jsonl \\
           tune-out/squad11_dev_tune-llm-s7-k2short.jsonl
       .venv/bin/python benchmarks/escalation_thresholds.py --eval eval-out/squad/eval.json
(`--eval`: the slm and llm records of one `ragstage eval --suite DIR --modes slm,llm,...` run.)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ragstage.answer import is_refusal

SUPPORT_THRESHOLDS = (0.0, 0.5, 0.6, 0.67, 0.75, 0.8, 0.9, 1.0)
WORD_THRESHOLDS = (0, 4, 8, 12)


def _rows(path: Path) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in map(json.loads, path.read_text(encoding="utf-8").splitlines()) if r}


def _eval_rows(path: Path, mode: str) -> dict[str, dict[str, Any]]:
    """One mode's records of an eval.json, in the tuning script's row format."""
    records = json.loads(path.read_text(encoding="utf-8"))["records"]
    return {r["question_id"]: {"answer": r["answer"], "support": r["support_score"], "correct": r["contains_gold"],
                               "total_ms": r["total_ms"]}
            for r in records if r["mode"] == mode and not r["error"]}


def escalates(row: dict[str, Any], min_support: float, min_words: int) -> bool:
    """The `auto` rule of answer/escalation.py on a recorded draft."""
    text = row["answer"]
    if not text.strip() or is_refusal(text):
        return True
    support = row["support"]
    return support is None or support < min_support or len(text.split()) < min_words


def replay(slm: dict[str, dict[str, Any]], llm: dict[str, dict[str, Any]], min_support: float,
           min_words: int) -> dict[str, float]:
    ids = sorted(set(slm) & set(llm))
    up = [escalates(slm[i], min_support, min_words) for i in ids]
    correct = [llm[i]["correct"] if e else slm[i]["correct"] for i, e in zip(ids, up)]
    latency = [slm[i]["total_ms"] + (llm[i]["total_ms"] if e else 0.0) for i, e in zip(ids, up)]
    llm_mean = sum(llm[i]["total_ms"] for i in ids) / len(ids)
    return {"n": len(ids), "escalated": sum(up) / len(ids), "correct": sum(correct) / len(ids),
            "latency_share": sum(latency) / len(ids) / llm_mean}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("slm", type=Path, nargs="?")
    parser.add_argument("llm", type=Path, nargs="?")
    parser.add_argument("--eval", type=Path, help="an eval.json with slm and llm records instead")
    args = parser.parse_args(argv)
    if args.eval:
        slm, llm = _eval_rows(args.eval, "slm"), _eval_rows(args.eval, "llm")
    elif args.slm and args.llm:
        slm, llm = _rows(args.slm), _rows(args.llm)
    else:
        parser.error("give the slm and llm files, or --eval")
    ids = sorted(set(slm) & set(llm))
    mean = lambda rows, key: sum(rows[i][key] for i in ids) / len(ids)  # noqa: E731
    print(f"{len(ids)} questions; slm contains-gold {mean(slm, 'correct'):.0%}, llm {mean(llm, 'correct'):.0%}; "
          f"slm mean latency {mean(slm, 'total_ms') / mean(llm, 'total_ms'):.2f}x the llm's")
    print("| min support | min words | escalated | hybrid contains-gold | mean latency / llm |")
    print("|---:|---:|---:|---:|---:|")
    for support in SUPPORT_THRESHOLDS:
        for words in WORD_THRESHOLDS:
            r = replay(slm, llm, support, words)
            print(f"| {support:.2f} | {words} | {r['escalated']:.0%} | {r['correct']:.0%} | {r['latency_share']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
