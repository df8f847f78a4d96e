"""End-to-end fixtures: a real `chainlit run app.py` with the embedded models, a real chromium.

One server per test session (starting the models costs seconds; every test opens its own chat,
so they do not share state), stopped with all its model servers at the end. Screenshots go
to tests/e2e/screenshots/ (git-ignored) for people to review.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SERVER_START_TIMEOUT_S = 120
ANSWER_TIMEOUT_MS = 180_000  # an answer from the embedded model on 2 busy cores


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_health(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chainlit exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"chainlit did not answer /health in {SERVER_START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen) -> None:
    """SIGINT lets Chainlit run its shutdown hook (which stops the model servers); then make sure."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    try:  # anything left in the group (an embedded server that ignored the hook)
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def start_chainlit(tmp: Path, **env_overrides: str) -> tuple[str, subprocess.Popen, Path]:
    port = free_port()
    defaults = {  # the embedded models, a fresh index cache, short answers (the suite must stay lean)
        "RAGSTAGE_BACKEND": "embedded",
        "RAGSTAGE_CACHE_DIR": str(tmp / "cache"),
        "RAGSTAGE_MAX_ANSWER_TOKENS": "40",
        "RAGSTAGE_EMBEDDED_THREADS": "1",
    }
    env = {**defaults, **os.environ, **env_overrides}  # RAGSTAGE_* set by the caller win
    log = tmp / "chainlit.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "chainlit", "run", "app.py", "--headless", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(url, process, log)
    except BaseException:
        _stop(process)
        raise
    return url, process, log


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


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
