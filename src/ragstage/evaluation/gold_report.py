"""The files `ragstage eval --suite DIR` writes: eval.md (one row per language and mode, then every
question), eval.json (every answer with the passages it was shown) and a PNG of hit@5, contains
gold and gold cited per language, beside the plain eval's reports."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ragstage.evaluation import charts
from ragstage.evaluation.gold_eval import GoldRecord
from ragstage.evaluation.gold_languages import LanguageRun, relative_to_baseline
from ragstage.evaluation.reports import fmt, fmt_share, fmt_usd, machine_info, table, utc_now, write_json

METRICS_NOTE = (
    "**hit@5**: the gold passage is among the top 5 hits of retrieval alone; **hit@k**: among the top-k the "
    "answer retrieved; **shown**: it is among the passages "
    "put in the prompt (the context budget may drop some); **contains gold**: a gold answer appears "
    "in the answer as whole words after NFKC, casefolding and removing punctuation (and English "
    "articles; Chinese, Japanese and Thai compared with spaces removed); **vs en**: contains gold over "
    "English's, same mode; **gold cited**: one of the answer's citations (after sentence attribution: the "
    "model's supported [n] plus computed ones) points at the gold passage, **by model**: one of the model's "
    "own [n] does; **precision**: share of cited passages that are the gold one, over answers citing "
    "anything (after attribution / model's own); **uncited**: answers citing nothing (after / model's "
    "own); **support**: mean share of answer sentences the passages support; **escalated**: hybrid "
    "drafts refined by the LLM. Latency is total time per answer, retrieval included."
)


LANGUAGES_CHART_FILE = "eval-languages.png"


def _dist(dist: Any, key: str) -> str:
    return "-" if dist is None else fmt(getattr(dist, key))


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _summary_rows(runs: Sequence[LanguageRun]) -> list[list[str]]:
    ratios = relative_to_baseline(runs)
    return [
        [s.lang, s.mode, s.status, str(s.questions), fmt_share(s.hit_at_5), fmt_share(s.hit_at_k),
         fmt_share(s.gold_shown), fmt_share(s.contains_gold), _ratio(ratios.get((s.lang, s.mode))),
         fmt_share(s.gold_cited), fmt_share(s.gold_cited_by_model),
         f"{fmt_share(s.gold_citation_precision)} / {fmt_share(s.model_citation_precision)}",
         f"{fmt_share(s.no_citation)} / {fmt_share(s.no_model_citation)}", fmt_share(s.support_score),
         fmt_share(s.escalation_rate), _dist(s.ttft_ms, "p50"), _dist(s.total_ms, "mean"), _dist(s.total_ms, "p50"),
         _dist(s.total_ms, "p95"), fmt_usd(s.cost_per_answer_usd)]
        for run in runs for s in run.summaries
    ]  # fmt: skip


def _record_rows(records: Sequence[GoldRecord]) -> list[list[str]]:
    def yes(value: bool) -> str:
        return "yes" if value else "no"

    return [
        [r.lang, r.mode, r.question_id, r.question[:80], " / ".join(r.gold_answers)[:40], str(r.gold_rank or "-"),
         yes(r.contains_gold), yes(r.gold_cited), fmt(r.total_ms), (r.error or r.answer)[:120]]
        for r in records
    ]  # fmt: skip


def gold_markdown(runs: Sequence[LanguageRun], meta: dict[str, Any], machine: dict[str, Any],
                  chart: str | None) -> str:
    summaries = [s for run in runs for s in run.summaries]
    models = {f"- **{s.mode}**: {'; '.join(s.models.values()) or '-'}" for s in summaries if s.models}
    sample = f"sample {meta['questions']} of {meta['suite_questions']} per language (seed {meta['seed']})"
    lines = [
        "# ragstage eval (gold suite)",
        "",
        f"{meta['created_utc']} · suite `{meta['suite']}` ({', '.join(meta['languages'])}) · {sample} · "
        f"top-k {meta['top_k']} · context budget {meta['context_budget_tokens']} tokens · temperature 0 · "
        f"max {meta['max_tokens']} tokens · embedded threads {meta.get('embedded_threads', '-')} (0 = auto) · "
        f"{machine['cpu_count']} CPUs, load {machine['load_average_1m']}",
        "",
        *sorted(models),
        "",
        table(["lang", "mode", "status", "questions", "hit@5", "hit@k", "shown", "contains gold", "vs en",
               "gold cited", "by model", "precision", "uncited", "support", "escalated", "TTFT p50 ms",
               "total mean ms", "total p50 ms", "total p95 ms", "cost / answer"], _summary_rows(runs)),
        "",
        METRICS_NOTE,
    ]
    problems = [f"- **{s.lang} {s.mode}** ({s.status}): {s.error}" for s in summaries if s.error]
    if problems:
        lines += ["", "## Problems", "", *problems]
    if chart:
        lines += ["", f"![hit@5, contains gold and gold cited per language]({chart})"]
    records = [r for run in runs for mode_run in run.runs for r in mode_run.records]
    lines += ["", "## Every question", "",
              table(["lang", "mode", "id", "question", "gold", "gold rank", "contains gold", "gold cited", "total ms",
                     "answer"], _record_rows(records))]
    return "\n".join(lines) + "\n"


def write_gold_report(out_dir: Path, runs: Sequence[LanguageRun], meta: dict[str, Any]) -> dict[str, str]:
    """Writes eval.md, eval.json and the per-language chart; `meta` describes the run (suite,
    sample, seed, settings)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = {"created_utc": utc_now(), **meta, "languages": [run.lang for run in runs]}
    machine = machine_info()
    summaries = [s for run in runs for s in run.summaries]
    chart = LANGUAGES_CHART_FILE if charts.language_chart(summaries, out_dir / LANGUAGES_CHART_FILE) else None
    ratios = relative_to_baseline(runs)
    write_json(out_dir / "eval.json", {
        "kind": "ragstage-eval-gold", **meta, "machine": machine, "metrics": METRICS_NOTE,
        "summary": summaries,
        "contains_gold_vs_en": [{"lang": lang, "mode": mode, "ratio": ratio} for (lang, mode), ratio in ratios.items()],
        "records": [r for run in runs for mode_run in run.runs for r in mode_run.records],
    })
    (out_dir / "eval.md").write_text(gold_markdown(runs, meta, machine, chart), encoding="utf-8")
    files = {"markdown": out_dir / "eval.md", "json": out_dir / "eval.json"}
    if chart:
        files["languages_chart"] = out_dir / chart
    return {name: str(path) for name, path in files.items()}
