"""The four ways to answer, as a table of mode name -> event stream.

Every runner streams the events of its stages and ends with exactly one `Done`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import aclosing

from ragstage.answer.citations import citations_for
from ragstage.answer.escalation import decide_escalation
from ragstage.answer.prompt import strip_echoed_markup
from ragstage.answer.result import AnswerEvent, AnswerResult, Done, Escalation
from ragstage.answer.stage import StageRun, TurnContext, resolve_stage, stream_stage
from ragstage.metrics import TurnMetrics
from ragstage.models import ROLES

ModeRunner = Callable[[TurnContext], AsyncIterator[AnswerEvent]]


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
    """The result of a turn whose final text came from `cited_from` (default: the last run)."""
    source_run = cited_from or runs[-1]
    text = strip_echoed_markup(text)
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
        citations=citations_for(text, source_run.shown_sources),
        prompt_sources=source_run.shown_sources,
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
    return decide_escalation(draft.text, len(draft.shown_sources), ctx.options)


async def run_hybrid(ctx: TurnContext) -> AsyncIterator[AnswerEvent]:
    """The SLM drafts; the LLM refines the draft against the same sources when the policy says so."""
    draft = StageRun("draft", "slm")
    async with aclosing(stream_stage(ctx, draft)) as events:
        async for event in events:
            yield event
    escalation = _escalation_after(draft, ctx)
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
