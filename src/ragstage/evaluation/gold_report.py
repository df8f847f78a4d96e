"""The files `ragstage eval --suite DIR` writes: eval.md (one row per mode, then every question)
and eval.json (every answer with the passages it was shown), beside the plain eval's reports."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ragstage.evaluation.evaluate import ModeRun
from ragstage.evaluation.gold_eval import GoldRecord, GoldSummary
from ragstage.evaluation.reports import fmt, fmt_share, fmt_usd, machine_info, table, utc_now, write_json

METRICS_NOTE = (
    "**hit@k**: the gold passage is among the retrieved top-k; **shown**: it is among the passages "
    "put in the prompt (the context budget may drop some); **contains gold**: a gold answer appears "
    "in the answer as whole words after NFKC, casefolding and removing punctuation (and English "
    "articles); **gold cited**: one of the answer's citations (after sentence attribution: the model's "
    "supported [n] plus computed ones) points at the gold passage, **by model**: one of the model's own "
    "[n] does; **precision**: share of cited passages that are the gold one, over answers citing "
    "anything (after attribution / model's own); **uncited**: answers citing nothing (after / model's "
    "own); **support**: mean share of answer sentences the passages support; **escalated**: hybrid "
    "drafts refined by the LLM. Latency is total time per answer, retrieval included."
)


def _dist(dist: Any, key: str) -> str:
    return "-" if dist is None else fmt(getattr(dist, key))


def _summary_rows(summaries: Sequence[GoldSummary]) -> list[list[str]]:
    return [
        [s.mode, s.status, str(s.questions), fmt_share(s.hit_at_k), fmt_share(s.gold_shown),
         fmt_share(s.contains_gold), fmt_share(s.gold_cited), fmt_share(s.gold_cited_by_model),
         f"{fmt_share(s.gold_citation_precision)} / {fmt_share(s.model_citation_precision)}",
         f"{fmt_share(s.no_citation)} / {fmt_share(s.no_model_citation)}", fmt_share(s.support_score),
         fmt_share(s.escalation_rate), _dist(s.ttft_ms, "p50"), _dist(s.total_ms, "mean"), _dist(s.total_ms, "p50"),
         _dist(s.total_ms, "p95"), fmt_usd(s.cost_per_answer_usd)]
        for s in summaries
    ]  # fmt: skip


def _record_rows(records: Sequence[GoldRecord]) -> list[list[str]]:
    def yes(value: bool) -> str:
        return "yes" if value else "no"

    return [
        [r.mode, r.question_id, r.question[:80], " / ".join(r.gold_answers)[:40], str(r.gold_rank or "-"),
         yes(r.contains_gold), yes(r.gold_cited), fmt(r.total_ms), (r.error or r.answer)[:120]]
        for r in records
    ]  # fmt: skip


def gold_markdown(summaries: Sequence[GoldSummary], runs: Sequence[ModeRun], meta: dict[str, Any],
                  machine: dict[str, Any]) -> str:
    models = [f"- **{s.mode}**: {'; '.join(s.models.values()) or '-'}" for s in summaries]
    sample = f"sample {meta['questions']} of {meta['suite_questions']} (seed {meta['seed']})"
    lines = [
        "# ragstage eval (gold suite)",
        "",
        f"{meta['created_utc']} · suite `{meta['suite']}` ({meta['lang']}) · {sample} · top-k {meta['top_k']} · "
        f"context budget {meta['context_budget_tokens']} tokens · temperature 0 · max {meta['max_tokens']} tokens · "
        f"embedded threads {meta.get('embedded_threads', '-')} (0 = auto) · {machine['cpu_count']} CPUs, "
        f"load {machine['load_average_1m']}",
        "",
        *models,
        "",
        table(["mode", "status", "questions", "hit@k", "shown", "contains gold", "gold cited", "by model",
               "precision", "uncited", "support", "escalated", "TTFT p50 ms", "total mean ms", "total p50 ms",
               "total p95 ms", "cost / answer"],
              _summary_rows(summaries)),
        "",
        METRICS_NOTE,
    ]
    problems = [f"- **{s.mode}** ({s.status}): {s.error}" for s in summaries if s.error]
    if problems:
        lines += ["", "## Problems", "", *problems]
    records = [r for run in runs for r in run.records]
    lines += ["", "## Every question", "",
              table(["mode", "id", "question", "gold", "gold rank", "contains gold", "gold cited", "total ms", "answer"],
                    _record_rows(records))]
    return "\n".join(lines) + "\n"


def write_gold_report(out_dir: Path, runs: Sequence[ModeRun], summaries: Sequence[GoldSummary],
                      meta: dict[str, Any]) -> dict[str, str]:
    """Writes eval.md and eval.json; `meta` describes the run (suite, sample, seed, settings)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = {"created_utc": utc_now(), **meta}
    machine = machine_info()
    write_json(out_dir / "eval.json", {
        "kind": "ragstage-eval-gold", **meta, "machine": machine, "metrics": METRICS_NOTE,
        "summary": list(summaries), "records": [r for run in runs for r in run.records],
    })
    (out_dir / "eval.md").write_text(gold_markdown(summaries, runs, meta, machine), encoding="utf-8")
    return {"markdown": str(out_dir / "eval.md"), "json": str(out_dir / "eval.json")}
