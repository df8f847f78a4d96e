"""Sentence attribution as a reader sees it: a real browser, a real `chainlit run app.py`, and a
model (the scripted OpenAI-compatible server, behaviour `quote`) that copies a sentence of its
first source and writes no [n], as the small bundled model often does. The answer still gets a
citation chip, marked as found by ragstage; the chip's side panel highlights exactly the
supporting sentence, shown as text (the document's `<b>` is not rendered); and a sentence no
passage supports is flagged."""

from __future__ import annotations

import sys

import pytest

from e2e_server import ROOT, _stop, free_port, screenshot, start_chainlit

sys.path.insert(0, str(ROOT / "benchmarks"))
from scripted_openai_server import ScriptedServerProcess  # noqa: E402

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.e2e
expect = playwright_api.expect

SUPPORTING = "Press the <b>red</b> button to start the harbour pump."
DOCUMENTS = {
    "pump.md": f"# Harbour pump\n\nThe harbour pump has two brass valves. {SUPPORTING}\n",
    "lamp.md": "# Lamp\n\nThe lighthouse lamp burns oil and the keeper trims the wick.\n",
    "boats.md": "# Boats\n\nFishing boats leave before dawn and return by noon.\n",
    "market.md": "# Market\n\nThe fish market opens at six and sells the morning catch.\n",
}


# The passage text follows the panel's rule (a separator div in Chainlit 2.12); bold after it is the highlight.
HIGHLIGHT = '[role="none"][data-orientation="horizontal"] ~ * .font-bold'


def _answer(page):
    return page.locator(".step[data-step-type=assistant_message]").last


def test_an_answer_without_marks_gets_a_chip_whose_panel_highlights_the_supporting_sentence(browser, tmp_path):
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    for name, text in DOCUMENTS.items():
        (knowledge / name).write_text(text, encoding="utf-8")
    model = ScriptedServerProcess("--model", "scripted-slm", "--model", "scripted-llm", "--behavior", "quote",
                                  port=free_port()).start()
    url, app, _ = start_chainlit(
        tmp_path, RAGSTAGE_BACKEND="remote", RAGSTAGE_SLM_BASE_URL=model.base_url, RAGSTAGE_LLM_BASE_URL=model.base_url,
        RAGSTAGE_SLM_MODEL="scripted-slm", RAGSTAGE_LLM_MODEL="scripted-llm", RAGSTAGE_START_EMBEDDED_AT_LAUNCH="false",
        RAGSTAGE_KNOWLEDGE_DIR=str(knowledge), RAGSTAGE_KNOWLEDGE_WATCH="false",
    )
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=url)
    page = context.new_page()
    try:
        page.goto("/")
        expect(page.locator(".step[data-step-type=assistant_message]").filter(has_text="ragstage is ready")).to_have_count(1, timeout=60_000)
        page.fill("#chat-input", "How do I start the harbour pump?")
        page.click("#chat-submit")
        answer = _answer(page)
        expect(answer).to_contain_text("Found by ragstage", timeout=60_000)

        shown = answer.inner_text()
        assert SUPPORTING in shown  # the model's words, its <b> shown as text
        assert answer.locator("em, .italic", has_text="[1]").count() == 1  # the computed mark, in italics
        assert answer.locator("b", has_text="red").count() == 0
        chip = answer.locator(".element-link", has_text="[1] pump.md")
        expect(chip).to_have_count(1)
        screenshot(page, "10-computed-citation-chip")

        chip.click()
        panel = page.locator("#side-view-content")
        panel.get_by_text("Cited by").first.wait_for()
        highlight = panel.locator(HIGHLIGHT)
        expect(highlight).to_have_count(1, timeout=10_000)
        assert highlight.inner_text() == SUPPORTING
        assert panel.locator("b").count() == 0 and "The harbour pump has two brass valves." in panel.inner_text()
        background = highlight.evaluate("e => getComputedStyle(e).backgroundColor")
        assert background not in ("rgba(0, 0, 0, 0)", "transparent"), background
        assert "Cited by: ragstage" in panel.inner_text()
        page.wait_for_timeout(500)  # the panel slides in
        screenshot(page, "11-passage-panel-highlight")
    finally:
        context.close()
        _stop(app)
        model.stop()
