"""The four ways to answer, as a table of mode name -> event stream.

Every runner streams the events of its stages and ends with exactly one `Done`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import aclosing
from typing import TYPE_CHECKING

from ragstage.answer.attribution import Attribution, attribute
from ragstage.answer.citations import attributed_citations
from ragstage.answer.escalation import DraftSignals, decide_escalation
from ragstage.answer.prompt import strip_echoed_markup
from ragstage.answer.result import AnswerEvent, AnswerResult, Citation, Done, Escalation, EscalationDecided
from ragstage.answer.stage import StageRun, TurnContext, resolve_stage, stream_stage
from ragstage.metrics import TurnMetrics
from ragstage.models import ROLES

if TYPE_CHECKING:
    from ragstage.knowledge import Hit

ModeRunner = Callable[[TurnContext], AsyncIterator[AnswerEvent]]


def attribute_text(ctx: TurnContext, text: str, sources: Sequence[Hit]) -> Attribution:
    """Each sentence of `text` linked to the passages (as numbered in its prompt) supporting it."""
    return attribute(text, [hit.chunk.text for hit in sources], question=ctx.grounding.question)


def _merged_citations(results: Sequence[AnswerResult]) -> tuple[Citation, ...]:
    """A comparison cites what its parts cite (they share one prompt); model-written wins."""
    merged: dict[int, Citation] = {}
    for citation in (c for result in results for c in result.citations):
        if citation.n not in merged or citation.origin == "model":
            merged[citation.n] = citation
    return tuple(merged[n] for n in sorted(merged))


def finish(
    ctx: TurnContext,
    text: str,
    runs: Sequence[StageRun],
    *,
    cited_from: StageRun | None = None,
    escalation: Escalation | None = None,
    error: str | None = None,
    compared: tuple[AnswerResult, ...] = (),
    role: str | None = None,
    concurrent: bool = False,
) -> AnswerResult:
    """The result of a turn whose final text came from `cited_from` (default: the last run),
    its sentences attributed to the passages of that run's prompt (a comparison's to its parts)."""
    source_run = cited_from or runs[-1]
    text = strip_echoed_markup(text)
    attribution = None if compared or not text else attribute_text(ctx, text, source_run.shown_sources)
    if attribution is not None:
        citations = attributed_citations(attribution, source_run.shown_sources)
    else:
        citations = _merged_citations(compared)
    metrics = TurnMetrics(
        retrieval_ms=ctx.grounding.retrieval_ms,
        stages=tuple(run.metrics for run in runs if run.metrics is not None),
        total_ms=ctx.elapsed_ms(),
        stages_concurrent=concurrent,
    )
    return AnswerResult(
        question=ctx.grounding.question,
        mode=ctx.options.mode,
        text=text,
        hits=ctx.grounding.hits,
        citations=citations,
        prompt_sources=source_run.shown_sources,
        attribution=attribution,
        metrics=metrics,
        escalation=escalation,
        answered_by_model=True,
        compared=compared,
        error=error,
        role=role,
    )


async def _single(ctx: TurnContext, role: str) -> AsyncIterator[AnswerEvent]:
    run = StageRun("answer", role)
    async with aclosing(stream_stage(ctx, run)) as events:
        async for event in events:
            yield event
    yield Done(finish(ctx, run.text, [run], error=run.error_message()))


def single_role(role: str) -> ModeRunner:
    """The mode named after a role: that role's model answers alone."""
    return lambda ctx: _single(ctx, role)


def _escalation_after(draft: StageRun, ctx: TurnContext) -> Escalation:
    if draft.error is not None and ctx.options.escalation_policy != "never":
        return Escalation(True, f"the draft failed: {draft.error}")
    text = strip_echoed_markup(draft.text)
    sources = draft.shown_sources
    signals = DraftSignals(
        text=text,
        support_score=attribute_text(ctx, text, sources).support_score if text else None,
        source_count=len(sources),
        top_score=max((hit.score for hit in sources), default=0.0),
    )
    return decide_escalation(signals, ctx.options)


async def run_hybrid(ctx: TurnContext) -> AsyncIterator[AnswerEvent]:
    """The SLM drafts; the LLM refines the draft against the same sources when the policy says so."""
    draft = StageRun("draft", "slm")
    async with aclosing(stream_stage(ctx, draft)) as events:
        async for event in events:
            yield event
    escalation = _escalation_after(draft, ctx)
    yield EscalationDecided(escalation)
    if not escalation.escalated:
        yield Done(finish(ctx, draft.text, [draft], escalation=escalation, error=draft.error_message()))
        return
    refine = StageRun("refine", "llm")
    async with aclosing(stream_stage(ctx, refine, draft=draft.text or None)) as events:
        async for event in events:
            yield event
    runs = [draft, refine]
    if refine.error is not None and draft.succeeded:  # a complete draft beats a broken refine
        error = f"{refine.error_message()} Showing the draft."
        yield Done(finish(ctx, draft.text, runs, cited_from=draft, escalation=escalation, error=error))
        return
    yield Done(finish(ctx, refine.text, runs, escalation=escalation, error=refine.error_message()))


def _same_server(runs: Sequence[StageRun]) -> bool:
    urls = {run.endpoint.base_url.rstrip("/") for run in runs if run.endpoint is not None}
    return len(urls) < len(runs)


async def merge_streams(streams: Sequence[AsyncIterator[AnswerEvent]]) -> AsyncIterator[AnswerEvent]:
    """Events of several streams as they come; closing this closes (cancels) all of them."""
    queue: asyncio.Queue[tuple[AnswerEvent | None, BaseException | None]] = asyncio.Queue()

    async def pump(stream: AsyncIterator[AnswerEvent]) -> None:
        try:
            async with aclosing(stream) as events:
                async for event in events:
                    queue.put_nowait((event, None))
        except Exception as err:  # a bug, not a ModelError: stages report those as events
            queue.put_nowait((None, err))
            return
        queue.put_nowait((None, None))

    tasks = [asyncio.create_task(pump(stream)) for stream in streams]
    try:
        remaining = len(tasks)
        while remaining:
            event, error = await queue.get()
            if error is not None:
                raise error
            if event is None:
                remaining -= 1
            else:
                yield event
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _compare_text(runs: Sequence[StageRun]) -> str:
    sections = []
    for run in runs:
        label = run.endpoint.label() if run.endpoint else run.role
        sections.append(f"{run.role.upper()} - {label}:\n{run.text}")
    return "\n\n".join(sections)


async def run_compare(ctx: TurnContext) -> AsyncIterator[AnswerEvent]:
    """Every role answers. One after the other by default, so that each has every core and the
    speed ratio measures the models, not their contention; at the same time only when asked
    (`compare_concurrently`) and they do not share one server."""
    runs = [StageRun(role, role) for role in ROLES]
    await asyncio.gather(*(resolve_stage(ctx, run) for run in runs))
    streams = [stream_stage(ctx, run) for run in runs]
    concurrent = ctx.options.compare_concurrently and not _same_server(runs)
    if concurrent:
        async with aclosing(merge_streams(streams)) as events:
            async for event in events:
                yield event
    else:
        for stream in streams:
            async with aclosing(stream) as events:
                async for event in events:
                    yield event
    results = tuple(
        finish(ctx, run.text, [run], error=run.error_message(), role=run.role, concurrent=concurrent) for run in runs
    )
    errors = [result.error for result in results if result.error]
    widest = max(runs, key=lambda run: len(run.shown_sources))
    yield Done(finish(ctx, _compare_text(runs), runs, cited_from=widest, compared=results,
                      error="; ".join(errors) or None, concurrent=concurrent))


MODES: dict[str, ModeRunner] = {
    **{role: single_role(role) for role in ROLES},  # "slm", "llm"
    "hybrid": run_hybrid,
    "compare": run_compare,
}
MODE_ROLES: dict[str, tuple[str, ...]] = {  # which roles' models a mode calls
    **{role: (role,) for role in ROLES},
    "hybrid": ("slm", "llm"),
    "compare": ROLES,
}


def mode_runner(mode: str) -> ModeRunner:
    try:
        return MODES[mode]
    except KeyError:
        raise ValueError(f"unknown answer mode {mode!r}; choose one of: {', '.join(MODES)}") from None
