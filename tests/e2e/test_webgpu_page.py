"""The browser page in a real browser, served by the real Chainlit app with the real models.

The page's routes run inside `chainlit run app.py` (the shared `chainlit_server` fixture: the
bundled models on embedded llama.cpp servers), so these tests also prove that the routes win
over Chainlit's own `/public` and catch-all routes and survive its gzip middleware. Debian
chromium, driven by Playwright, does what a presenter does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

pytestmark = pytest.mark.e2e

SLM_NAME, LLM_NAME = "SmolLM2-135M-Instruct", "Qwen2.5-Coder-0.5B-Instruct"
CODE_CONTEXT = "Launch checklist.\n\nThe secret code word for the launch is {word}."


class DemoPage:
    """The page as a presenter uses it."""

    def __init__(self, browser, base_url: str, query: str = ""):
        self.page = browser.new_page(viewport={"width": 1440, "height": 1000})
        self.errors: list[str] = []
        self.outside_requests: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: r.url.startswith(base_url) or r.url.startswith(("blob:", "data:"))
                     or self.outside_requests.append(r.url))
        self.page.goto(f"{base_url}/public/webgpu_demo.html{query}")
        self.page.wait_for_selector("body[data-ready=true]", timeout=120_000)

    def ask(self, question: str, *, mode: str = "slm", engine: str = "server", context: str = "",
            max_tokens: int = 12) -> None:
        page = self.page
        page.check(f"#engine-{engine}")
        page.check(f"#mode-{mode}")
        page.fill("#prompt", question)
        page.fill("#context", context)
        page.fill("#max-tokens", str(max_tokens))
        page.evaluate("""() => {
            window.answerMutations = 0;
            const inText = (node) => (node.nodeType === 1 ? node : node.parentElement)?.closest('.stage-text');
            new MutationObserver((records) => {
                window.answerMutations += records.filter((r) => inText(r.target)).length;
            }).observe(
                document.getElementById('answer'), {subtree: true, childList: true, characterData: true});
        }""")
        page.click("#generate")

    def wait_until_finished(self, timeout_ms: int = 180_000) -> str:
        self.page.wait_for_function("() => document.getElementById('stop').disabled", timeout=timeout_ms)
        return self.page.inner_text("#status")

    def answer(self) -> str:
        return self.page.inner_text("#answer .stage-text")

    def chart_points(self) -> list[str]:
        return self.page.eval_on_selector_all("#latency-chart g.point", "gs => gs.map(g => g.dataset.series)")


@pytest.fixture
def demo(browser, chainlit_server) -> Iterator[DemoPage]:
    page = DemoPage(browser, chainlit_server)
    yield page
    page.page.close()


def test_page_loads_isolated_with_real_model_names_and_no_console_errors(demo):
    assert demo.page.evaluate("crossOriginIsolated") is True
    assert demo.page.inner_text("#label-slm") == SLM_NAME
    assert demo.page.inner_text("#label-llm") == LLM_NAME
    assert SLM_NAME in demo.page.inner_text("#label-hybrid") and LLM_NAME in demo.page.inner_text("#label-hybrid")
    assert demo.page.is_enabled("#engine-browser")
    assert demo.errors == []
    assert demo.outside_requests == []


def test_server_engine_streams_each_model_and_the_chart_gains_a_point_per_request(demo):
    context = CODE_CONTEXT.format(word="BLUEFALCON")
    for count, (mode, name) in enumerate([("slm", SLM_NAME), ("llm", LLM_NAME), ("hybrid", "hybrid")], start=1):
        demo.ask("What is the code word for the launch?", mode=mode, context=context, max_tokens=10)
        status = demo.wait_until_finished()
        assert status.startswith("Done: first token"), f"{mode}: {status} / {demo.page.inner_text('#error')}"
        assert demo.answer().strip()
        assert demo.page.evaluate("window.answerMutations") >= 3  # token by token, not all at once
        points = demo.chart_points()
        assert len(points) == count
        assert name in points[-1] and points[-1].endswith("server")
    assert demo.errors == []


def test_reference_box_grounds_the_answer(demo):
    for word in ("BLUEFALCON", "REDWOLF"):
        demo.ask("What is the secret code word for the launch?", mode="llm",
                 context=CODE_CONTEXT.format(word=word), max_tokens=24)
        assert demo.wait_until_finished().startswith("Done")
        assert demo.answer().strip()  # which words a tiny model picks is not asserted
        assert "[1]" in demo.page.inner_text("#sources") and "reference" in demo.page.inner_text("#sources").lower()


def test_stop_stops_generation_adds_no_chart_point_and_the_next_request_works(demo):
    # Stopped during prefill: the answer cap is short, so a click after the first token could
    # race the end of the answer; before the first token it cannot.
    demo.ask("Write a long story about the launch, with many details.", mode="llm",
             context=CODE_CONTEXT.format(word="BLUEFALCON"), max_tokens=40)
    demo.page.click("#stop")
    assert demo.wait_until_finished(10_000) == "Stopped."
    stopped_at = demo.page.inner_text("#answer")
    demo.page.wait_for_timeout(1500)
    assert demo.page.inner_text("#answer") == stopped_at
    assert demo.chart_points() == []
    demo.ask("What is the code word for the launch?", mode="llm", context=CODE_CONTEXT.format(word="BLUEFALCON"),
             max_tokens=5)
    assert demo.wait_until_finished().startswith("Done: first token")
    assert len(demo.chart_points()) == 1


def test_in_tab_engine_generates_with_the_bundled_model_and_reports_its_backend(demo):
    demo.ask("What is the code word for the launch?", engine="browser",
             context=CODE_CONTEXT.format(word="BLUEFALCON"), max_tokens=8)
    status = demo.wait_until_finished(240_000)
    assert status.startswith("Done: first token"), f"{status} / {demo.page.inner_text('#error')}"
    assert demo.answer().strip()
    assert demo.page.get_attribute("body", "data-in-tab-backend") == "wasm"  # this browser has no WebGPU adapter
    note = demo.page.inner_text("#engine-note")
    assert re.search(r"\d+ thread", note) and "cross-origin isolated: true" in note and "WebAssembly" in note
    assert demo.page.is_visible("#privacy-note")
    assert demo.chart_points() == [f"{SLM_NAME} · this tab (wasm)"]
    assert demo.outside_requests == []
