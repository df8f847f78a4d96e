"""The team-server setup of docs/TEAM-SERVER.md against a real, throwaway PostgreSQL: the app
creates its tables with native types and Chainlit's data layer stores and returns a thread.
Skipped where no PostgreSQL server binaries are installed."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from chainlit.context import init_http_context
from chainlit.element import Text
from chainlit.user import User

from ragstage.ui.chat_files import LocalFileStorage
from ragstage.ui.history import chat_turns, thread_chat_settings
from ragstage.ui.history_store import ChatHistoryStore

pytest.importorskip("asyncpg")
PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None)
pytestmark = pytest.mark.skipif(PG_BIN is None or shutil.which("runuser") is None and os.geteuid() == 0,
                                reason="no PostgreSQL server binaries")


def as_postgres_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    # not under pytest's tmp dirs: those are private to root, and PostgreSQL refuses to run as root
    folder = Path(tempfile.mkdtemp(prefix="ragstage-pg-"))
    folder.chmod(0o777)
    data = folder / "data"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = lambda *args: subprocess.run(as_postgres_user([str(PG_BIN / args[0]), *args[1:]]),  # noqa: E731
                                       check=True, capture_output=True, timeout=120)
    run("initdb", "-D", str(data), "-U", "ragstage", "--auth=trust", "-E", "UTF8")
    run("pg_ctl", "-D", str(data), "-w", "-l", str(data / "server.log"), "-o",
        f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    try:
        run("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "ragstage", "ragstage")
        yield f"postgresql+asyncpg://ragstage@127.0.0.1:{port}/ragstage"
    finally:
        run("pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


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
