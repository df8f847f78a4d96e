"""One question, rendered: answer events in, Chainlit steps and messages out.

Order on screen: Retrieval step, the streamed answer (or Draft/Refine steps for hybrid, one
message per model for compare), then the Metrics step. A failure or a stop keeps what was
already written and says what happened.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Awaitable, Callable

import chainlit as cl
from chainlit.context import context

from ragstage.models.roles import ROLES
from ragstage.ui import citations, steps
from ragstage.ui.chart import CHART_ELEMENT_NAME, chart_element, latency_points
from ragstage.ui.escaping import escape_inline, escape_model_text
from ragstage.ui.locale import Locale, english

if TYPE_CHECKING:
    from ragstage.answer import AnswerResult
    from ragstage.ui.session import ChatSession

log = logging.getLogger(__name__)
STEPPED_STAGES = {"draft", "refine"}  # hybrid: streamed inside their own steps
COMPARED_STAGES = set(ROLES)  # compare: one message per model, its stage named after its role
TOKEN_FLUSH_S = 0.05  # at most ~20 websocket frames a second per streamed target


def new_step(name: str, type: str, **options: Any) -> cl.Step:
    """A step beside the answer messages: under the same Chainlit run, so the page keeps them
    in the order they were sent (messages join the current run by themselves, steps do not)."""
    current = context.current_step
    return cl.Step(name=name, type=type, parent_id=current.id if current else None, **options)


def failure_text(error: BaseException | str, locale: Locale | None = None) -> str:
    """A readable notice with what to do; model errors already say what to do themselves."""
    locale = locale or english()
    text = str(error).strip() or type(error).__name__
    if isinstance(error, str) or type(error).__module__.startswith("ragstage"):
        return locale.text("answer.failed", reason=escape_inline(text))
    return locale.text("answer.crashed", error_type=type(error).__name__)


@dataclass
class TurnRenderer:
    question: str
    session: ChatSession
    answer_msg: cl.Message | None = None
    live: dict[str, Any] = field(default_factory=dict)  # stage -> step or message being streamed
    result: AnswerResult | None = None
    streamed: set[str] = field(default_factory=set)  # ids of messages the page already shows
    pending: dict[str, str] = field(default_factory=dict)  # stage -> tokens not yet sent
    flushed_at: dict[str, float] = field(default_factory=dict)  # stage -> loop time of last send
    finished_steps: dict[str, cl.Step] = field(default_factory=dict)  # stage -> its completed step
    escalation_note: str = ""  # hybrid: why the draft was (not) refined, with its support score

    @property
    def locale(self) -> Locale:
        return self.session.locale

    def handlers(self) -> dict[type, Callable[[Any], Awaitable[None]]]:
        from ragstage.answer import (
            Done, EscalationDecided, Retrieved, StageFailed, StageFinished, StageStarted, Token,
        )

        return {
            Retrieved: self.on_retrieved, StageStarted: self.on_stage_started, Token: self.on_token,
            StageFinished: self.on_stage_finished, StageFailed: self.on_stage_failed,
            EscalationDecided: self.on_escalation, Done: self.on_done,
        }

    async def render(self, events: Any) -> AnswerResult | None:
        handlers = self.handlers()
        try:
            async for event in events:
                handler = handlers.get(type(event))
                if handler is None:
                    log.warning("ignoring unknown answer event %s (known: %s)", type(event).__name__,
                                ", ".join(t.__name__ for t in handlers))
                    continue
                await handler(event)
        except asyncio.CancelledError:
            await self.close_live("\n\n" + self.locale.text("answer.stopped"))
            raise
        except Exception as err:
            log.exception("answer failed")
            await self.close_live("")
            await cl.ErrorMessage(content=failure_text(err, self.locale)).send()
        return self.result

    async def on_retrieved(self, event: Any) -> None:
        step = new_step(steps.step_name("retrieval", self.locale), "retrieval", show_input=False)
        step.output = steps.retrieval_markdown(self.question, event.hits, event.retrieval_ms, self.locale)
        await step.send()

    async def on_stage_started(self, event: Any) -> None:
        label = escape_inline(event.endpoint.label()) if event.endpoint is not None else ""
        if event.stage in STEPPED_STAGES:
            step = new_step(steps.step_name(event.stage, self.locale), "llm", show_input="markdown",
                            default_open=True, auto_collapse=True)
            step.input = f"**{self.locale.text('step.model')}:** {label}"
            if event.stage == "refine" and self.escalation_note:
                step.input += f"  \n{self.escalation_note}"
            await step.send()
            self.live[event.stage] = step
        elif event.stage in COMPARED_STAGES:
            name = escape_inline(steps.short_model_label(event.endpoint.label())) if event.endpoint else event.stage
            self.live[event.stage] = cl.Message(content=f"**{name}** ({event.stage.upper()}):\n\n")
        else:
            self.answer_msg = cl.Message(content="")
            self.live[event.stage] = self.answer_msg

    async def on_token(self, event: Any) -> None:
        """Tokens are coalesced: one websocket frame per token costs ~3 ms of server time, which
        under many sessions becomes queueing delay. The first token is sent at once."""
        if event.stage not in self.live:
            return
        self.pending[event.stage] = self.pending.get(event.stage, "") + event.text
        now = asyncio.get_running_loop().time()
        if now - self.flushed_at.get(event.stage, float("-inf")) >= TOKEN_FLUSH_S:
            await self.flush(event.stage)

    async def flush(self, stage: str) -> None:
        text, target = self.pending.pop(stage, ""), self.live.get(stage)
        if text and target is not None:
            await target.stream_token(escape_model_text(text))
            self.streamed.add(target.id)
            self.flushed_at[stage] = asyncio.get_running_loop().time()

    async def on_stage_finished(self, event: Any) -> None:
        await self.flush(event.stage)
        target = self.live.pop(event.stage, None)
        if isinstance(target, cl.Step):
            target.output = escape_model_text(event.text) or f"*{self.locale.text('step.no_text')}*"
            done = self.locale.text("step.tokens_in_seconds", tokens=event.metrics.usage.completion_tokens,
                                    seconds=f"{event.metrics.timings.total_ms / 1000:.1f}")
            target.output += f"\n\n*{done}*"
            await target.update()
            self.finished_steps[event.stage] = target
        elif isinstance(target, cl.Message):
            self.live[event.stage] = target  # messages are completed on Done, with their final text

    async def on_stage_failed(self, event: Any) -> None:
        log.warning("stage %s failed: %s", event.stage, event.error)
        await self.flush(event.stage)
        target = self.live.get(event.stage)
        if isinstance(target, cl.Step):  # messages keep streaming state until Done
            del self.live[event.stage]
            target.is_error = True
            target.output += f"\n\n{failure_text(event.error, self.locale)}"
            await target.update()

    async def on_escalation(self, event: Any) -> None:
        """Hybrid's decision goes into the Draft step it judged (and the Refine step's header)."""
        self.escalation_note = steps.escalation_markdown(event.escalation, self.locale)
        draft = self.finished_steps.get("draft")
        if draft is not None:
            draft.output += f"\n\n{self.escalation_note}"
            await draft.update()

    async def on_done(self, event: Any) -> None:
        self.result = result = event.result
        await self.finish_compared(result)
        message = self.answer_msg or cl.Message(content="")
        partial = message.content if result.error and not result.text.strip() else ""
        if result.error and not partial.strip() and not result.text.strip() and not result.compared:
            self.live.clear()  # nothing was said: the error notice alone tells what to do
            await cl.ErrorMessage(content=failure_text(result.error, self.locale)).send()
            return
        refs, cited = citations.sources_to_show(result)
        message.content = (partial or self.final_text(result)) + citations.sources_footer(refs, cited, self.locale)
        if result.answered_by_model:
            message.content += "\n\n" + self.locale.text("answer.latency_chart", chart=CHART_ELEMENT_NAME)
        message.elements = [*citations.citation_elements(refs, self.locale), *self.chart(result)]
        await self.show(message)
        self.live.clear()
        await self.send_metrics(result)
        if result.error:
            await cl.ErrorMessage(content=failure_text(result.error, self.locale)).send()

    def final_text(self, result: AnswerResult) -> str:
        if result.compared:
            return steps.compare_markdown(result.compared, self.locale)
        if not result.answered_by_model:  # the knowledge does not cover it: said in the reader's language
            return self.locale.text("answer.not_covered")
        text, legend = citations.annotated_answer(result.text, result.attribution, self.locale)
        if legend:
            text += "\n\n" + " · ".join(legend)
        return text or self.locale.text("answer.no_text")

    def chart(self, result: AnswerResult) -> list[cl.CustomElement]:
        if not result.answered_by_model:
            return []
        self.session.latency += latency_points(result, self.session.questions_asked)
        return [chart_element(self.session.latency, self.locale)]

    async def finish_compared(self, result: AnswerResult) -> None:
        for sub in result.compared:
            stage = sub.metrics.stages[0].stage if sub.metrics.stages else None
            message = self.live.pop(stage, None)
            if isinstance(message, cl.Message):
                header = message.content.split("\n\n", 1)[0]
                message.content = f"{header}\n\n{escape_model_text(sub.text)}"
                await self.show(message)

    async def send_metrics(self, result: AnswerResult) -> None:
        if not result.answered_by_model:
            return
        parts = [steps.metrics_markdown(r.metrics, self.locale) for r in (result.compared or (result,))]
        if result.compared:
            parts.append(steps.compare_schedule_note(result.compared, self.locale))
        if result.escalation is not None:
            parts.append(steps.escalation_markdown(result.escalation, self.locale))
        step = new_step(steps.step_name("metrics", self.locale), "tool", show_input=False)
        step.output = "\n\n".join(parts)
        await step.send()

    async def close_live(self, note: str) -> None:
        """End whatever is still streaming so the partial text stays on screen."""
        for stage in list(self.pending):
            await self.flush(stage)
        for target in list(self.live.values()):
            if isinstance(target, cl.Step):
                target.output += note
                await target.update()
            else:
                said_something = bool(target.content.strip())
                early = self.locale.text("answer.stopped_early")
                target.content = target.content + note if said_something or not note else early
                await self.show(target)
        self.live.clear()

    async def show(self, message: cl.Message) -> None:
        await (message.update() if message.id in self.streamed else message.send())
        self.streamed.add(message.id)
