"""Sign-in and chat history in a real browser against a real `chainlit run app.py`.

The model is the scripted OpenAI-compatible server (this test is about the app keeping
people's chats, not about the model); the sign-in, the SQLite history, the stored citations
and the resumed thread are all real.
"""

from __future__ import annotations

import re
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e_server import ROOT, _stop, screenshot, start_chainlit
from ragstage.accounts import set_user

sys.path.insert(0, str(ROOT / "benchmarks"))
from scripted_openai_server import ScriptedServerProcess  # noqa: E402

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.e2e
expect = playwright_api.expect
PASSWORD = "correct horse battery"
UPLOAD_TEXT = "# Lighthouse notes\n\nThe zqkeeper logs the tides twice a day at the harbour.\n"


@pytest.fixture(scope="module")
def signed_in_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("signin")
    users = tmp / "users.txt"
    set_user(users, "alice", PASSWORD, rounds=4)
    database = tmp / "db" / "chats.db"
    with ScriptedServerProcess("--model", "scripted-slm", "--model", "scripted-llm", "--tokens", "12") as model:
        url, process, _ = start_chainlit(
            tmp, RAGSTAGE_BACKEND="remote", RAGSTAGE_SLM_BASE_URL=model.base_url, RAGSTAGE_LLM_BASE_URL=model.base_url,
            RAGSTAGE_SLM_MODEL="scripted-slm", RAGSTAGE_LLM_MODEL="scripted-llm",
            RAGSTAGE_START_EMBEDDED_AT_LAUNCH="false", RAGSTAGE_USERS_FILE=str(users),
            RAGSTAGE_DATABASE_URL=f"sqlite+aiosqlite:///{database}", CHAINLIT_AUTH_SECRET="e2e-" + "s" * 48,
        )
        try:
            yield url, database
        finally:
            _stop(process)


@pytest.fixture
def tab(browser, signed_in_app):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=signed_in_app[0])
    yield context.new_page()
    context.close()


def sign_in(page, password: str) -> None:
    page.goto("/login")
    page.fill("#email", "alice")
    page.fill("#password", password)
    page.click("button[type=submit]")


def answers(page):
    return page.locator(".step[data-step-type=assistant_message]")


def test_wrong_password_is_refused(tab) -> None:
    sign_in(tab, "not the password")
    expect(tab.get_by_text("Unable to sign in")).to_be_visible(timeout=15_000)
    assert tab.url.endswith("/login")
    assert not [c for c in tab.context.cookies() if "access_token" in c["name"]]
    tab.goto("/")
    expect(tab).to_have_url(re.compile(r"/login"), timeout=15_000)  # no chat without signing in
    screenshot(tab, "signin-refused")


def chat_with_a_setting_and_an_upload(tab, tmp_path: Path) -> str:
    """Sign in, turn on `answer anyway`, upload a note and get an answer citing it; returns the
    thread's URL."""
    sign_in(tab, PASSWORD)
    expect(tab.locator("#chat-input")).to_be_visible(timeout=60_000)
    expect(answers(tab).first).to_contain_text("ragstage is ready", timeout=60_000)

    tab.click("#chat-settings-open-modal")  # a setting that must survive: answer anyway
    tab.click("#answer_anyway")
    tab.click("#confirm")

    notes = tmp_path / "lighthouse-notes.md"
    notes.write_text(UPLOAD_TEXT)
    tab.set_input_files("#upload-button-input", str(notes))
    expect(tab.get_by_text("lighthouse-notes.md").first).to_be_visible(timeout=15_000)
    tab.fill("#chat-input", "Who logs the tides, says the zqkeeper note?")
    tab.click("#chat-submit")
    chip = tab.get_by_text("[1] lighthouse-notes.md").first
    expect(chip).to_be_visible(timeout=60_000)
    expect(tab).to_have_url(re.compile(r"/thread/[0-9a-f-]{36}"), timeout=15_000)
    return tab.url


def check_resumed_chat(tab, thread_url: str, screenshots: str) -> None:
    """After a reload: the thread is back with its citation, its setting and its upload (a
    follow-up only the upload can answer is cited)."""
    expect(tab).to_have_url(thread_url)
    expect(answers(tab).filter(has_text="According to [1]")).to_have_count(1, timeout=60_000)
    tab.get_by_text("[1] lighthouse-notes.md").first.click()
    side = tab.locator("#side-view-content")
    expect(side).to_contain_text("The zqkeeper logs the tides twice a day", timeout=15_000)
    screenshot(tab, f"{screenshots}-resumed-citation")

    tab.click("#chat-settings-open-modal")
    expect(tab.locator("#answer_anyway")).to_have_attribute("aria-checked", "true", timeout=15_000)
    tab.keyboard.press("Escape")

    tab.fill("#chat-input", "What does the zqkeeper do at the harbour?")  # only the upload knows
    tab.click("#chat-submit")
    expect(answers(tab).filter(has_text="According to [1]")).to_have_count(2, timeout=60_000)
    expect(answers(tab).last).to_contain_text("lighthouse-notes.md")
    screenshot(tab, f"{screenshots}-resumed-followup")


def test_signed_in_chat_resumes_with_citations_settings_and_uploads(tab, signed_in_app, tmp_path: Path) -> None:
    _, database = signed_in_app
    thread_url = chat_with_a_setting_and_an_upload(tab, tmp_path)
    tab.reload()  # the session ends; the thread comes back from the database
    check_resumed_chat(tab, thread_url, "signin")

    with sqlite3.connect(database) as db:
        [(threads,)] = db.execute('SELECT count(*) FROM threads WHERE "userIdentifier" = ?', ("alice",))
        [(citations,)] = db.execute("SELECT count(*) FROM elements WHERE name LIKE '[1] lighthouse-notes.md'")
    assert threads >= 1 and citations >= 1
