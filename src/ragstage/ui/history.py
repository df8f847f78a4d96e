"""Resuming a stored chat: its settings, its uploads and its recent turns come back.

What a thread holds is read here (pure functions over Chainlit's `ThreadDict`); the store lives
in `history_store`, its files in `chat_files`, and `sign_in` wires them into Chainlit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import chainlit as cl
from chainlit.types import ThreadDict

from ragstage.ui import settings_panel, uploads, welcome
from ragstage.ui.locale import answer_footer_markers, choose_locale
from ragstage.ui.services import services
from ragstage.ui.session import ChatSession, browser_language, store_session

if TYPE_CHECKING:
    from ragstage.ui.history_store import ChatHistoryStore


@dataclass(frozen=True)
class StoredUpload:
    name: str
    object_key: str
    mime: str


def stored_uploads(thread: ThreadDict) -> list[StoredUpload]:
    """Files the person attached to their messages in this thread, oldest first."""
    user_steps = {step["id"] for step in thread.get("steps", []) if step.get("type") == "user_message"}
    uploads = []
    for element in thread.get("elements", []) or []:
        if element.get("forId") in user_steps and element.get("objectKey") and element.get("chainlitKey"):
            uploads.append(StoredUpload(element.get("name", ""), element["objectKey"],
                                        element.get("mime") or "application/octet-stream"))
    return uploads


def thread_chat_settings(thread: ThreadDict) -> dict[str, Any]:
    """The chat settings saved with the thread (Chainlit stores them in the thread metadata)."""
    metadata = thread.get("metadata") or {}
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except ValueError:
            return {}
    settings = metadata.get("chat_settings") if isinstance(metadata, dict) else None
    return dict(settings) if isinstance(settings, dict) else {}


# The lines the chat adds under an answer, in every shipped language (ui/locales/).
_ANSWER_FOOTERS = tuple(f"\n\n{marker}" for marker in answer_footer_markers())


def _answer_text(output: str) -> str:
    """The answer as the model gave it, without the footers the chat adds under it."""
    cut = min((i for i in (output.find(f) for f in _ANSWER_FOOTERS) if i >= 0), default=len(output))
    return output[:cut].strip()


def chat_turns(thread: ThreadDict) -> list[tuple[str, str]]:
    """(question, answer) pairs: each person's message with the last assistant message after it
    (the answer, not the upload acknowledgement before it); failed answers are left out."""
    turns: list[tuple[str, str]] = []
    question: str | None = None
    answer = ""
    for step in thread.get("steps", []):
        kind = step.get("type")
        if kind == "user_message":
            if question and answer:
                turns.append((question, answer))
            question, answer = str(step.get("output") or ""), ""
        elif kind == "assistant_message" and question is not None and not step.get("isError"):
            answer = _answer_text(str(step.get("output") or ""))
    if question and answer:
        turns.append((question, answer))
    return turns


async def resume_chat(thread: ThreadDict, store: ChatHistoryStore | None) -> None:
    """Reopened thread: its settings, its uploads (indexed again from the stored copies) and
    its recent turns come back, so the next question is answered as if the chat never paused."""
    runtime = await services().runtime()
    values = settings_panel.parse_values(settings_panel.default_values(runtime.settings), thread_chat_settings(thread))
    session = ChatSession(values=values, locale=choose_locale(browser_language(), runtime.settings.ui_language))
    for question, answer in chat_turns(thread):
        session.remember(question, answer, runtime.settings.history_turns)
    store_session(session)
    endpoints = {r: e for r, e in welcome.known_endpoints(runtime).items() if not isinstance(e, str)}
    await cl.ChatSettings(settings_panel.settings_widgets(runtime.settings, endpoints, values, session.locale)).send()
    if store is None or not stored_uploads(thread) or runtime.settings.uploads_persist:
        return  # persisted uploads are already part of the shared knowledge folder
    files = [SimpleNamespace(name=u.name, path=str(store.storage.path_for(u.object_key)), type="file")
             for u in stored_uploads(thread)]
    destination = uploads.SessionUploads(session.writable_index(runtime.knowledge.index))
    outcomes = [o for f in files for o in await uploads.index_uploads([f], destination, runtime.settings, session.locale)]
    session.uploads += [o.name for o in outcomes if o.indexed]
    if any(not o.indexed for o in outcomes):
        await cl.Message(content=uploads.uploads_markdown(outcomes, persisted=False, locale=session.locale)).send()
