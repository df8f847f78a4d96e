"""The places an attack comes from, and the app it attacks, for the security tests.

`OriginSite` is a real web server on another local origin (another port of 127.0.0.1, which is
the same *site* so the app's cookies travel with its requests, or 127.0.0.2, another site),
serving a blank page that the browser then runs the attacker's script in. `start_guarded_app`
runs the real `chainlit run app.py` on a small knowledge folder holding one secret, answered by
the scripted OpenAI-compatible model server.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from e2e_server import ROOT, start_chainlit
from ragstage.accounts import set_user

sys.path.insert(0, str(ROOT / "benchmarks"))
from scripted_openai_server import ScriptedServerProcess  # noqa: E402

SECRET = "ZEBRA-4471"
SECRET_QUESTION = "What is the vault code of the lighthouse?"
PASSWORDS = {"alice": "alice's long passphrase", "bob": "bob's long passphrase"}
KNOWLEDGE = {
    "vault.md": f"# Lighthouse vault\n\nThe vault code of the lighthouse is {SECRET}. Keep it private.\n",
    "garden.md": "# Garden\n\nThe garden has tomatoes, beans and a pear tree.\n",
    "trains.md": "# Trains\n\nTrains to the harbour leave at noon and at six.\n",
}


class _BlankPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        body = b"<!doctype html><title>another site</title><p>nothing to see</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        return None


class OriginSite:
    """A blank page served from `http://{address}:{port}`, in a thread of this process."""

    def __init__(self, address: str = "127.0.0.1"):
        self.server = ThreadingHTTPServer((address, 0), _BlankPage)
        self.origin = f"http://{address}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def write_knowledge(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in KNOWLEDGE.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def start_guarded_app(tmp: Path, model: ScriptedServerProcess, *, sign_in: bool, **env: str):
    """(url, process, log) of a real app on the scripted model; with sign-in: alice and bob."""
    settings = {
        "RAGSTAGE_BACKEND": "remote", "RAGSTAGE_SLM_BASE_URL": model.base_url, "RAGSTAGE_LLM_BASE_URL": model.base_url,
        "RAGSTAGE_SLM_MODEL": "scripted-slm", "RAGSTAGE_LLM_MODEL": "scripted-llm",
        "RAGSTAGE_START_EMBEDDED_AT_LAUNCH": "false", "RAGSTAGE_KNOWLEDGE_DIR": str(write_knowledge(tmp / "knowledge")),
    }
    if sign_in:
        users = tmp / "users.txt"
        for name, password in PASSWORDS.items():
            set_user(users, name, password, rounds=4)
        settings |= {"RAGSTAGE_USERS_FILE": str(users), "CHAINLIT_AUTH_SECRET": "e2e-" + "k" * 48,
                     "RAGSTAGE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'db' / 'chats.db'}"}
    return start_chainlit(tmp, **(settings | env))


@contextmanager
def signed_in_client(url: str, user: str) -> Iterator[httpx.Client]:
    """An HTTP client holding `user`'s session cookie, signed in through Chainlit's /login."""
    with httpx.Client(base_url=url, timeout=60) as client:
        response = client.post("/login", data={"username": user, "password": PASSWORDS[user]})
        assert response.status_code == 200, response.text
        assert any(name.startswith("access_token") for name in client.cookies), "no session cookie"
        yield client


def sign_in_in_browser(page, user: str) -> None:
    page.goto("/login")
    page.fill("#email", user)
    page.fill("#password", PASSWORDS[user])
    page.click("button[type=submit]")
    page.wait_for_selector("#chat-input", timeout=60_000)


def refused_lines(log: Path) -> list[str]:
    return [line for line in log.read_text(errors="replace").splitlines() if "ragstage.web.guard.access - refused" in line]
