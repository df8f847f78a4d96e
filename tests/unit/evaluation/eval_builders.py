"""Hand-made answers for the evaluation tests: real `AnswerResult` values with chosen numbers."""

from __future__ import annotations

from ragstage.answer import AnswerResult, Citation, Escalation
from ragstage.knowledge import Chunk, Hit
from ragstage.metrics import CallTimings, StageMetrics, TokenUsage, TurnMetrics


def chunk(source: str, text: str, ordinal: int = 0) -> Chunk:
    return Chunk(f"{source}#{ordinal:04d}", source, source, "", None, 0, len(text), text, len(text.split()))


def stage(name: str = "answer", role: str = "slm", *, prep_ms: float = 2.0, ttft_ms: float = 100.0,
          decode_ms: float = 400.0, prompt_tokens: int = 300, completion_tokens: int = 21,
          cost_usd: float = 0.0001, finish_reason: str | None = "stop") -> StageMetrics:
    return StageMetrics(
        stage=name, role=role, model_label=f"{role}-model", prep_ms=prep_ms, retrieval_ms=5.0,
        timings=CallTimings(ttft_ms, decode_ms, ttft_ms + decode_ms),
        usage=TokenUsage(prompt_tokens, completion_tokens, "reported"), cost_usd=cost_usd,
        finish_reason=finish_reason,
    )


def result(text: str = "BM25 uses k1 1.5 [1].", *, stages: tuple[StageMetrics, ...] | None = None,
           retrieval_ms: float = 5.0, total_ms: float | None = None, mode: str = "slm",
           hits: tuple[Hit, ...] | None = None, error: str | None = None,
           escalation: Escalation | None = None, answered_by_model: bool = True) -> AnswerResult:
    stages = (stage(),) if stages is None else stages
    if total_ms is None:
        total_ms = retrieval_ms + sum(s.prep_ms + s.timings.ttft_ms + s.timings.decode_ms for s in stages) + 1.0
    hits = hits if hits is not None else (Hit(1, 3.0, chunk("bm25.md", "BM25Okapi uses k1 = 1.5 and b = 0.75.")),)
    citations = tuple(Citation(n, hits[n - 1].chunk, hits[n - 1].score) for n in (1,) if "[1]" in text and hits)
    return AnswerResult(
        question="q", mode=mode, text=text, hits=hits, citations=citations,
        metrics=TurnMetrics(retrieval_ms=retrieval_ms, stages=stages, total_ms=total_ms),
        escalation=escalation, answered_by_model=answered_by_model, error=error,
    )
