"""One model call of an answer (an answer, a draft, a refine, one side of a comparison).

A stage never lets a `ModelError` escape: it reports `StageFailed` and keeps the text that
arrived, so a dead server costs the reader the rest of one answer, never the app.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ragstage.answer.grounding import Grounding
from ragstage.answer.options import AnswerOptions
from ragstage.answer.prompt import Prompt
from ragstage.answer.result import AnswerEvent, StageFailed, StageFinished, StageStarted, Token
from ragstage.metrics import StageMetrics
from ragstage.models import Completion, GenerationParams, ModelEndpoint, ModelError

if TYPE_CHECKING:
    from ragstage.knowledge import Hit

# The one seam to the model: `ragstage.models.stream_chat` in the app, a scripted fake in tests.
StreamFn = Callable[[ModelEndpoint, list[dict], GenerationParams], AsyncIterator["str | Completion"]]


class EndpointResolver(Protocol):
    """The part of `ModelCatalog` an answer needs."""

    async def resolve(self, role: str) -> ModelEndpoint: ...

    def report_failure(self, role: str, error: ModelError | None = None) -> None:
        """A call failed: the next `resolve` checks (and restarts) the server."""


@dataclass(frozen=True)
class TurnContext:
    """Everything the modes share for one question."""

    grounding: Grounding  # retrieval, relevance and the answer prompt
    catalog: EndpointResolver
    stream_fn: StreamFn
    started: float  # time.perf_counter() when the question arrived

    @property
    def options(self) -> AnswerOptions:
        return self.grounding.options

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000


@dataclass
class StageRun:
    """What one stage produced, filled in while it streams."""

    stage: str
    role: str
    endpoint: ModelEndpoint | None = None
    prompt: Prompt | None = None
    text: str = ""
    metrics: StageMetrics | None = None
    error: ModelError | None = None

    @property
    def succeeded(self) -> bool:
        return self.metrics is not None

    @property
    def shown_sources(self) -> tuple[Hit, ...]:
        """The passages this stage's prompt held (none if it never sent one)."""
        return self.prompt.sources if self.prompt else ()

    def error_message(self) -> str | None:
        return None if self.error is None else f"{self.stage} ({self.role}) failed: {self.error}"


async def resolve_stage(ctx: TurnContext, run: StageRun) -> None:
    """Find the stage's endpoint (may start an embedded server); a failure is recorded."""
    if run.endpoint is not None or run.error is not None:
        return
    try:
        run.endpoint = await ctx.catalog.resolve(run.role)
    except ModelError as err:
        run.error = err


def _stage_metrics(ctx: TurnContext, run: StageRun, completion: Completion, prep_ms: float) -> StageMetrics:
    assert run.endpoint is not None
    return StageMetrics(
        stage=run.stage,
        role=run.role,
        model_label=run.endpoint.label(),
        prep_ms=prep_ms + completion.prep_ms,
        retrieval_ms=ctx.grounding.retrieval_ms,
        timings=completion.timings,
        usage=completion.usage,
        cost_usd=ctx.options.price(run.role).cost_usd(completion.usage),
        finish_reason=completion.finish_reason,
        model_id=run.endpoint.model_id,
        backend=run.endpoint.backend,
        engine=run.endpoint.engine,
    )


async def stream_stage(ctx: TurnContext, run: StageRun, draft: str | None = None) -> AsyncIterator[AnswerEvent]:
    """Stream one stage's events; the outcome is left in `run`. Closing this generator (or
    cancelling its consumer) closes the model stream."""
    await resolve_stage(ctx, run)
    if run.endpoint is None:
        assert run.error is not None
        yield StageFailed(run.stage, run.error)
        return
    run.prompt, prep_ms = ctx.grounding.stage_prompt(draft)
    yield StageStarted(run.stage, run.endpoint)
    completion: Completion | None = None
    try:
        async with aclosing(ctx.stream_fn(run.endpoint, run.prompt.as_list(), ctx.options.generation_params())) as stream:
            async for item in stream:
                if isinstance(item, str):
                    if item:
                        run.text += item
                        yield Token(run.stage, item)
                else:
                    completion = item
    except ModelError as err:
        ctx.catalog.report_failure(run.role, err)
        run.text = run.text or err.partial_text
        run.error = err
        yield StageFailed(run.stage, err)
        return
    if completion is None:  # a stream_fn that broke its contract: report it, keep the text
        run.error = ModelError(
            f"{run.endpoint.label()} ended its reply without a completion record; try again.",
            partial_text=run.text,
        )
        yield StageFailed(run.stage, run.error)
        return
    run.text = completion.text or run.text
    run.metrics = _stage_metrics(ctx, run, completion, prep_ms)
    yield StageFinished(run.stage, run.metrics, run.text)
