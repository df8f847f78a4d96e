"""Model-server faults as people see them: a real browser, a real `chainlit run app.py`, and a
scripted OpenAI-compatible server that misbehaves on cue. Each fault shows a readable notice in
the chat, keeps what was already streamed, and the next question is answered; at the end no
process is left behind."""

from __future__ import annotations

import socket
import sys

import psutil
import pytest

from e2e_server import ROOT, _stop, screenshot, start_chainlit

sys.path.insert(0, str(ROOT / "benchmarks"))
from scripted_openai_server import ScriptedServerProcess  # noqa: E402

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.e2e
expect = playwright_api.expect

NOTICE = "The answer could not be completed."
PARTIAL = "According to [1],"  # the scripted server's first three tokens
FULL = "the answer is"
# behaviour -> whether text streamed before the failure (and must stay on the page)
FAULTS = {"http500": False, "malformed": True, "silent": False, "wrong_model": False, "drop_mid": True, "die_mid": True}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def messages(page, text: str):
    return page.locator(".step[data-step-type=assistant_message]").filter(has_text=text)


def ask(page, question: str) -> None:
    page.fill("#chat-input", question)
    page.click("#chat-submit")


def test_every_model_fault_is_explained_in_the_chat_and_the_next_question_works(browser, tmp_path) -> None:
    model = ScriptedServerProcess("--model", "scripted-slm", "--model", "scripted-llm", "--tokens", "12",
                                  "--die-after", "3", port=free_port())
    url, app, _ = start_chainlit(
        tmp_path, RAGSTAGE_BACKEND="remote", RAGSTAGE_SLM_BASE_URL=model.base_url, RAGSTAGE_LLM_BASE_URL=model.base_url,
        RAGSTAGE_SLM_MODEL="scripted-slm", RAGSTAGE_LLM_MODEL="scripted-llm", RAGSTAGE_START_EMBEDDED_AT_LAUNCH="false",
        RAGSTAGE_FIRST_TOKEN_TIMEOUT_S="2", RAGSTAGE_REQUEST_RETRIES="0", RAGSTAGE_DISCOVERY_TIMEOUT_S="1",
    )
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=url)
    page = context.new_page()
    try:
        page.goto("/")
        expect(page.locator("#chat-input")).to_be_visible(timeout=60_000)
        expect(messages(page, "ragstage is ready")).to_have_count(1, timeout=60_000)
        notices = full = partials = 0

        ask(page, "What are the default k1 and b values of BM25Okapi?")  # no model server yet
        notices += 1
        expect(messages(page, NOTICE)).to_have_count(notices, timeout=60_000)
        expect(messages(page, NOTICE).last).to_contain_text(model.base_url)
        model.start()

        for n, (behavior, streams_first) in enumerate(FAULTS.items()):
            model.control(behavior=behavior)
            ask(page, f"Question {n}: what are the default k1 and b values of BM25Okapi?")
            notices += 1
            partials += streams_first
            expect(messages(page, NOTICE)).to_have_count(notices, timeout=60_000)
            expect(messages(page, PARTIAL)).to_have_count(full + partials, timeout=15_000)
            if behavior == "die_mid":
                model.restart()  # killed mid-answer; its operator brings it back
            else:
                model.control(behavior="ok")
            ask(page, f"Again {n}: what are the default k1 and b values of BM25Okapi?")
            full += 1
            expect(messages(page, FULL)).to_have_count(full, timeout=60_000)
        screenshot(page, "faults-in-chat")
        body = page.locator("body").inner_text()
        assert "Traceback" not in body and "Exception" not in body
    finally:
        context.close()
        _stop(app)
        model.stop()
    assert not psutil.pid_exists(app.pid) or psutil.Process(app.pid).status() == psutil.STATUS_ZOMBIE
    assert not model.alive()
