"""The team-server setup of docs/TEAM-SERVER.md against a real, throwaway PostgreSQL: the app
creates its tables with native types and Chainlit's data layer stores and returns a thread.
Skipped where no PostgreSQL server binaries are installed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from chainlit.context import init_http_context
from chainlit.element import Text
from chainlit.user import User
from fault_kit import ROOT  # noqa: F401  (puts benchmarks/ on the import path)
from team_stack import missing_servers, throwaway_postgres

from ragstage.ui.chat_files import LocalFileStorage
from ragstage.ui.history import chat_turns, thread_chat_settings
from ragstage.ui.history_store import ChatHistoryStore

pytest.importorskip("asyncpg")
pytestmark = pytest.mark.skipif("postgresql" in missing_servers(), reason="no PostgreSQL server binaries "
                                "(scripts/setup.py --test installs them)")


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with throwaway_postgres() as url:
        yield url


async def test_chat_history_round_trips_through_postgresql(postgres_url: str, tmp_path: Path) -> None:
    init_http_context()
    store = ChatHistoryStore(postgres_url, LocalFileStorage(tmp_path / "chat-files"))
    try:
        user = await store.create_user(User(identifier="alice"))
        thread_id = str(uuid.uuid4())
        await store.update_thread(thread_id, name="Tides", user_id=user.id, metadata={"chat_settings": {"top_k": 6}})
        question = {"id": str(uuid.uuid4()), "threadId": thread_id, "name": "alice", "type": "user_message",
                    "output": "Who logs the tides?", "streaming": False, "createdAt": "2026-01-01T00:00:00Z"}
        answer = {**question, "id": str(uuid.uuid4()), "type": "assistant_message", "output": "The keeper [1].",
                  "createdAt": None}
        await store.create_step(question)
        await store.create_step(answer)
        citation = Text(name="[1] tides.md", content="The keeper logs the tides.", display="side", for_id=answer["id"])
        citation.thread_id = thread_id
        await store.create_element(citation)

        [thread] = await store.get_all_user_threads(user_id=user.id)
        assert thread["id"] == thread_id and thread["userIdentifier"] == "alice"
        assert chat_turns(thread) == [("Who logs the tides?", "The keeper [1].")]
        assert thread_chat_settings(thread) == {"top_k": 6}
        [element] = thread["elements"]
        assert await store.file_owner(element["objectKey"]) == "alice"
        await store.delete_thread(thread_id)
        assert await store.get_thread(thread_id) is None
    finally:
        await store.engine.dispose()
