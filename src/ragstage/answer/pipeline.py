"""Question in, grounded answer out: retrieve, decide whether a model is needed, run the mode.

Streaming first: `answer()` is `answer_stream()` run to its `Done`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from typing import TYPE_CHECKING

from ragstage.answer.modes import mode_runner
from ragstage.answer.options import AnswerOptions
from ragstage.answer.result import AnswerEvent, AnswerResult, Done, Retrieved
from ragstage.answer.stage import EndpointResolver, StreamFn, TurnContext
from ragstage.knowledge import analyze
from ragstage.metrics import TurnMetrics

if TYPE_CHECKING:
    from ragstage.knowledge import ChunkIndex, Hit

NOT_COVERED = (
    "The knowledge base does not cover this: no passage is relevant enough to answer from. "
    "Try other words, add a document, or turn on \"answer anyway\"."
)


# BM25Okapi's IDF is positive only for a term found in fewer than half of the documents, so
# with fewer than this many documents every score is zero or negative and a floor means nothing.
MIN_DOCUMENTS_FOR_SCORE_FLOOR = 3


def relevant_hits(question: str, hits: Sequence[Hit], index: ChunkIndex, score_floor: float) -> tuple[Hit, ...]:
    """The hits worth answering from: above the score floor, or, in a folder too small for BM25
    scores to mean anything, sharing at least one query term."""
    if index.document_count >= MIN_DOCUMENTS_FOR_SCORE_FLOOR:
        return tuple(hit for hit in hits if hit.score >= score_floor)
    terms = set(analyze(question))
    return tuple(hit for hit in hits if terms & set(analyze(hit.chunk.text)))


def _search(index: ChunkIndex, question: str, k: int) -> tuple[tuple[Hit, ...], float]:
    started = time.perf_counter()
    hits = tuple(index.search(question, k)) if question.strip() else ()
    return hits, (time.perf_counter() - started) * 1000


def not_covered_result(
    question: str, options: AnswerOptions, hits: tuple[Hit, ...], retrieval_ms: float, started: float
) -> AnswerResult:
    return AnswerResult(
        question=question,
        mode=options.mode,
        text=NOT_COVERED,
        hits=hits,
        citations=(),
        metrics=TurnMetrics(retrieval_ms=retrieval_ms, total_ms=(time.perf_counter() - started) * 1000),
        escalation=None,
        answered_by_model=False,
    )


def _default_stream_fn() -> StreamFn:
    from ragstage.models import stream_chat

    return stream_chat


async def answer_stream(
    question: str,
    *,
    index: ChunkIndex,
    catalog: EndpointResolver,
    options: AnswerOptions,
    history: Sequence[tuple[str, str]] = (),
    stream_fn: StreamFn | None = None,
) -> AsyncIterator[AnswerEvent]:
    """Events of one answer: `Retrieved`, then the mode's stages, then exactly one `Done`.

    `stream_fn` defaults to `ragstage.models.stream_chat`; tests pass a scripted model.
    """
    runner = mode_runner(options.mode)  # an unknown mode fails before any work
    started = time.perf_counter()
    # Inline, not in a worker thread: BM25 over our indexes takes about a millisecond, and a
    # thread hand-off cost more than that on a busy 2-core machine.
    hits, retrieval_ms = _search(index, question, options.top_k)
    yield Retrieved(hits, retrieval_ms)
    relevant = relevant_hits(question, hits, index, options.score_floor)
    if not relevant and not options.answer_anyway:
        yield Done(not_covered_result(question, options, hits, retrieval_ms, started))
        return
    ctx = TurnContext(
        question=question,
        options=options,
        hits=hits,
        sources=relevant or hits,
        history=tuple(history),
        catalog=catalog,
        stream_fn=stream_fn or _default_stream_fn(),
        retrieval_ms=retrieval_ms,
        started=started,
    )
    async with aclosing(runner(ctx)) as events:
        async for event in events:
            yield event


async def answer(
    question: str,
    *,
    index: ChunkIndex,
    catalog: EndpointResolver,
    options: AnswerOptions,
    history: Sequence[tuple[str, str]] = (),
    stream_fn: StreamFn | None = None,
) -> AnswerResult:
    """The blocking call, built on the stream."""
    stream = answer_stream(
        question, index=index, catalog=catalog, options=options, history=history, stream_fn=stream_fn
    )
    async with aclosing(stream) as events:
        async for event in events:
            if isinstance(event, Done):
                return event.result
    raise RuntimeError("answer_stream ended without a Done event")  # a bug, never a model failure
