"""PNG charts for slides: large type, one message per chart, drawn without a display.

Figures are built with `matplotlib.figure.Figure` (Agg canvas) rather than pyplot, so nothing
global is touched and charts can be drawn from any thread or a headless CI box.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402  (the backend must be chosen first)

from ragstage.evaluation.bench_summary import TargetSummary  # noqa: E402
from ragstage.evaluation.evaluate import ModeSummary  # noqa: E402
from ragstage.evaluation.gold_eval import GoldSummary  # noqa: E402

PART_LABELS = {
    "prep_ms": "prompt prep",
    "retrieval_ms": "retrieval",
    "model_ttft_ms": "request to first token",
    "decode_ms": "decode",
    "other_ms": "other",
}
PART_COLORS = ("#8da0cb", "#66c2a5", "#fc8d62", "#e78ac3", "#b3b3b3")
DPI = 120


def _figure(width: float = 9, height: float = 5) -> Figure:
    figure = Figure(figsize=(width, height), dpi=DPI)
    figure.set_layout_engine("constrained")
    return figure


def _save(figure: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path


def _measured(summaries: Sequence[TargetSummary]) -> list[TargetSummary]:
    return [s for s in summaries if s.total_ms is not None and s.ttft_ms is not None]


def latency_chart(summaries: Sequence[TargetSummary], path: Path) -> Path | None:
    """TTFT and total latency p50 per target; whiskers reach p95."""
    rows = _measured(summaries)
    if not rows:
        return None
    figure = _figure()
    axes = figure.add_subplot()
    positions = range(len(rows))
    for offset, (name, key, color) in enumerate((("TTFT", "ttft_ms", "#fc8d62"), ("total", "total_ms", "#8da0cb"))):
        p50 = [getattr(s, key).p50 / 1000 for s in rows]
        p95 = [getattr(s, key).p95 / 1000 for s in rows]
        xs = [p + (offset - 0.5) * 0.38 for p in positions]
        axes.bar(xs, p50, width=0.38, color=color, label=f"{name} p50 (whisker: p95)",
                 yerr=[[0] * len(rows), [hi - lo for lo, hi in zip(p50, p95)]], capsize=6)
    axes.set_xticks(list(positions), [s.target for s in rows], fontsize=12)
    axes.set_ylabel("seconds", fontsize=12)
    axes.set_title("Latency per target", fontsize=14)
    axes.legend()
    return _save(figure, path)


def decomposition_chart(summaries: Sequence[TargetSummary], path: Path) -> Path | None:
    """Where an answer's time goes, one stacked bar per target (mean of measured answers)."""
    rows = [s for s in summaries if s.decomposition_ms]
    if not rows:
        return None
    figure = _figure(10, 2.2 + 0.8 * len(rows))
    axes = figure.add_subplot()
    left = [0.0] * len(rows)
    for (part, label), color in zip(PART_LABELS.items(), PART_COLORS):
        widths = [max(s.decomposition_ms.get(part, 0.0), 0.0) / 1000 for s in rows]
        axes.barh([s.target for s in rows], widths, left=left, color=color, label=label)
        left = [a + b for a, b in zip(left, widths)]
    axes.invert_yaxis()
    axes.set_xlabel("seconds (mean per answer)", fontsize=12)
    axes.set_title("Latency decomposition", fontsize=14)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=5, fontsize=10, frameon=False)
    return _save(figure, path)


def throughput_chart(summaries: Sequence[TargetSummary], path: Path) -> Path | None:
    rows = [s for s in summaries if s.decode_tokens_per_s_p50 is not None]
    if not rows:
        return None
    figure = _figure()
    axes = figure.add_subplot()
    bars = axes.bar([s.target for s in rows], [s.decode_tokens_per_s_p50 for s in rows], color="#66c2a5")
    axes.bar_label(bars, fmt="%.1f", fontsize=11)
    axes.set_ylabel("decode tokens/s (p50)", fontsize=12)
    axes.set_title("Decode speed (first token excluded)", fontsize=14)
    return _save(figure, path)


def quality_latency_chart(summaries: Sequence[ModeSummary], path: Path) -> Path | None:
    """One point per mode: up is better, left is faster."""
    rows = [s for s in summaries if s.quality is not None and s.total_ms is not None]
    if not rows:
        return None
    figure = _figure(8, 5.5)
    axes = figure.add_subplot()
    for summary in rows:
        x, y = summary.total_ms.p50 / 1000, 100 * summary.quality
        axes.scatter([x], [y], s=160, zorder=3)
        axes.annotate(summary.mode, (x, y), textcoords="offset points", xytext=(8, 8), fontsize=13)
    axes.set_xlabel("total latency p50 (s)", fontsize=12)
    axes.set_ylabel("questions handled right (%)", fontsize=12)
    axes.set_ylim(-5, 105)
    axes.set_xlim(0, 1.25 * max(s.total_ms.p50 / 1000 for s in rows) or 1.0)  # room for the labels
    axes.grid(alpha=0.3)
    axes.set_title("Quality vs latency", fontsize=14)
    return _save(figure, path)


LANGUAGE_METRICS = (("hit@5", "hit_at_5", "#8da0cb"), ("contains gold", "contains_gold", "#66c2a5"),
                    ("gold cited", "gold_cited", "#fc8d62"))
TARGET_SHARE_OF_ENGLISH = 0.8  # issue 17: contains gold in other languages >= 0.8x English


def _language_axes(axes, rows: Sequence[GoldSummary]) -> None:  # type: ignore[no-untyped-def]
    positions = range(len(rows))
    for offset, (label, key, color) in enumerate(LANGUAGE_METRICS):
        values = [100 * (getattr(s, key) or 0.0) for s in rows]
        axes.bar([p + (offset - 1) * 0.27 for p in positions], values, width=0.27, color=color, label=label)
    english = next((s.contains_gold for s in rows if s.lang == "en"), None)
    if english:
        axes.axhline(100 * TARGET_SHARE_OF_ENGLISH * english, color="#66c2a5", linestyle="--", linewidth=1.2,
                     label=f"{TARGET_SHARE_OF_ENGLISH:.1f}x English contains gold")
    axes.set_xticks(list(positions), [s.lang for s in rows], fontsize=12)
    axes.set_ylim(0, 105)
    axes.set_ylabel("% of questions", fontsize=12)
    axes.set_title(f"{rows[0].mode}: per language", fontsize=14)
    axes.legend(loc="lower left", fontsize=9, ncol=2)


def language_chart(summaries: Sequence[GoldSummary], path: Path) -> Path | None:
    """Per mode, one group of bars per language: retrieval hit@5, answers containing a gold
    answer, answers citing the gold passage."""
    modes = list(dict.fromkeys(s.mode for s in summaries if s.hit_at_5 is not None))
    if not modes:
        return None
    figure = _figure(max(8.0, 1.0 + 0.9 * len({s.lang for s in summaries})), 4.5 * len(modes))
    for number, mode in enumerate(modes, start=1):
        _language_axes(figure.add_subplot(len(modes), 1, number),
                       [s for s in summaries if s.mode == mode and s.hit_at_5 is not None])
    return _save(figure, path)
