"""Sign-in on every route of ours, chat files kept to their owner, and the generation limit, on a
real `chainlit run app.py` with sign-in on (users alice and bob), a real browser, and the
scripted model server (slow enough that answers overlap)."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from e2e_server import _stop, screenshot
from ragstage.web.assets import locate_in_tab_engine
from security_sites import SECRET, SECRET_QUESTION, ScriptedServerProcess, sign_in_in_browser, signed_in_client, start_guarded_app

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.e2e
expect = playwright_api.expect
QUESTION = {"question": SECRET_QUESTION, "use_knowledge_base": True}
PER_CLIENT, TOTAL = 2, 3
FETCH_STATUS = """async ({method, path, body}) => {
  const init = {method, headers: {'Content-Type': 'application/json'}};
  if (method === 'POST') init.body = body;
  const response = await fetch(path, init);
  await response.arrayBuffer();
  return response.status;
}"""


@pytest.fixture(scope="module")
def model() -> Iterator[ScriptedServerProcess]:
    with ScriptedServerProcess("--model", "scripted-slm", "--model", "scripted-llm", "--tokens", "8") as server:
        yield server


@pytest.fixture(scope="module")
def app(tmp_path_factory, model):
    tmp = tmp_path_factory.mktemp("signin-guard")
    url, process, log = start_guarded_app(tmp, model, sign_in=True, RAGSTAGE_MAX_GENERATIONS_PER_CLIENT=str(PER_CLIENT),
                                          RAGSTAGE_MAX_GENERATIONS_TOTAL=str(TOTAL))
    yield SimpleNamespace(url=url, database=tmp / "db" / "chats.db")
    _stop(process)


@pytest.fixture
def tab(browser, app):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=app.url)
    yield context.new_page()
    context.close()


def our_routes() -> list[tuple[str, str]]:
    model_url = locate_in_tab_engine().public_description()["model_url"] or "/webgpu-demo/models/x/y.gguf"
    return [("GET", "/api/webgpu-demo/config"), ("POST", "/api/webgpu-demo/prompt"), ("POST", "/api/webgpu-demo/stream"),
            ("GET", "/public/webgpu_demo.html"), ("GET", "/public/webgpu_demo.js"), ("GET", "/public/webgpu_demo.css"),
            ("GET", "/public/webgpu_demo_engine.js"), ("GET", "/webgpu-demo/engine/index.js"),
            ("GET", "/webgpu-demo/engine/wllama.wasm"), ("HEAD", model_url), ("GET", "/ragstage/chat-files/alice/x/y.txt")]


def test_every_route_of_ours_answers_401_without_a_session_and_serves_a_signed_in_user(app, model):
    calls = model.control()["requests"]
    with httpx.Client(base_url=app.url, timeout=60) as anonymous, signed_in_client(app.url, "alice") as alice:
        for method, path in our_routes():
            body = json.dumps(QUESTION) if method == "POST" else None
            refused = anonymous.request(method, path, content=body)
            assert refused.status_code == 401, path
            if method != "HEAD":
                assert refused.json() == {"error": "sign in first: /login"}
            forged = anonymous.request(method, path, content=body, headers={"Authorization": "Bearer not.a.token"})
            assert forged.status_code == 401, path
            if not path.startswith("/ragstage/"):  # a file nobody owns stays "not found" for alice too
                served = alice.request(method, path, content=body)
                assert served.status_code == 200, (path, served.text[:200])
    assert model.control()["requests"] == calls + 1  # only alice's stream reached the model


def test_the_page_sends_a_signed_out_person_to_sign_in_and_works_once_signed_in(tab):
    tab.goto("/public/webgpu_demo.html")
    expect(tab.get_by_text("Sign in first")).to_be_visible()
    screenshot(tab, "security-sign-in-first")
    tab.click("#sign-in")
    expect(tab).to_have_url(re.compile(r"/login"))

    sign_in_in_browser(tab, "alice")
    for method, path in our_routes():  # every route, fetched by the signed-in browser itself
        if not path.startswith("/ragstage/"):
            status = tab.evaluate(FETCH_STATUS, {"method": method, "path": path, "body": json.dumps(QUESTION)})
            assert status == 200, (method, path, status)
    tab.goto("/public/webgpu_demo.html")
    tab.wait_for_selector("body[data-ready=true]", timeout=60_000)
    tab.check("#use-kb")
    tab.fill("#prompt", SECRET_QUESTION)
    tab.click("#generate")
    tab.wait_for_function("() => document.getElementById('stop').disabled", timeout=60_000)
    assert tab.inner_text("#status").startswith("Done")

    tab.context.clear_cookies()  # the session ends while the page is open
    tab.click("#generate")
    expect(tab.locator("#error")).to_contain_text("Sign in first", timeout=30_000)
    expect(tab.locator("#error a#sign-in")).to_have_attribute("href", "/login")
    screenshot(tab, "security-session-expired")


def test_a_signed_in_user_cannot_fetch_another_users_chat_files(tab, app):
    sign_in_in_browser(tab, "alice")
    expect(tab.get_by_text("ragstage is ready")).to_be_visible(timeout=60_000)  # the chat has started
    tab.fill("#chat-input", SECRET_QUESTION)
    tab.click("#chat-submit")
    expect(tab.get_by_text("[1] vault.md").first).to_be_visible(timeout=60_000)
    expect(tab).to_have_url(re.compile(r"/thread/[0-9a-f-]{36}"), timeout=30_000)
    thread_id = tab.url.rsplit("/", 1)[1]
    element_id, object_key = _stored_citation(app.database, thread_id)
    file_url = f"/ragstage/chat-files/{object_key}"
    alice_cookies = {c["name"]: c["value"] for c in tab.context.cookies()}

    with httpx.Client(base_url=app.url, cookies=alice_cookies) as alice, signed_in_client(app.url, "bob") as bob:
        owned = alice.get(file_url)
        assert owned.status_code == 200 and SECRET in owned.text
        assert httpx.get(app.url + file_url).status_code == 401
        assert bob.get(file_url).status_code == 404 and SECRET not in bob.get(file_url).text
        assert alice.get(f"/project/thread/{thread_id}").status_code == 200
        # (alice's own element route answers 500 today: Chainlit's get_element json-decodes a NULL
        # `props`; reported. The author check runs first, so bob is refused before that code.)
        for path in (f"/project/thread/{thread_id}", f"/project/thread/{thread_id}/element/{element_id}"):
            stolen = bob.get(path)  # Chainlit's own routes to the same thread
            assert stolen.status_code in (401, 403, 404) and SECRET not in stolen.text


def _stored_citation(database: Path, thread_id: str) -> tuple[str, str]:
    with sqlite3.connect(database) as db:
        rows = db.execute('SELECT "id", "objectKey" FROM elements WHERE "threadId" = ? AND name = ?',
                          (thread_id, "[1] vault.md")).fetchall()
    assert rows and rows[0][1], "the citation was not stored as a file"
    return rows[0]


class OpenStream:
    """An answer stream held open on its own thread until it ends; `status` as soon as known."""

    def __init__(self, client: httpx.Client):
        self.status: int | None = None
        self.body = ""
        self.headers: httpx.Headers | None = None
        self.known = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(client,), daemon=True)
        self.thread.start()
        assert self.known.wait(60), "no answer to the stream request"

    def _run(self, client: httpx.Client) -> None:
        with client.stream("POST", "/api/webgpu-demo/stream", json=QUESTION, timeout=120) as response:
            self.status, self.headers = response.status_code, response.headers
            self.known.set()
            self.body = "".join(response.iter_text())

    def finish(self) -> str:
        self.thread.join(120)
        return self.body


def test_streams_past_the_limits_get_429_and_the_others_finish(app, model):
    model.control(token_delay_ms=500)  # each answer takes a few seconds: they overlap
    try:
        with signed_in_client(app.url, "alice") as alice, signed_in_client(app.url, "bob") as bob:
            running = [OpenStream(alice) for _ in range(PER_CLIENT)]
            extra = OpenStream(alice)  # one more than alice may have
            assert extra.status == 429 and extra.headers["retry-after"].isdigit()
            assert "wait for one to finish" in json.loads(extra.finish())["error"]
            running.append(OpenStream(bob))  # bob may: the total is not reached yet
            over_total = OpenStream(bob)
            assert over_total.status == 429 and f"{TOTAL} answers" in json.loads(over_total.finish())["error"]
            assert [s.status for s in running] == [200] * TOTAL
            for stream in running:
                assert "event: done" in stream.finish()
            again = OpenStream(alice)  # the slots came back
            assert again.status == 200 and "event: done" in again.finish()
    finally:
        model.control(token_delay_ms=0)
