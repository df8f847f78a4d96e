"""The chat history store: Chainlit's own SQLAlchemy data layer against the tables we create."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from chainlit.context import init_http_context
from chainlit.element import Text
from chainlit.user import User

from ragstage.ui.chat_files import LocalFileStorage, safe_object_key
from ragstage.ui.history import chat_turns, stored_uploads, thread_chat_settings
from ragstage.ui.history_store import ChatHistoryStore


@pytest.fixture
async def store(tmp_path: Path):
    init_http_context()  # elements and the data layer expect a Chainlit context, as in the app
    storage = LocalFileStorage(tmp_path / "chat-files")
    layer = ChatHistoryStore(f"sqlite+aiosqlite:///{tmp_path}/db/chats.db", storage)
    yield layer
    await layer.engine.dispose()


def step(thread_id: str, kind: str, text: str) -> dict:
    return {"id": str(uuid.uuid4()), "threadId": thread_id, "name": kind, "type": kind, "output": text,
            "streaming": False, "createdAt": "2026-01-01T00:00:00Z", "metadata": {}}


async def test_thread_with_messages_settings_and_citation_round_trips(store: ChatHistoryStore) -> None:
    user = await store.create_user(User(identifier="alice"))
    thread_id = str(uuid.uuid4())
    await store.update_thread(thread_id, name="About BM25", user_id=user.id,
                              metadata={"chat_settings": {"mode": "hybrid", "top_k": 6}})
    question = step(thread_id, "user_message", "what is bm25?")
    answer = step(thread_id, "assistant_message", "See [1].\n\n**Sources:** [1] guide.md\n\n**Latency this chat:** Chart")
    await store.create_step(question)
    await store.create_step(answer)
    citation = Text(name="[1] guide.md", content="<b>BM25</b> ranks passages", display="side", for_id=answer["id"])
    citation.thread_id = thread_id
    await store.create_element(citation)

    thread = await store.get_thread(thread_id)
    assert thread["userIdentifier"] == "alice"
    assert chat_turns(thread) == [("what is bm25?", "See [1].")]
    assert [s["type"] for s in thread["steps"]] == ["user_message", "assistant_message"]
    assert thread_chat_settings(thread) == {"mode": "hybrid", "top_k": 6}
    [element] = thread["elements"]
    assert element["name"] == "[1] guide.md" and element["url"].startswith("/ragstage/chat-files/")
    assert await store.storage.read(element["objectKey"]) == b"<b>BM25</b> ranks passages"
    assert await store.file_owner(element["objectKey"]) == "alice"
    assert await store.file_owner("someone/else/file.md") is None
    listed = await store.get_all_user_threads(user_id=user.id)
    assert [t["id"] for t in listed] == [thread_id]


async def test_uploads_attached_to_user_messages_are_found_for_resume(store: ChatHistoryStore, tmp_path: Path) -> None:
    user = await store.create_user(User(identifier="bob"))
    thread_id = str(uuid.uuid4())
    await store.update_thread(thread_id, user_id=user.id)
    question = step(thread_id, "user_message", "summarise my file")
    await store.create_step(question)
    source = tmp_path / "notes.md"
    source.write_text("# Notes\nCODE-resume lives here")
    upload = Text(name="../../notes.md", path=str(source), display="inline", for_id=question["id"],
                  chainlit_key="file-1", mime="text/markdown")
    upload.thread_id = thread_id
    await store.create_element(upload)

    thread = await store.get_thread(thread_id)
    [stored] = stored_uploads(thread)
    assert stored.name == "../../notes.md"
    assert store.storage.path_for(stored.object_key).read_bytes() == source.read_bytes()
    assert all(p.is_relative_to(store.storage.root) for p in store.storage.root.rglob("*"))


async def test_streamed_message_without_creation_time_keeps_its_place(store: ChatHistoryStore) -> None:
    user = await store.create_user(User(identifier="carol"))
    thread_id = str(uuid.uuid4())
    await store.update_thread(thread_id, user_id=user.id)
    streamed = {**step(thread_id, "assistant_message", "partial"), "createdAt": None}
    await store.create_step(streamed)
    first = (await store.get_thread(thread_id))["steps"][0]["createdAt"]
    assert first
    await store.update_step({**streamed, "output": "partial and the rest"})
    [stored] = (await store.get_thread(thread_id))["steps"]
    assert stored["createdAt"] == first and stored["output"] == "partial and the rest"


@pytest.mark.parametrize("key", ["../../etc/passwd", "/abs/path", "u/e/..", "u/e/CON", "a/" + "x" * 500])
def test_object_keys_never_leave_the_files_folder(tmp_path: Path, key: str) -> None:
    storage = LocalFileStorage(tmp_path)
    assert storage.root in storage.path_for(key).parents
    assert ".." not in safe_object_key(key).split("/")
