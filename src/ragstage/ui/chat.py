"""The chat handlers app.py registers: each turns one Chainlit event into calls on the core.

Every handler is guarded: an unexpected failure becomes a readable chat message (people see
it, the log has the trace) and the next message works.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, Awaitable, Callable, TypeVar

import chainlit as cl
import chainlit.config
from chainlit.context import context

from ragstage.ui import folder_notices, settings_panel, uploads, welcome
from ragstage.ui.escaping import escape_inline
from ragstage.ui.files_folder import ensure_files_folder
from ragstage.ui.security import limit_generations
from ragstage.ui.services import services
from ragstage.ui.locale import choose_locale
from ragstage.ui.session import ChatSession, browser_language, current_session, reader_locale, store_session
from ragstage.ui.turn import TurnRenderer, failure_text

if TYPE_CHECKING:
    from ragstage.runtime import Runtime

log = logging.getLogger(__name__)
Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])


def guarded(handler: Handler) -> Handler:
    """Exceptions in Chainlit handlers are otherwise only logged: show them, readably."""

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            ensure_files_folder(chainlit.config)
            return await handler(*args, **kwargs)
        except asyncio.CancelledError:
            raise
        except Exception as err:
            log.exception("%s failed", handler.__name__)
            await cl.ErrorMessage(content=failure_text(err, reader_locale())).send()
            return None

    return wrapper  # type: ignore[return-value]


async def _session(runtime: Runtime) -> ChatSession:
    session = current_session()
    if session is None:
        locale = choose_locale(browser_language(), runtime.settings.ui_language)
        session = ChatSession(values=settings_panel.default_values(runtime.settings), locale=locale)
        store_session(session)
    return session


@guarded
async def start_chat() -> None:
    early = reader_locale(services().settings())  # before the runtime: its settings may not be read yet
    notice = cl.Message(content=early.text("chat.starting"))
    await notice.send()
    try:
        runtime = await services().runtime()
    except Exception as err:  # a broken knowledge folder or model set-up: say so, keep the page usable
        log.exception("ragstage could not start")
        notice.content = early.text("chat.could_not_start", error=escape_inline(str(err) or type(err).__name__))
        await notice.update()
        return
    session = await _session(runtime)
    session.folder_problems_seen = frozenset(runtime.knowledge.report.skipped)  # the welcome lists them
    found = welcome.known_endpoints(runtime, session.locale)
    endpoints = {role: value for role, value in found.items() if not isinstance(value, str)}
    await cl.ChatSettings(settings_panel.settings_widgets(runtime.settings, endpoints, session.values,
                                                          session.locale)).send()
    notice.content = welcome.start_markdown(runtime, found, session.locale)
    notice.actions = welcome.starter_actions(welcome.starters(session.locale))
    await notice.update()


@guarded
async def update_settings(submitted: dict[str, Any]) -> None:
    """Applies to the next message; kept for the rest of the session."""
    runtime = await services().runtime()
    session = await _session(runtime)
    session.values = settings_panel.parse_values(session.values, submitted)


@guarded
async def handle_message(message: cl.Message) -> None:
    runtime = await services().runtime()
    session = await _session(runtime)
    if message.elements:
        await _index_attachments(runtime, session, message.elements, bool(message.content.strip()))
    if message.content.strip():
        await answer_question(runtime, session, message.content.strip())


async def _index_attachments(
    runtime: Runtime, session: ChatSession, elements: list[Any], question_follows: bool
) -> None:
    persist = runtime.settings.uploads_persist
    destination = (
        uploads.SharedUploads(runtime.knowledge, runtime.settings.knowledge_dir) if persist
        else uploads.SessionUploads(session.writable_index(runtime.knowledge.index))
    )
    outcomes = await uploads.index_uploads(elements, destination, runtime.settings, session.locale)
    session.uploads += [o.name for o in outcomes if o.indexed]
    await cl.Message(content=uploads.uploads_markdown(outcomes, persist, question_follows, session.locale)).send()


@limit_generations  # the same per-client and total limits as the browser page (ui/security.py)
async def answer_question(runtime: Runtime, session: ChatSession, question: str) -> None:
    from ragstage.answer import AnswerOptions

    session.questions_asked += 1
    options = AnswerOptions.from_settings(runtime.settings, **session.values)
    events = runtime.answer_stream(
        question, options=options, history=tuple(session.history), index=session.index(runtime.knowledge.index)
    )
    async with aclosing(events) as stream:  # closing the stream closes the model's HTTP stream
        result = await TurnRenderer(question, session).render(stream)
    if result is not None and result.answered_by_model and result.text.strip() and not result.error:
        session.remember(question, result.text, runtime.settings.history_turns)
    notice = folder_notices.new_problems_notice(session, runtime.knowledge)
    if notice:
        await cl.Message(content=notice).send()


@guarded
async def ask_starter(action: cl.Action) -> None:
    """A starter button: shown as the user's question, answered in a task the stop button can cancel."""
    question = str(action.payload.get("message", "")).strip()
    if not question:
        return
    await cl.Message(content=question, type="user_message", author="You").send()
    context.session.current_task = asyncio.create_task(_answer_as_task(question))


async def _answer_as_task(question: str) -> None:
    await context.emitter.task_start()
    try:
        await _guarded_answer(question)
    finally:
        await context.emitter.task_end()


@guarded
async def _guarded_answer(question: str) -> None:
    runtime = await services().runtime()
    await answer_question(runtime, await _session(runtime), question)


_warm_up_tasks: set[asyncio.Task] = set()


async def warm_up() -> None:
    """At app start, begin loading the runtime in the background: the first visitor then finds
    the models ready, and the server still answers /health at once."""
    task = asyncio.create_task(services().runtime())
    _warm_up_tasks.add(task)
    task.add_done_callback(_warm_up_done)


def _warm_up_done(task: asyncio.Task) -> None:
    _warm_up_tasks.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("runtime warm-up failed (the first chat will try again): %s", task.exception())


async def shutdown() -> None:
    for task in list(_warm_up_tasks):
        task.cancel()
    await services().aclose()
