"""Sentence attribution measured offline on the answers of a gold-suite eval.

Reads the eval.json that `ragstage eval --suite DIR` wrote (every answer with the passages its
prompt numbered [1]..[n]) and compares, per mode, the gold passage among

- the model's own citations (valid [n] in the answer), and
- the citations after sentence attribution (`ragstage.answer.attribution`): model-written [n]
  kept when their passage supports the sentence, wrong ones replaced, missing ones computed.

Precision: share of cited passages that are the gold one, averaged over answers citing anything.
Recall: share of all answers that cite the gold passage. Also: answers citing nothing, mean
support score, share of unsupported claim sentences, rejected and computed citations.

Usage: .venv/bin/python benchmarks/attribution_offline.py eval-out/eval.json [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ragstage.answer.attribution import Attribution, attribute
from ragstage.evaluation.stats import mean


def _share_gold(cited: Sequence[str], gold: str) -> float | None:
    return sum(source == gold for source in cited) / len(cited) if cited else None


def _attributed_sources(record: dict[str, Any], attribution: Attribution) -> list[str]:
    by_number = {p["n"]: p["source"] for p in record["shown"]}
    return list(dict.fromkeys(by_number[n] for n in attribution.cited()))


def _row(record: dict[str, Any]) -> dict[str, Any]:
    passages = [p["text"] for p in record["shown"]]
    attribution = attribute(record["answer"], passages, question=record["question"]) if record["answered_by_model"] else None
    after = _attributed_sources(record, attribution) if attribution else []
    gold, before = record["gold_source"], record["cited_sources"]
    claims = [s for s in attribution.sentences if s.is_claim] if attribution else []
    return {
        "before_precision": _share_gold(before, gold), "before_recall": gold in before, "before_none": not before,
        "after_precision": _share_gold(after, gold), "after_recall": gold in after, "after_none": not after,
        "support_score": attribution.support_score if attribution else None,
        "unsupported": [not s.supported for s in claims],
        "rejected": sum(len(s.rejected) for s in claims),
        "computed": len(attribution.cited("computed")) if attribution else 0,
        "gold_shown": any(p["source"] == gold for p in record["shown"]),
    }  # fmt: skip


def summarize(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    rows = [_row(r) for r in records]
    return {
        "answers": len(rows),
        "gold_shown": mean(r["gold_shown"] for r in rows),
        **{f"{when}_{key}": mean(r[f"{when}_{key}"] for r in rows)
           for when in ("before", "after") for key in ("precision", "recall", "none")},
        "support_score_mean": mean(r["support_score"] for r in rows),
        "unsupported_sentence_share": mean(flag for r in rows for flag in r["unsupported"]),
        "rejected_citations": sum(r["rejected"] for r in rows),
        "answers_with_computed_citations": sum(r["computed"] > 0 for r in rows),
    }  # fmt: skip


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("eval_json", type=Path, help="eval.json of `ragstage eval --suite DIR`")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args(argv)
    document = json.loads(args.eval_json.read_text(encoding="utf-8"))
    if document.get("kind") != "ragstage-eval-gold":
        print(f"{args.eval_json}: not the report of `ragstage eval --suite DIR`", file=sys.stderr)
        return 2
    modes = dict.fromkeys(r["mode"] for r in document["records"])
    results = {mode: summarize([r for r in document["records"] if r["mode"] == mode]) for mode in modes}
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print("| mode | answers | gold shown | precision model [n] -> attributed | recall model [n] -> attributed "
          "| no citation -> | support score | unsupported sentences | rejected [n] |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for mode, s in results.items():
        print(f"| {mode} | {s['answers']} | {_pct(s['gold_shown'])} | {_pct(s['before_precision'])} -> "
              f"{_pct(s['after_precision'])} | {_pct(s['before_recall'])} -> {_pct(s['after_recall'])} | "
              f"{_pct(s['before_none'])} -> {_pct(s['after_none'])} | {_pct(s['support_score_mean'])} | "
              f"{_pct(s['unsupported_sentence_share'])} | {s['rejected_citations']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
