"""What each answer cost, as Markdown for Chainlit steps: Retrieval, Draft/Refine, Metrics.

Pure formatting (no Chainlit import) so the numbers shown are testable as text. Every word is
the reader's language (`ui/locale.py`). Step names are translated too: Chainlit builds a step's
avatar URL from its name and refuses names outside [A-Za-z0-9_ .-], so `.chainlit/config.toml`
sets `default_avatar_file_url` (the same ragstage logo for every author) and no name is ever put
in a URL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from ragstage.ui.escaping import escape_inline
from ragstage.ui.locale import Locale, english

if TYPE_CHECKING:
    from ragstage.answer import AnswerResult, Escalation
    from ragstage.knowledge import Hit
    from ragstage.metrics import StageMetrics, TurnMetrics

STEPS = ("retrieval", "answer", "draft", "refine", "slm", "llm", "metrics")  # each has a "step.<name>" text
_PREVIEW_CHARS = 140


def step_name(step: str, locale: Locale | None = None) -> str:
    """The visible name of a step ("retrieval", "draft", a stage...) in the reader's language."""
    return (locale or english()).text(f"step.{step}") if step in STEPS else step


def retrieval_markdown(query: str, hits: Sequence[Hit], retrieval_ms: float, locale: Locale | None = None) -> str:
    t = (locale or english()).text
    lines = [f"**{t('retrieval.query')}:** {escape_inline(query)}", f"**{t('retrieval.time')}:** {retrieval_ms:.1f} ms", ""]
    if not hits:
        lines.append(t("retrieval.nothing"))
        return "\n".join(lines)
    lines += [f"| # | {t('retrieval.score')} | {t('retrieval.source')} | {t('retrieval.passage')} |", "|---:|---:|---|---|"]
    for hit in hits:
        preview = escape_inline(hit.chunk.text)[:_PREVIEW_CHARS].rstrip("\\")
        where = escape_inline(hit.chunk.source)
        if hit.chunk.page is not None:
            where += f" p.{hit.chunk.page}"
        lines.append(f"| {hit.rank} | {hit.score:.2f} | {where} | {preview.replace('|', ' ')}... |")
    return "\n".join(lines)


def escalation_markdown(escalation: Escalation, locale: Locale | None = None) -> str:
    """Hybrid's decision, its reason and the draft's support score, as the steps show them."""
    t = (locale or english()).text
    verdict = t("metrics.escalation_refined" if escalation.escalated else "metrics.escalation_kept")
    score = escalation.support_score
    support = "" if score is None else t("metrics.escalation_support", score=f"{score:.0%}")
    return t("metrics.escalation", verdict=verdict, reason=escape_inline(escalation.reason)) + support


def short_model_label(label: str) -> str:
    """The model's name without how it was chosen (the welcome message says that)."""
    return label.split(" (", 1)[0]


def _ms(value: float) -> str:
    return f"{value:,.0f}"


def _usage(prompt_tokens: int, completion_tokens: int, source: str, locale: Locale) -> str:
    shown = locale.text(f"metrics.usage_{source}") if source in ("reported", "counted") else source
    return f"{prompt_tokens:,} / {completion_tokens:,} ({shown})"


def _stage_row(stage: StageMetrics, locale: Locale) -> str:
    usage = _usage(stage.usage.prompt_tokens, stage.usage.completion_tokens, stage.usage.source, locale)
    return (
        f"| {step_name(stage.stage, locale)} | {escape_inline(short_model_label(stage.model_label))} "
        f"| {_ms(stage.timings.ttft_ms)} | {_ms(stage.timings.decode_ms)} | {_ms(stage.timings.total_ms)} "
        f"| {usage} | {stage.decode_tokens_per_s:.1f} | ${stage.cost_usd:.6f} |"
    )


def metrics_markdown(metrics: TurnMetrics, locale: Locale | None = None) -> str:
    """One row per stage plus retrieval and a total, in the units people compare models by."""
    locale = locale or english()
    t = locale.text
    columns = ("stage", "model", "ttft_ms", "decode_ms", "total_ms", "tokens", "decode_rate", "cost")
    usage = metrics.usage
    lines = [
        "| " + " | ".join(t(f"metrics.{column}") for column in columns) + " |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
        f"| {step_name('retrieval', locale)} | BM25 | | | {metrics.retrieval_ms:,.1f} | | | |",
        *(_stage_row(stage, locale) for stage in metrics.stages),
        f"| **{t('metrics.total')}** | | **{_ms(metrics.ttft_ms)}** | {_ms(metrics.decode_ms)} "
        f"| **{_ms(metrics.total_ms)}** | {_usage(usage.prompt_tokens, usage.completion_tokens, usage.source, locale)} "
        f"| | **${metrics.cost_usd:.6f}** |",
        "",
        t("metrics.explained"),
    ]
    return "\n".join(lines)


def compare_schedule_note(results: Sequence[AnswerResult], locale: Locale | None = None) -> str:
    """How the compared answers were run, because it decides whether their speed ratio is fair."""
    concurrent = any(r.metrics.stages_concurrent for r in results)
    return (locale or english()).text("compare.concurrent" if concurrent else "compare.sequential")


def compare_markdown(results: Sequence[AnswerResult], locale: Locale | None = None) -> str:
    """Which model answered faster, and by how much (total latency of each answer)."""
    locale = locale or english()
    timed = [(r, r.metrics.stages[0]) for r in results if r.metrics.stages]
    if len(timed) < 2:
        return locale.text("compare.only_one")
    (fast, fast_stage), (slow, slow_stage) = sorted(timed, key=lambda pair: pair[1].timings.total_ms)[:2]
    fast_ms, slow_ms = fast_stage.timings.total_ms, slow_stage.timings.total_ms
    ratio = slow_ms / fast_ms if fast_ms > 0 else float("inf")
    summary = locale.text(
        "compare.result",
        fast=escape_inline(short_model_label(fast_stage.model_label)), fast_s=f"{fast_ms / 1000:.1f}",
        slow=escape_inline(short_model_label(slow_stage.model_label)), slow_s=f"{slow_ms / 1000:.1f}",
        ratio=f"{ratio:.1f}", saved_s=f"{(slow_ms - fast_ms) / 1000:.1f}",
        fast_ttft_ms=f"{fast_stage.timings.ttft_ms:,.0f}", slow_ttft_ms=f"{slow_stage.timings.ttft_ms:,.0f}",
        fast_cost=f"{fast_stage.cost_usd:.6f}", slow_cost=f"{slow_stage.cost_usd:.6f}",
    )  # fmt: skip
    return f"{summary}\n\n{compare_schedule_note(results, locale)}"
