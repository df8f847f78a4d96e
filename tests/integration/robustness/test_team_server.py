"""The team server of docs/TEAM-SERVER.md, section 5, for real: two `chainlit run` instances on one
throwaway PostgreSQL, sharing the auth secret, the knowledge folder, the index cache and the
chat-files folder, behind nginx (the site scripts/team_nginx.py writes). Sessions are spread over
both instances and each stays on its own (Socket.IO long-polling, uploads), and a document added
to the shared folder, or persisted from an upload on one instance, is found on every instance.
The model is the scripted server: this is about the set-up, not the model."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_kit import ROOT, ScriptedServerProcess
from chat_client import PASSWORD, USER, ChatClient, cited_text
from team_stack import AppInstance, Nginx, missing_servers, running_stack, throwaway_postgres

from ragstage.accounts import set_user

pytest.importorskip("asyncpg")
pytestmark = pytest.mark.skipif(bool(missing_servers()), reason=f"needs {missing_servers()} "
                                "(scripts/setup.py --test installs them)")
TIMEOUT_S = 90.0
WATCH_WAIT_S = 60.0


class Team:
    def __init__(self, instances: list[AppInstance], nginx: Nginx, knowledge: Path) -> None:
        self.instances, self.nginx, self.knowledge = instances, nginx, knowledge


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    work = tmp_path_factory.mktemp("team")
    knowledge = work / "shared" / "knowledge"
    shutil.copytree(ROOT / "knowledge", knowledge)
    set_user(work / "users.txt", USER, PASSWORD, rounds=4)
    with ScriptedServerProcess("--model", "scripted-slm", "--model", "scripted-llm", "--tokens", "12",
                               log=work / "model.log") as model, throwaway_postgres() as database_url:
        env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("RAGSTAGE_")}
        env.update({
            "RAGSTAGE_BACKEND": "remote", "RAGSTAGE_SLM_BASE_URL": model.base_url,
            "RAGSTAGE_LLM_BASE_URL": model.base_url, "RAGSTAGE_SLM_MODEL": "scripted-slm",
            "RAGSTAGE_LLM_MODEL": "scripted-llm", "RAGSTAGE_START_EMBEDDED_AT_LAUNCH": "false",
            "RAGSTAGE_USERS_FILE": str(work / "users.txt"), "RAGSTAGE_DATABASE_URL": database_url,
            "CHAINLIT_AUTH_SECRET": "team-" + "t" * 59, "RAGSTAGE_KNOWLEDGE_DIR": str(knowledge),
            "RAGSTAGE_CACHE_DIR": str(work / "shared" / "cache"),
            "RAGSTAGE_CHAT_FILES_DIR": str(work / "shared" / "chat-files"),
            "RAGSTAGE_UPLOADS_PERSIST": "true", "RAGSTAGE_KNOWLEDGE_WATCH_QUIET_MS": "200",
        })
        with running_stack(env, 2, work) as (instances, nginx):
            yield Team(instances, nginx, knowledge)


async def ask_until_cited(url: str, question: str, source: str, via_proxy: bool = False) -> str:
    """Ask in a new signed-in chat until the answer cites `source` (a folder change reaches an
    instance through its watcher, within about a second); returns what was cited."""
    deadline = time.monotonic() + WATCH_WAIT_S
    while True:
        client = ChatClient(url, TIMEOUT_S, signed_in=True, via_proxy=via_proxy)
        try:
            await client.connect()
            reply = await client.ask(question)
            assert reply.finished and not reply.is_error, reply.texts[-1:]
            cited = await cited_text(client, reply)
        finally:
            await client.close()
        if source in cited or time.monotonic() > deadline:
            return cited
        await asyncio.sleep(0.5)


async def test_sessions_spread_over_the_instances_and_each_stays_on_its_own(team: Team) -> None:
    clients = [ChatClient(team.nginx.url, TIMEOUT_S, signed_in=True, via_proxy=True) for _ in range(6)]
    try:
        await asyncio.gather(*(client.connect() for client in clients))  # long-polling, then WebSocket
        for n, client in enumerate(clients):
            file_id = await client.upload(f"spread-{n}.md", f"# Spread {n}\n\nThe word spreadx{n}q is here.\n")
            reply = await client.ask(f"Where is the word spreadx{n}q?", [file_id])
            assert reply.finished and not reply.is_error, reply.texts[-1:]
            assert f"spread-{n}.md" in await cited_text(client, reply)
        assert {client.instance for client in clients} == {"1", "2"}  # both instances took sessions
    finally:
        await asyncio.gather(*(client.close() for client in clients))


async def test_a_file_added_to_the_shared_folder_is_found_on_every_instance(team: Team) -> None:
    (team.knowledge / "team-notes.md").write_text(
        "# Team notes\n\nThe quokkaplan rota names who restarts the model server on Fridays.\n")
    for instance in team.instances:
        cited = await ask_until_cited(instance.url, "Who is on the quokkaplan rota?", "team-notes.md")
        assert "team-notes.md" in cited, f"instance {instance.name} never found the new file"


async def test_an_upload_persisted_on_one_instance_is_found_on_the_other(team: Team) -> None:
    first, second = team.instances
    client = ChatClient(first.url, TIMEOUT_S, signed_in=True)
    try:
        await client.connect()
        file_id = await client.upload("wombat-guide.md", "# Wombat guide\n\nThe wombatrix cache lives on shared storage.\n")
        reply = await client.ask("Where does the wombatrix cache live?", [file_id])
        assert reply.finished and "wombat-guide.md" in await cited_text(client, reply)
    finally:
        await client.close()
    cited = await ask_until_cited(second.url, "Where does the wombatrix cache live?", "wombat-guide.md")
    assert "wombat-guide.md" in cited
