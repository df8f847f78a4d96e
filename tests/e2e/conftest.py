"""End-to-end fixtures: a real `chainlit run app.py` with the embedded models, a real chromium.

One server per test session (starting the models costs seconds; every test opens its own chat,
so they do not share state), stopped with all its model servers at the end. Screenshots go
to tests/e2e/screenshots/ (git-ignored) for people to review. Helpers live in e2e_server.py;
they are re-exported here for test files that import them from conftest.
"""

from __future__ import annotations

import os
from urllib.parse import urlparse

import pytest
from e2e_server import (  # noqa: F401  (re-exported)
    ANSWER_TIMEOUT_MS,
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    SCREENSHOTS,
    _stop,
    free_port,
    screenshot,
    start_chainlit,
    stop_chainlit,
)

# `auto` picks an embedded engine from what this machine has converted for ONNX Runtime: pin
# llama.cpp (also for the servers these tests start as subprocesses) so results do not depend on
# the conversion cache. The ONNX Runtime tests set their engine explicitly.
for _role in ("SLM", "LLM"):
    os.environ.setdefault(f"RAGSTAGE_{_role}_ENGINE", "llama.cpp")


@pytest.fixture(scope="session")
def chainlit_server(tmp_path_factory):
    """Base URL of a real Chainlit server running app.py with the embedded models."""
    tmp = tmp_path_factory.mktemp("chainlit")
    url, process, log = start_chainlit(tmp)
    yield url
    _stop(process)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(request, browser, chainlit_server):
    """A fresh tab on the app; `page.outside_requests` lists every request not to 127.0.0.1.
    A failing test leaves a FAILED-<test>.png screenshot behind."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=chainlit_server)
    tab = context.new_page()
    tab.outside_requests = []
    tab.on("request", lambda r: _note_outside(tab, r.url))
    yield tab
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        screenshot(tab, f"FAILED-{request.node.name}")
    context.close()


def _note_outside(tab, url: str) -> None:
    parsed = urlparse(url)
    if parsed.scheme in ("http", "https", "ws", "wss") and parsed.hostname not in ("127.0.0.1", "localhost"):
        tab.outside_requests.append(url)
