"""What each answer cost, as Markdown for Chainlit steps: Retrieval, Draft/Refine, Metrics.

Pure formatting (no Chainlit import) so the numbers shown are testable as text.
Step names must stay within [A-Za-z0-9_ .-]: other characters break Chainlit's avatar URL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from ragstage.ui.escaping import escape_inline

if TYPE_CHECKING:
    from ragstage.answer import AnswerResult, Escalation
    from ragstage.knowledge import Hit
    from ragstage.metrics import StageMetrics, TurnMetrics

STEP_NAMES = {
    "retrieval": "Retrieval",
    "answer": "Answer",
    "draft": "Draft",
    "refine": "Refine",
    "slm": "SLM answer",
    "llm": "LLM answer",
    "metrics": "Metrics",
}
_PREVIEW_CHARS = 140


def retrieval_markdown(query: str, hits: Sequence[Hit], retrieval_ms: float) -> str:
    lines = [f"**Query:** {escape_inline(query)}", f"**Time:** {retrieval_ms:.1f} ms", ""]
    if not hits:
        lines.append("No passage matched the question.")
        return "\n".join(lines)
    lines += ["| # | score | source | passage |", "|---:|---:|---|---|"]
    for hit in hits:
        preview = escape_inline(hit.chunk.text)[:_PREVIEW_CHARS].rstrip("\\")
        where = escape_inline(hit.chunk.source)
        if hit.chunk.page is not None:
            where += f" p.{hit.chunk.page}"
        lines.append(f"| {hit.rank} | {hit.score:.2f} | {where} | {preview.replace('|', ' ')}... |")
    return "\n".join(lines)


def escalation_markdown(escalation: Escalation) -> str:
    """Hybrid's decision, its reason and the draft's support score, as the steps show them."""
    verdict = "refined by the LLM" if escalation.escalated else "kept the draft"
    score = escalation.support_score
    support = "" if score is None else f" · **draft support score:** {score:.0%}"
    return f"**Escalation:** {verdict}: {escape_inline(escalation.reason)}{support}"


def short_model_label(label: str) -> str:
    """The model's name without how it was chosen (the welcome message says that)."""
    return label.split(" (", 1)[0]


def _ms(value: float) -> str:
    return f"{value:,.0f}"


def _tokens(stage: StageMetrics) -> str:
    usage = stage.usage
    return f"{usage.prompt_tokens:,} / {usage.completion_tokens:,} ({usage.source})"


def _stage_row(stage: StageMetrics) -> str:
    name = STEP_NAMES.get(stage.stage, stage.stage)
    return (
        f"| {name} | {escape_inline(short_model_label(stage.model_label))} | {_ms(stage.timings.ttft_ms)} "
        f"| {_ms(stage.timings.decode_ms)} | {_ms(stage.timings.total_ms)} | {_tokens(stage)} "
        f"| {stage.decode_tokens_per_s:.1f} | ${stage.cost_usd:.6f} |"
    )


def metrics_markdown(metrics: TurnMetrics) -> str:
    """One row per stage plus retrieval and a total, in the units people compare models by."""
    lines = [
        "| stage | model | TTFT ms | decode ms | total ms | tokens in / out | decode tok/s | cost (emulated) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
        f"| Retrieval | BM25 | | | {metrics.retrieval_ms:,.1f} | | | |",
    ]
    lines += [_stage_row(stage) for stage in metrics.stages]
    usage = metrics.usage
    lines.append(
        f"| **Total** | | **{_ms(metrics.ttft_ms)}** | {_ms(metrics.decode_ms)} "
        f"| **{_ms(metrics.total_ms)}** | {usage.prompt_tokens:,} / {usage.completion_tokens:,} "
        f"({usage.source}) | | **${metrics.cost_usd:.6f}** |"
    )
    lines.append(
        "\nTTFT: request sent to first token (prefill). Decode tok/s: tokens after the first, "
        "over the time spent producing them. Cost: tokens at hypothetical cloud prices."
    )
    return "\n".join(lines)


def compare_schedule_note(results: Sequence[AnswerResult]) -> str:
    """How the compared answers were run, because it decides whether their speed ratio is fair."""
    if any(r.metrics.stages_concurrent for r in results):
        return ("*Both models answered at the same time on shared CPU cores: each timing includes the "
                "other's load, so the ratio is not a fair speed comparison.*")
    return "*The models answered one after the other, each with all CPU cores: the timings compare the models.*"


def compare_markdown(results: Sequence[AnswerResult]) -> str:
    """Which model answered faster, and by how much (total latency of each answer)."""
    timed = [(r, r.metrics.stages[0]) for r in results if r.metrics.stages]
    if len(timed) < 2:
        return "Only one model answered, so there is nothing to compare."
    (fast, fast_stage), (slow, slow_stage) = sorted(timed, key=lambda pair: pair[1].timings.total_ms)[:2]
    fast_ms, slow_ms = fast_stage.timings.total_ms, slow_stage.timings.total_ms
    ratio = slow_ms / fast_ms if fast_ms > 0 else float("inf")
    return (
        f"**{escape_inline(short_model_label(fast_stage.model_label))}** answered in {fast_ms / 1000:.1f} s, "
        f"**{escape_inline(short_model_label(slow_stage.model_label))}** in {slow_ms / 1000:.1f} s: "
        f"the first was **{ratio:.1f}x faster** ({(slow_ms - fast_ms) / 1000:.1f} s less). "
        f"First token: {fast_stage.timings.ttft_ms:,.0f} ms vs {slow_stage.timings.ttft_ms:,.0f} ms; "
        f"cost ${fast_stage.cost_usd:.6f} vs ${slow_stage.cost_usd:.6f}.\n\n{compare_schedule_note(results)}"
    )
