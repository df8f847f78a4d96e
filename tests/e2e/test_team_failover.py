"""A team server in a real browser: sign in through nginx, chat on the instance nginx pinned the
browser to, stop that instance, reload: the chat resumes on the other instance with its
settings, its uploaded document (re-indexed from the shared chat-files folder) and its citations.

Two `chainlit run` instances, one throwaway PostgreSQL, nginx with the site of
scripts/team_nginx.py (docs/TEAM-SERVER.md, section 5); the model is the scripted server.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator

import pytest

from e2e_server import ROOT, screenshot
from ragstage.accounts import set_user

sys.path.insert(0, str(ROOT / "benchmarks"))
from scripted_openai_server import ScriptedServerProcess  # noqa: E402
from team_stack import AppInstance, Nginx, missing_servers, running_stack, throwaway_postgres  # noqa: E402
from test_signin_history import PASSWORD, UPLOAD_TEXT, answers, sign_in  # noqa: E402

playwright_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("asyncpg")
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(bool(missing_servers()), reason=f"needs {missing_servers()} "
                                                  "(scripts/setup.py --test installs them)")]
expect = playwright_api.expect


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
    sign_in(tab, PASSWORD)
    expect(tab.locator("#chat-input")).to_be_visible(timeout=60_000)
    expect(answers(tab).first).to_contain_text("ragstage is ready", timeout=60_000)
    first = pinned_instance(tab)
    assert first in ("1", "2")

    tab.click("#chat-settings-open-modal")  # a setting that must survive the move
    tab.click("#answer_anyway")
    tab.click("#confirm")
    notes = tmp_path / "lighthouse-notes.md"
    notes.write_text(UPLOAD_TEXT)
    tab.set_input_files("#upload-button-input", str(notes))
    expect(tab.get_by_text("lighthouse-notes.md").first).to_be_visible(timeout=15_000)
    tab.fill("#chat-input", "Who logs the tides, says the zqkeeper note?")
    tab.click("#chat-submit")
    expect(tab.get_by_text("[1] lighthouse-notes.md").first).to_be_visible(timeout=60_000)
    expect(tab).to_have_url(re.compile(r"/thread/[0-9a-f-]{36}"), timeout=15_000)
    thread_url = tab.url
    assert pinned_instance(tab) == first  # every request of this chat went to one instance

    instances[int(first) - 1].stop()  # the instance this browser was on goes away
    tab.reload()
    expect(tab).to_have_url(thread_url)
    expect(answers(tab).filter(has_text="According to [1]")).to_have_count(1, timeout=60_000)
    second = pinned_instance(tab)
    assert second in ("1", "2") and second != first  # nginx moved the browser, and the cookie followed
    tab.get_by_text("[1] lighthouse-notes.md").first.click()
    expect(tab.locator("#side-view-content")).to_contain_text("The zqkeeper logs the tides twice a day",
                                                               timeout=15_000)
    screenshot(tab, "team-failover-resumed-citation")

    tab.click("#chat-settings-open-modal")
    expect(tab.locator("#answer_anyway")).to_have_attribute("aria-checked", "true", timeout=15_000)
    tab.keyboard.press("Escape")

    tab.fill("#chat-input", "What does the zqkeeper do at the harbour?")  # only the upload knows
    tab.click("#chat-submit")
    expect(answers(tab).filter(has_text="According to [1]")).to_have_count(2, timeout=60_000)
    expect(answers(tab).last).to_contain_text("lighthouse-notes.md")
    assert pinned_instance(tab) == second
    screenshot(tab, "team-failover-followup")
