"""What one chat remembers: its settings, its own uploads, its history and its latency points.

Uploads go into the chat's own view of the shared index (`SessionIndex`, made on the first
upload), so other sessions never see them, the chat still sees every change to the knowledge
folder, and sessions that upload nothing share the one index for free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import chainlit as cl
from chainlit.context import ChainlitContextException, context

from ragstage.ui.chart import LatencyPoint
from ragstage.ui.locale import Locale, choose_locale, english

if TYPE_CHECKING:
    from ragstage.knowledge import ChunkIndex, SessionIndex
    from ragstage.settings import Settings

_SESSION_KEY = "ragstage"


@dataclass
class ChatSession:
    values: dict[str, Any]  # settings-panel values, see settings_panel.default_values
    history: list[tuple[str, str]] = field(default_factory=list)
    latency: list[LatencyPoint] = field(default_factory=list)
    uploads: list[str] = field(default_factory=list)  # sources added by this session
    own_index: SessionIndex | None = None
    questions_asked: int = 0
    folder_problems_seen: frozenset[tuple[str, str]] = frozenset()  # knowledge-folder files already reported
    locale: Locale = field(default_factory=english)  # the language of the app's own text in this chat

    def index(self, shared: ChunkIndex) -> ChunkIndex:
        return self.own_index.current() if self.own_index is not None else shared

    def writable_index(self, shared: ChunkIndex) -> SessionIndex:
        from ragstage.knowledge import SessionIndex

        if self.own_index is None:
            self.own_index = SessionIndex(shared)
        return self.own_index

    def remember(self, question: str, answer: str, keep_turns: int) -> None:
        self.history.append((question, answer))
        del self.history[: max(len(self.history) - max(keep_turns, 0), 0)]


def current_session() -> ChatSession | None:
    return cl.user_session.get(_SESSION_KEY)


def store_session(session: ChatSession) -> None:
    cl.user_session.set(_SESSION_KEY, session)


def browser_language() -> str | None:
    """The reader's browser language: Chainlit keeps the first tag of the page's Accept-Language
    header (`uk-UA`), the same preference its own interface follows; None outside a chat."""
    try:
        return getattr(context.session, "language", None)
    except ChainlitContextException:  # outside a chat (a background task): no reader to ask
        return None


def reader_locale(settings: Settings | None = None) -> Locale:
    """This chat's language, or for a chat not set up yet, the one it will get (without
    `settings`, as if RAGSTAGE_UI_LANGUAGE were unset: for error notices before start-up)."""
    session = current_session()
    if session is not None:
        return session.locale
    return choose_locale(browser_language(), settings.ui_language if settings is not None else "")
