"""Answer-pipeline events rendered as server-sent events for the browser page.

Four event names reach the page: `token` (text as it arrives), `stage` (retrieval done, a model
stage started or finished, with its metrics: `StageMetrics.to_json()`; hybrid's escalation
decision as stage "escalation", status "decided"), `done` (the answer: `AnswerResult.to_json()`,
its `attribution` and `citations[].origin` included) and `error` (a readable message). Each answer event type maps to one
small function.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ragstage.answer import (
    Done,
    EscalationDecided,
    Retrieved,
    StageFailed,
    StageFinished,
    StageStarted,
    Token,
    passage_json,
)


def sse(event: str, data: dict[str, Any]) -> str:
    """One SSE frame; JSON keeps newlines in tokens out of the framing."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _retrieved(event: Retrieved) -> tuple[str, dict[str, Any]]:
    sources = [passage_json(hit.rank, hit.chunk, hit.score) for hit in event.hits]
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
        "engine": endpoint.engine,
    }


def _token(event: Token) -> tuple[str, dict[str, Any]]:
    return "token", {"stage": event.stage, "text": event.text}


def _stage_finished(event: StageFinished) -> tuple[str, dict[str, Any]]:
    return "stage", {"status": "finished", **event.metrics.to_json()}


def _stage_failed(event: StageFailed) -> tuple[str, dict[str, Any]]:
    return "error", {"stage": event.stage, "message": str(event.error)}


def _escalation(event: EscalationDecided) -> tuple[str, dict[str, Any]]:
    return "stage", {"stage": "escalation", "status": "decided", **event.escalation.to_json()}


def _done(event: Done) -> tuple[str, dict[str, Any]]:
    return "done", event.result.to_json()


RENDERERS: dict[type, Callable[[Any], tuple[str, dict[str, Any]]]] = {
    Retrieved: _retrieved,
    StageStarted: _stage_started,
    Token: _token,
    StageFinished: _stage_finished,
    StageFailed: _stage_failed,
    EscalationDecided: _escalation,
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
