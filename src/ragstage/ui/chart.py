"""The session latency chart: TTFT and total latency of every model call, coloured by model.

After a few questions a presenter opens it to show the SLM/LLM difference at a glance.
Rendered by public/elements/LatencyChart.jsx from plain JSON props.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import chainlit as cl

from ragstage.ui.locale import Locale, english
from ragstage.ui.steps import short_model_label

if TYPE_CHECKING:
    from ragstage.answer import AnswerResult

# Chainlit loads public/elements/<name>.jsx, and the same name in the text becomes its chip.
CHART_ELEMENT_NAME = "LatencyChart"
_MAX_POINTS = 60  # a long session keeps its most recent calls; the chart stays readable


@dataclass(frozen=True)
class LatencyPoint:
    message: int  # 1-based question number in this chat
    stage: str
    model: str
    ttft_ms: float
    total_ms: float


def latency_points(result: AnswerResult, message: int) -> list[LatencyPoint]:
    """One point per model call of the answer (compare and hybrid answers make two)."""
    stages = [stage for r in (result.compared or (result,)) for stage in r.metrics.stages]
    return [
        LatencyPoint(message, s.stage, short_model_label(s.model_label),
                     round(s.timings.ttft_ms, 1), round(s.timings.total_ms, 1))
        for s in stages
    ]


def chart_element(points: list[LatencyPoint], locale: Locale | None = None) -> cl.CustomElement:
    recent = points[-_MAX_POINTS:]
    t = (locale or english()).text
    labels = {key: t(f"chart.{key}") for key in ("empty", "description", "legend")}
    return cl.CustomElement(
        name=CHART_ELEMENT_NAME,
        props={"title": t("chart.title"), "labels": labels, "points": [asdict(p) for p in recent]},
        display="side",
    )
