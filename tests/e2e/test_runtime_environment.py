"""The user's path, not the tester's: the app in an environment built exactly as
`scripts/run.sh` builds it (runtime lock only, no test extras), answering a question.

The test environment carries extra packages (Playwright brings greenlet, for one), so a
dependency the app imports but does not declare goes unnoticed there. This test builds a second
environment with `scripts/setup.py` (what run.sh calls), starts `chainlit run app.py` in it and
asks one question in a real browser through the embedded default.
"""

from __future__ import annotations

import re
import subprocess
import sys

import httpx
import pytest
from chat_driver import open_chat, send, watch_answer
from e2e_server import ROOT, screenshot, start_chainlit, stop_chainlit

pytestmark = pytest.mark.e2e

RUNTIME_VENV = ROOT / ".ragstage" / "runtime-venv"
SETUP_TIMEOUT_S = 1500  # a first build installs ~150 packages; llama.cpp comes from the wheelhouse


def runtime_python():
    bin_dir = RUNTIME_VENV / ("Scripts" if sys.platform == "win32" else "bin")
    return bin_dir / ("python.exe" if sys.platform == "win32" else "python")


@pytest.fixture(scope="module")
def runtime_app(tmp_path_factory):
    """Base URL of the app running in the runtime-only environment."""
    setup = subprocess.run(
        [sys.executable, "scripts/setup.py", "--venv", str(RUNTIME_VENV)],
        cwd=ROOT, capture_output=True, text=True, timeout=SETUP_TIMEOUT_S,
    )
    assert setup.returncode == 0, f"set-up of the runtime environment failed:\n{setup.stdout[-3000:]}\n{setup.stderr[-3000:]}"
    tests_only = subprocess.run([str(runtime_python()), "-c", "import playwright"], capture_output=True)
    assert tests_only.returncode != 0, "the runtime environment has test extras: it would hide missing dependencies"
    url, process, _log = start_chainlit(tmp_path_factory.mktemp("runtime-app"), python=runtime_python())
    yield url
    stop_chainlit(process)


def test_app_built_like_run_sh_serves_the_chat_page(runtime_app):
    assert httpx.get(f"{runtime_app}/health", timeout=10).status_code == 200
    page = httpx.get(f"{runtime_app}/", timeout=10)
    assert page.status_code == 200 and '<div id="root">' in page.text


def test_app_built_like_run_sh_streams_a_cited_answer(runtime_app, browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=runtime_app)
    page = context.new_page()
    try:
        open_chat(page)
        send(page, "What is time to first token?")
        seen = watch_answer(page)
        assert len(seen) >= 2, f"the answer did not stream: {seen}"
        chips = [n for n in page.locator(".element-link").all_inner_texts() if re.match(r"\[\d+\] ", n)]
        assert chips, "the answer shows no passage it was grounded on"
        screenshot(page, "runtime-environment-answer")
    finally:
        context.close()
