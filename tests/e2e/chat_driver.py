"""Driving the Chainlit 2.12 chat page like a person does (ids from FIELD-NOTES)."""

from __future__ import annotations

import time

from e2e_server import ANSWER_TIMEOUT_MS

ASSISTANT = '.step[data-step-type="assistant_message"]'
READY_TEXT = "ragstage is ready"


def open_chat(page) -> None:
    page.goto("/")
    page.wait_for_selector(f"text={READY_TEXT}", timeout=ANSWER_TIMEOUT_MS)


def send(page, text: str) -> None:
    page.fill("#chat-input", text)
    page.click("#chat-submit")


def assistant_texts(page) -> list[str]:
    return page.locator(ASSISTANT).all_inner_texts()


def watch_answer(page, timeout_ms: int = ANSWER_TIMEOUT_MS) -> list[str]:
    """Wait for the running answer to finish; returns the distinct texts the last assistant
    message showed while it was running (more than one means it streamed)."""
    page.wait_for_selector("#stop-button", timeout=30_000)
    seen: list[str] = []
    deadline = time.monotonic() + timeout_ms / 1000
    while page.locator("#stop-button").count() and time.monotonic() < deadline:
        texts = assistant_texts(page)
        if texts and (not seen or seen[-1] != texts[-1]):
            seen.append(texts[-1])
        page.wait_for_timeout(100)
    assert page.locator("#stop-button").count() == 0, "the answer did not finish in time"
    return seen


def open_settings(page) -> None:
    page.click("#chat-settings-open-modal")
    page.wait_for_selector("#mode")


def choose(page, widget_id: str, option_text: str) -> None:
    page.click(f"#{widget_id}")
    page.get_by_role("option", name=option_text).first.click()


def confirm_settings(page) -> None:
    page.click("#confirm")
    page.wait_for_selector("#mode", state="detached")


def expand_step(page, name: str) -> None:
    page.get_by_text(f"Used {name}", exact=True).last.click()
