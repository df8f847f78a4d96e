"""The page's in-tab backend choice in real Chromium, and the page's first use.

Headless Debian Chromium offers no WebGPU adapter unless started with `--enable-unsafe-webgpu`,
and then only a software one (SwiftShader, a fallback adapter): the page must keep WebAssembly
in both cases and say why. `?in_tab=webgpu` forces the WebGPU path on that software adapter,
which is how the test proves ONNX Runtime Web really generates on WebGPU (slowly: SwiftShader
runs the GPU's work on the CPU, so only a few tokens are asked for).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e_server import CHROMIUM, CHROMIUM_ARGS
from test_webgpu_page import DemoPage

pytestmark = pytest.mark.e2e
WEBGPU_TIMEOUT_MS = 600_000  # SwiftShader on a busy 2-core machine: minutes for a few tokens


@pytest.fixture(scope="module")
def webgpu_browser(browser):
    """A second Chromium with (software) WebGPU switched on, from the session's Playwright."""
    chromium = browser.browser_type.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--enable-unsafe-webgpu"])
    yield chromium
    chromium.close()



@pytest.fixture
def plain_page(browser, chainlit_server) -> Iterator[DemoPage]:
    page = DemoPage(browser, chainlit_server)
    yield page
    page.page.close()


def backend_of(demo: DemoPage) -> tuple[str | None, str]:
    return demo.page.get_attribute("body", "data-in-tab-backend"), demo.page.inner_text("#engine-note")


def test_without_webgpu_the_tab_uses_webassembly_and_says_why(plain_page):
    backend, note = backend_of(plain_page)
    assert backend == "wasm"
    assert "WebAssembly (llama.cpp, wllama)" in note and "no adapter" in note


def test_a_software_webgpu_adapter_is_not_used_unless_forced(webgpu_browser, chainlit_server):
    demo = DemoPage(webgpu_browser, chainlit_server)
    try:
        backend, note = backend_of(demo)
        assert backend == "wasm" and "software fallback" in note
    finally:
        demo.page.close()


def test_forced_webgpu_generates_tokens_with_onnx_runtime_web_and_caches_the_model(webgpu_browser, chainlit_server):
    demo = DemoPage(webgpu_browser, chainlit_server, "?in_tab=webgpu")
    try:
        backend, note = backend_of(demo)
        assert backend == "webgpu" and "WebGPU (ONNX Runtime Web)" in note and "forced" in note
        demo.ask("Say hello.", engine="browser", max_tokens=3)
        status = demo.wait_until_finished(WEBGPU_TIMEOUT_MS)
        assert status.startswith("Done: first token"), f"{status} / {demo.page.inner_text('#error')}"
        assert demo.answer().strip(), "tokens were generated on the WebGPU backend"
        assert demo.page.get_attribute("body", "data-in-tab-backend") == "webgpu"
        assert "downloaded and cached in this browser" in demo.page.inner_text("#engine-note")
        cached = demo.page.evaluate("""async () => (await (await caches.open('ragstage-in-tab-models')).keys())
                                       .map((request) => request.url.split('/').pop())""")
        assert sorted(cached) == ["genai_config.json", "model.onnx", "model.onnx.data", "tokenizer.json"]
        assert demo.page.is_visible("#no-sources")
        assert demo.errors == [] and demo.outside_requests == []
    finally:
        demo.page.close()


def test_a_plain_question_on_first_use_is_answered_and_says_it_has_no_sources(plain_page):
    plain_page.ask("What is the capital of France?", mode="slm", max_tokens=12)
    status = plain_page.wait_until_finished()
    assert status.startswith("Done: first token"), f"{status} / {plain_page.page.inner_text('#error')}"
    assert plain_page.answer().strip()
    assert "No sources" in plain_page.page.inner_text("#no-sources")
    assert plain_page.page.inner_text("#error") == ""
