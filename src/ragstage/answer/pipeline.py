"""Question in, grounded answer out: ground it (`grounding.ground`), then run the mode's stages.

Streaming first: `answer()` is `answer_stream()` run to its `Done`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from typing import TYPE_CHECKING

from ragstage.answer.grounding import Grounding, ground
from ragstage.answer.modes import mode_runner
from ragstage.answer.options import AnswerOptions
from ragstage.answer.result import AnswerEvent, AnswerResult, Done, Retrieved
from ragstage.answer.stage import EndpointResolver, StreamFn, TurnContext
from ragstage.metrics import TurnMetrics

if TYPE_CHECKING:
    from ragstage.knowledge import ChunkIndex

NOT_COVERED = (
    "The knowledge base does not cover this: no passage is relevant enough to answer from. "
    "Try other words, add a document, or turn on \"answer anyway\"."
)


def not_covered_result(grounding: Grounding, started: float) -> AnswerResult:
    return AnswerResult(
        question=grounding.question,
        mode=grounding.options.mode,
        text=NOT_COVERED,
        hits=grounding.hits,
        citations=(),
        metrics=TurnMetrics(retrieval_ms=grounding.retrieval_ms, total_ms=(time.perf_counter() - started) * 1000),
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
    grounding = ground(question, index, options, history)
    yield Retrieved(grounding.hits, grounding.retrieval_ms)
    if grounding.prompt is None:
        yield Done(not_covered_result(grounding, started))
        return
    ctx = TurnContext(grounding, catalog, stream_fn or _default_stream_fn(), started)
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
