"""The files `ragstage eval` writes: eval.md (quality beside latency and cost, then every
question), eval.json (every answer with its scores) and a quality-vs-latency PNG."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ragstage.evaluation import charts, quality
from ragstage.evaluation.evaluate import EvalRecord, ModeRun, ModeSummary
from ragstage.evaluation.reports import fmt, fmt_share, fmt_usd, machine_info, table, utc_now, write_json

SCATTER_FILE = "eval-quality-vs-latency.png"
RUBRIC_NOTE = (
    "Rubric (1-5, each `1 + 4 x component`): **factuality** = (2 x fact recall + groundedness + "
    "citation precision) / 4 for answerable questions (missing values count 0), 1 or 0 for declining "
    "an unanswerable one; **coherence** = share of 4 checks passed (has words, not only [n] marks; finished, not cut at the "
    "token limit; distinct word trigrams >= 60%; every [n] points at a shown source); **concision** = "
    f"min(1, {quality.CONCISE_WORDS} / answer words). **quality** = share of all questions handled right "
    "(every fact stated, or an unanswerable question declined)."
)


def _dist(dist: Any, key: str) -> str:
    return "-" if dist is None else fmt(getattr(dist, key))


def _summary_rows(summaries: Sequence[ModeSummary]) -> list[list[str]]:
    return [
        [
            s.mode, s.status, str(s.questions), fmt_share(s.quality), fmt_share(s.hit_at_k),
            fmt_share(s.fact_recall), fmt_share(s.answer_correctness), fmt_share(s.refusal_correctness),
            fmt_share(s.false_refusal_rate), fmt_share(s.citation_precision), fmt_share(s.groundedness),
            fmt_share(s.conciseness), *(fmt(s.rubric[k], 1) for k in ("coherence", "factuality", "concision")),
            _dist(s.ttft_ms, "p50"), _dist(s.total_ms, "p50"), _dist(s.total_ms, "p95"),
            fmt_usd(s.cost_per_answer_usd), fmt_usd(s.cost_per_1k_answers_usd),
        ]
        for s in summaries
    ]


def _record_rows(records: Sequence[EvalRecord]) -> list[list[str]]:
    def yes(value: bool | None) -> str:
        return "-" if value is None else ("yes" if value else "no")

    return [
        [
            r.mode, r.case_id, "yes" if r.answerable else "no", yes(r.scores.correct), yes(r.scores.refused),
            fmt_share(r.scores.fact_recall), yes(r.scores.hit_at_k), fmt_share(r.scores.citation_precision),
            fmt_share(r.scores.groundedness), str(r.scores.answer_words), fmt(r.total_ms),
            (r.error or r.answer)[:120],
        ]
        for r in records
    ]


def markdown(summaries: Sequence[ModeSummary], runs: Sequence[ModeRun], meta: dict[str, Any],
             machine: dict[str, Any], scatter: str | None) -> str:
    models = [f"- **{s.mode}**: {'; '.join(s.models.values()) or '-'}" for s in summaries]
    lines = [
        "# ragstage eval",
        "",
        f"{meta['created_utc']} · suite `{meta['suite']}` ({meta['questions']} questions) · knowledge "
        f"`{meta['knowledge']}` · top-k {meta['top_k']} · temperature 0 · max {meta['max_tokens']} tokens · "
        f"{machine['cpu_count']} CPUs",
        "",
        *models,
        "",
        "## Quality, latency and cost",
        "",
        table(["mode", "status", "questions", "quality", "hit@k", "fact recall", "correct", "refusal correct",
               "false refusals", "citation precision", "groundedness", "conciseness", "coherence 1-5",
               "factuality 1-5", "concision 1-5", "TTFT p50 ms", "total p50 ms", "total p95 ms",
               "cost / answer", "cost / 1k answers"], _summary_rows(summaries)),
        "",
        RUBRIC_NOTE,
    ]
    problems = [f"- **{s.mode}** ({s.status}): {s.error}" for s in summaries if s.error]
    if problems:
        lines += ["", "## Problems", "", *problems]
    if scatter:
        lines += ["", f"![quality vs latency]({scatter})"]
    records = [r for run in runs for r in run.records]
    lines += ["", "## Every question", "",
              table(["mode", "id", "answerable", "right", "declined", "fact recall", "hit@k", "citation precision",
                     "groundedness", "words", "total ms", "answer"], _record_rows(records))]
    return "\n".join(lines) + "\n"


def write_eval_report(out_dir: Path, runs: Sequence[ModeRun], summaries: Sequence[ModeSummary],
                      meta: dict[str, Any]) -> dict[str, str]:
    """Writes eval.md, eval.json and the scatter; `meta` describes the run (suite, knowledge...)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = {"created_utc": utc_now(), **meta}
    machine = machine_info()
    scatter = SCATTER_FILE if charts.quality_latency_chart(summaries, out_dir / SCATTER_FILE) else None
    write_json(out_dir / "eval.json", {
        "kind": "ragstage-eval", **meta, "machine": machine, "rubric": RUBRIC_NOTE,
        "summary": list(summaries), "records": [r for run in runs for r in run.records],
    })
    (out_dir / "eval.md").write_text(markdown(summaries, runs, meta, machine, scatter), encoding="utf-8")
    files = {"markdown": out_dir / "eval.md", "json": out_dir / "eval.json"}
    if scatter:
        files["quality_vs_latency"] = out_dir / scatter
    return {name: str(path) for name, path in files.items()}
