"""Choose hybrid `auto`'s thresholds on the tuning set: replay the escalation rule over SLM
answers whose LLM answers to the same questions are known (two runs of tune_answers.py, same
suite, seed and variant), for a grid of support-score and length thresholds.

For each setting: escalation rate; hybrid contains-gold (a kept draft scores as the SLM's answer,
an escalated one as the LLM's: the refine stage sees the same sources plus the draft); estimated
mean latency (SLM time, plus the LLM's time when escalated) as a share of the LLM-only mean. The
refusal rule is applied as the app does (`is_refusal`; every tuning question has a strong passage).

Usage: .venv/bin/python benchmarks/escalation_thresholds.py tune-out/squad11_dev_tune-slm-s7-k2short.jsonl \\
           tune-out/squad11_dev_tune-llm-s7-k2short.jsonl
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
    parser.add_argument("slm", type=Path)
    parser.add_argument("llm", type=Path)
    args = parser.parse_args(argv)
    slm, llm = _rows(args.slm), _rows(args.llm)
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
