"""Optional sign-in and chat history, switched on by one call from app.py.

Off unless `RAGSTAGE_USERS_FILE` is set; then people sign in with a password, their chats are
stored (`RAGSTAGE_DATABASE_URL`) with their files, and a reopened chat resumes where it stopped.
"""

from __future__ import annotations

import chainlit as cl
from chainlit.types import ThreadDict

from ragstage.settings import Settings
from ragstage.ui import auth, history
from ragstage.ui.chat_files import register_files_route
from ragstage.ui.history_store import ChatHistoryStore, build_history_store

_store: ChatHistoryStore | None = None


def install_sign_in(settings: Settings | None = None) -> bool:
    """Registers sign-in, the history data layer, its file route and chat resume with Chainlit
    when sign-in is configured; returns whether it is on."""
    global _store
    settings = settings or Settings()
    if not auth.sign_in_enabled(settings):
        return False
    cl.password_auth_callback(auth.configure_sign_in(settings))
    store = _store = build_history_store(settings)
    register_files_route(store)
    cl.data_layer(lambda: store)

    async def resume(thread: ThreadDict) -> None:
        await history.resume_chat(thread, store)

    cl.on_chat_resume(resume)
    return True


async def prepare_tables() -> None:
    """At app start, so a wrong database URL shows up in the log at once, not at first sign-in."""
    if _store is not None:
        await _store.create_tables()
