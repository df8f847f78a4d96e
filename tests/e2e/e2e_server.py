"""Starting and stopping a real `chainlit run app.py`, and saving screenshots.

A uniquely named module (not conftest) so test files can import it whatever other conftest
modules pytest has loaded.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

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


def start_chainlit(tmp: Path, python: Path | None = None, **env_overrides: str) -> tuple[str, subprocess.Popen, Path]:
    """`python`: the environment to run the app in (default: the tests' own)."""
    port = free_port()
    defaults = {  # the fastest embedded models, a fresh index cache, short answers (the suite must stay lean)
        "RAGSTAGE_BACKEND": "embedded",
        "RAGSTAGE_SLM_BUNDLED_MODEL": "smollm2-135m-instruct",
        "RAGSTAGE_LLM_BUNDLED_MODEL": "qwen2.5-coder-0.5b-instruct",
        "RAGSTAGE_CACHE_DIR": str(tmp / "cache"),
        "RAGSTAGE_MAX_ANSWER_TOKENS": "40",
        "RAGSTAGE_EMBEDDED_THREADS": "1",
    }
    env = {**defaults, **os.environ, **env_overrides}  # RAGSTAGE_* set by the caller win
    log = tmp / "chainlit.log"
    process = subprocess.Popen(
        [str(python or sys.executable), "-m", "chainlit", "run", "app.py", "--headless", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(url, process, log)
    except BaseException:
        _stop(process)
        raise
    return url, process, log


stop_chainlit = _stop


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
