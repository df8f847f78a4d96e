"""A team server in a real browser: sign in through nginx, chat on the instance nginx pinned the
browser to, stop that instance, reload: the chat resumes on the other instance with its
settings, its uploaded document (re-indexed from the shared chat-files folder) and its citations.

Two `chainlit run` instances, one throwaway PostgreSQL, nginx with the site of
scripts/team_nginx.py (docs/TEAM-SERVER.md, section 5); the model is the scripted server.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

from e2e_server import ROOT
from ragstage.accounts import set_user

sys.path.insert(0, str(ROOT / "benchmarks"))
from scripted_openai_server import ScriptedServerProcess  # noqa: E402
from team_stack import AppInstance, Nginx, missing_servers, running_stack, throwaway_postgres  # noqa: E402
from test_signin_history import PASSWORD, chat_with_a_setting_and_an_upload, check_resumed_chat  # noqa: E402

playwright_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("asyncpg")
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(bool(missing_servers()), reason=f"needs {missing_servers()} "
                                                  "(scripts/setup.py --test installs them)")]


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[AppInstance], Nginx]]:
    work = tmp_path_factory.mktemp("team-e2e")
    set_user(work / "users.txt", "alice", PASSWORD, rounds=4)
    with ScriptedServerProcess("--model", "scripted-slm", "--model", "scripted-llm", "--tokens", "12",
                               log=work / "model.log") as model, throwaway_postgres() as database_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAGSTAGE_")}
        env.update({
            "RAGSTAGE_BACKEND": "remote", "RAGSTAGE_SLM_BASE_URL": model.base_url,
            "RAGSTAGE_LLM_BASE_URL": model.base_url, "RAGSTAGE_SLM_MODEL": "scripted-slm",
            "RAGSTAGE_LLM_MODEL": "scripted-llm", "RAGSTAGE_START_EMBEDDED_AT_LAUNCH": "false",
            "RAGSTAGE_USERS_FILE": str(work / "users.txt"), "RAGSTAGE_DATABASE_URL": database_url,
            "CHAINLIT_AUTH_SECRET": "failover-" + "f" * 55, "RAGSTAGE_CACHE_DIR": str(work / "shared" / "cache"),
            "RAGSTAGE_CHAT_FILES_DIR": str(work / "shared" / "chat-files"),
        })
        with running_stack(env, 2, work) as stack:
            yield stack


@pytest.fixture
def tab(browser, team):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=team[1].url)
    yield context.new_page()
    context.close()


def pinned_instance(page) -> str:
    return next((c["value"] for c in page.context.cookies() if c["name"] == "ragstage_instance"), "")


def test_a_chat_resumes_on_another_instance_when_its_own_stops(tab, team, tmp_path) -> None:
    instances, _ = team
    thread_url = chat_with_a_setting_and_an_upload(tab, tmp_path)
    first = pinned_instance(tab)
    assert first in ("1", "2")  # and every request of this chat went there (else the upload fails)

    instances[int(first) - 1].stop()  # the instance this browser was on goes away
    tab.reload()
    check_resumed_chat(tab, thread_url, "team-failover")
    second = pinned_instance(tab)
    assert second in ("1", "2") and second != first  # nginx moved the browser, and the cookie followed
