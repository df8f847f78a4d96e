"""Answer-pipeline events rendered as server-sent events for the browser page.

Four event names reach the page: `token` (text as it arrives), `stage` (retrieval done, a model
stage started or finished, with its metrics), `done` (the final text, citations and timings)
and `error` (a readable message). Each answer event type maps to one small function.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ragstage.answer import Done, Retrieved, StageFailed, StageFinished, StageStarted, Token
from ragstage.metrics import StageMetrics


def sse(event: str, data: dict[str, Any]) -> str:
    """One SSE frame; JSON keeps newlines in tokens out of the framing."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _hit_summary(n: int, chunk: Any, score: float) -> dict[str, Any]:
    return {
        "n": n,
        "source": chunk.source,
        "title": chunk.title,
        "heading": chunk.heading,
        "page": chunk.page,
        "score": round(score, 3),
    }


def stage_metrics(metrics: StageMetrics) -> dict[str, Any]:
    return {
        "stage": metrics.stage,
        "role": metrics.role,
        "model": metrics.model_label,
        "ttft_ms": round(metrics.timings.ttft_ms, 1),
        "decode_ms": round(metrics.timings.decode_ms, 1),
        "total_ms": round(metrics.timings.total_ms, 1),
        "prompt_tokens": metrics.usage.prompt_tokens,
        "completion_tokens": metrics.usage.completion_tokens,
        "decode_tokens_per_s": round(metrics.decode_tokens_per_s, 1),
        "cost_usd": metrics.cost_usd,
        "finish_reason": metrics.finish_reason,
    }


def _retrieved(event: Retrieved) -> tuple[str, dict[str, Any]]:
    sources = [_hit_summary(i, hit.chunk, hit.score) for i, hit in enumerate(event.hits, start=1)]
    payload = {"stage": "retrieval", "status": "finished", "sources": sources}
    return "stage", payload | {"retrieval_ms": round(event.retrieval_ms, 1)}


def _stage_started(event: StageStarted) -> tuple[str, dict[str, Any]]:
    endpoint = event.endpoint
    return "stage", {
        "stage": event.stage,
        "status": "started",
        "role": endpoint.role,
        "model": endpoint.display_name,
        "model_label": endpoint.label(),
        "backend": endpoint.backend,
    }


def _token(event: Token) -> tuple[str, dict[str, Any]]:
    return "token", {"stage": event.stage, "text": event.text}


def _stage_finished(event: StageFinished) -> tuple[str, dict[str, Any]]:
    return "stage", {"status": "finished", **stage_metrics(event.metrics)}


def _stage_failed(event: StageFailed) -> tuple[str, dict[str, Any]]:
    return "error", {"stage": event.stage, "message": str(event.error)}


def _done(event: Done) -> tuple[str, dict[str, Any]]:
    result = event.result
    metrics = result.metrics
    citations = [
        {**_hit_summary(c.n, c.chunk, c.score), "text": c.chunk.text} for c in result.citations
    ]
    escalation = result.escalation
    return "done", {
        "mode": result.mode,
        "text": result.text,
        "answered_by_model": result.answered_by_model,
        "error": result.error,
        "citations": citations,
        "escalation": None if escalation is None else {
            "escalated": escalation.escalated, "reason": escalation.reason},
        "timings": {
            "retrieval_ms": round(metrics.retrieval_ms, 1),
            "ttft_ms": round(metrics.ttft_ms, 1),
            "decode_ms": round(metrics.decode_ms, 1),
            "total_ms": round(metrics.total_ms, 1),
        },
        "usage": {
            "prompt_tokens": metrics.usage.prompt_tokens,
            "completion_tokens": metrics.usage.completion_tokens,
            "source": metrics.usage.source,
        },
        "cost_usd": metrics.cost_usd,
        "stages": [stage_metrics(stage) for stage in metrics.stages],
    }


RENDERERS: dict[type, Callable[[Any], tuple[str, dict[str, Any]]]] = {
    Retrieved: _retrieved,
    StageStarted: _stage_started,
    Token: _token,
    StageFinished: _stage_finished,
    StageFailed: _stage_failed,
    Done: _done,
}


def render(event: object) -> str:
    """The SSE frame for one answer event; an unknown type is a programming error."""
    try:
        renderer = RENDERERS[type(event)]
    except KeyError:
        known = ", ".join(sorted(kind.__name__ for kind in RENDERERS))
        raise TypeError(f"no SSE rendering for {type(event).__name__}; known: {known}") from None
    return sse(*renderer(event))
