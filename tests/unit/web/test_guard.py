"""The HTTP guards in front of the browser page's real routes (and a stand-in for the host app's).

The app is the page's routes with a scripted model (web_fakes.page_app); the guards are the
ones app.py installs, with a fake `authenticate` standing in for Chainlit's token check.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import httpx
import pytest
from fastapi.responses import HTMLResponse
from starlette.middleware.cors import CORSMiddleware
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.websockets import WebSocket, WebSocketDisconnect
from web_fakes import Script, ScriptedRuntime, kb_index, make_settings, page_app

from ragstage.web.guard import GenerationLimiter, inline_script_hashes, install_guard, page_policy
from ragstage.web.guard.access import canonical_path

BASE = "http://127.0.0.1:8000"
SAME_ORIGIN = {"Origin": BASE}
KB_QUESTION = {"question": "What is the office cat called?", "use_knowledge_base": True}
GOOD_TOKEN = "good-token"


async def fake_authenticate(connection) -> str | None:
    return connection.headers.get("x-user") if connection.headers.get("authorization") == f"Bearer {GOOD_TOKEN}" else None


def signed_in(user: str = "alice") -> dict[str, str]:
    return {"Authorization": f"Bearer {GOOD_TOKEN}", "X-User": user}


class GatedScript(Script):
    """A model that holds every answer until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def stream(self, endpoint, messages, params, **kwargs):
        await self.gate.wait()
        async for piece in super().stream(endpoint, messages, params, **kwargs):
            yield piece


def guarded_app(tmp_path, script: Script | None = None, *, sign_in: bool = False, existing_cors: bool = False, **settings):
    app = page_app(ScriptedRuntime(make_settings(tmp_path), kb_index(), script or Script()))

    @app.websocket("/ws/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    @app.get("/html-page")
    async def html_page() -> HTMLResponse:
        return HTMLResponse("<html><script>boot()</script></html>")

    app.router.routes[0:0] = [app.router.routes.pop(), app.router.routes.pop()]  # ahead of the catch-all

    if existing_cors:  # what Chainlit does with allow_origins = ["*"]
        app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True, allow_methods=["*"])
    policy = page_policy(make_settings(tmp_path, **settings), "127.0.0.1", sign_in=sign_in)
    limiter = install_guard(app, policy, fake_authenticate if sign_in else None)
    return app, limiter


@pytest.fixture
async def make_client(tmp_path):
    clients = []

    async def make(*args, **kwargs) -> tuple[httpx.AsyncClient, GenerationLimiter]:
        app, limiter = guarded_app(tmp_path, *args, **kwargs)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
        clients.append(client)
        return client, limiter

    yield make
    for client in clients:
        await client.aclose()


# ---- hosts ---------------------------------------------------------------------------------

@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:8000", "[::1]:8000", "localhost", "LOCALHOST:8000"])
async def test_loopback_hosts_are_served(make_client, host):
    client, _ = await make_client()
    assert (await client.get("/api/webgpu-demo/config", headers={"Host": host})).status_code == 200


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:8000", "127.0.0.1.attacker.example", "10.0.0.5:8000", ""])
async def test_other_hosts_are_refused_before_any_handler_runs(make_client, host):
    script = Script()
    client, _ = await make_client(script)
    response = await client.post("/api/webgpu-demo/stream", json=KB_QUESTION, headers={"Host": host})
    assert response.status_code == 400
    assert script.calls == []


async def test_configured_hosts_and_subdomain_patterns_are_served(make_client):
    client, _ = await make_client(allowed_hosts=("team.example", "*.corp.example"))
    for host in ("team.example", "chat.corp.example:8443"):
        assert (await client.get("/api/webgpu-demo/config", headers={"Host": host})).status_code == 200
    assert (await client.get("/api/webgpu-demo/config", headers={"Host": "corp.example.evil"})).status_code == 400


# ---- origins -------------------------------------------------------------------------------

@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1:9000", "https://127.0.0.1:8000", "null"])
async def test_requests_from_another_origin_are_refused_with_a_reason(make_client, origin):
    script = Script()
    client, _ = await make_client(script)
    for method, content_type in (("POST", "application/json"), ("POST", "text/plain"), ("GET", None)):
        path = "/api/webgpu-demo/stream" if method == "POST" else "/api/webgpu-demo/config"
        headers = {"Origin": origin, **({"Content-Type": content_type} if content_type else {})}
        response = await client.request(method, path, content=json.dumps(KB_QUESTION), headers=headers)
        assert response.status_code == 403, (method, content_type)
        assert "refused" in response.json()["error"]
        assert "access-control-allow-origin" not in response.headers
    assert script.calls == []


async def test_a_foreign_preflight_is_refused_even_where_the_app_allowed_every_origin(make_client):
    client, _ = await make_client(existing_cors=True)
    preflight = {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"}
    response = await client.options("/api/webgpu-demo/prompt", headers=preflight)
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers


async def test_same_origin_requests_pass(make_client):
    client, _ = await make_client()
    response = await client.post("/api/webgpu-demo/prompt", json=KB_QUESTION, headers=SAME_ORIGIN)
    assert response.status_code == 200 and "Pixel" in response.text


async def test_a_listed_origin_gets_its_own_name_back_with_credentials_never_a_wildcard(make_client):
    client, _ = await make_client(existing_cors=True, allowed_origins=("https://team.example/",))
    preflight = {"Origin": "https://team.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"}
    response = await client.options("/api/webgpu-demo/prompt", headers=preflight)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://team.example"
    assert response.headers["access-control-allow-credentials"] == "true"
    response = await client.post("/api/webgpu-demo/prompt", json=KB_QUESTION, headers={"Origin": "https://team.example"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://team.example"


@pytest.mark.parametrize(("headers", "allowed"), [
    ({"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "script"}, False),
    ({"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"}, False),
    ({"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe"}, False),
    ({"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}, True),
    ({"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}, True),
    ({"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate"}, True),
    ({}, True),  # not a browser: cannot carry anyone's cookies
])
async def test_fetch_metadata_lets_links_in_but_not_embeds_or_fetches_from_other_sites(make_client, headers, allowed):
    client, _ = await make_client()
    response = await client.get("/api/webgpu-demo/config", headers=headers)
    assert (response.status_code == 200) is allowed, response.text


async def test_a_state_changing_request_with_a_foreign_referer_and_no_origin_is_refused(make_client):
    client, _ = await make_client()
    response = await client.post("/api/webgpu-demo/prompt", json=KB_QUESTION, headers={"Referer": "http://evil.example/page"})
    assert response.status_code == 403
    response = await client.post("/api/webgpu-demo/prompt", json=KB_QUESTION, headers={"Referer": f"{BASE}/public/webgpu_demo.html"})
    assert response.status_code == 200


def test_websocket_handshakes_from_another_origin_or_host_are_refused(tmp_path):
    app, _ = guarded_app(tmp_path)
    with TestClient(app, base_url=BASE) as client:
        own = {"Host": "127.0.0.1:8000", "Origin": BASE}
        with client.websocket_connect("/ws/echo", headers=own) as socket:
            assert socket.receive_text() == "hello"
        for changed in ({"Origin": "http://evil.example"}, {"Origin": "http://127.0.0.1:9000"}, {"Host": "attacker.example"}):
            with pytest.raises((WebSocketDisconnect, WebSocketDenialResponse)):
                with client.websocket_connect("/ws/echo", headers=own | changed) as socket:
                    socket.receive_text()


# ---- sign-in -------------------------------------------------------------------------------

PROTECTED = ["/api/webgpu-demo/config", "/public/webgpu_demo.html", "/public/webgpu_demo.js",
             "/webgpu-demo/engine/index.js", "/webgpu-demo/models/v1/model.gguf",
             "/public/./webgpu_demo.html", "/public//webgpu_demo.css", "/x/../api/webgpu-demo/config"]


@pytest.mark.parametrize("path", PROTECTED)
async def test_with_sign_in_on_every_page_route_needs_a_session(make_client, path):
    client, _ = await make_client(sign_in=True)
    response = await client.get(path)
    assert response.status_code == 401
    assert response.json() == {"error": "sign in first: /login"}
    assert (await client.get(path, headers=signed_in())).status_code != 401


async def test_with_sign_in_on_the_question_endpoints_need_a_session(make_client):
    script = Script()
    client, _ = await make_client(script, sign_in=True)
    for path in ("/api/webgpu-demo/stream", "/api/webgpu-demo/prompt"):
        assert (await client.post(path, json=KB_QUESTION)).status_code == 401
        assert (await client.post(path, json=KB_QUESTION, headers={"Authorization": "Bearer forged"})).status_code == 401
    assert script.calls == []
    assert "Pixel" in (await client.post("/api/webgpu-demo/prompt", json=KB_QUESTION, headers=signed_in())).text


async def test_a_browser_tab_without_a_session_gets_a_page_linking_to_sign_in(make_client):
    client, _ = await make_client(sign_in=True)
    response = await client.get("/public/webgpu_demo.html", headers={"Accept": "text/html,*/*"})
    assert response.status_code == 401
    assert "Sign in first" in response.text and 'href="/login"' in response.text
    assert "default-src 'none'" in response.headers["content-security-policy"]



async def test_the_sign_in_page_never_links_back_off_site(tmp_path):
    """HTTP clients normalise `..` away, so the raw path goes in through ASGI itself."""
    app, _ = guarded_app(tmp_path, sign_in=True)
    path = "//evil.example/../public/webgpu_demo.html"
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
             "headers": [(b"host", b"127.0.0.1:8000"), (b"accept", b"text/html")],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent[1:]).decode()
    assert sent[0]["status"] == 401 and "Sign in first" in body
    assert "evil.example" not in body and 'href="/public/webgpu_demo.html"' in body


async def test_with_sign_in_off_the_page_works_as_before(make_client):
    client, _ = await make_client()
    assert (await client.get("/public/webgpu_demo.html")).status_code == 200


def test_paths_are_compared_after_dot_segments_and_slashes_collapse():
    assert canonical_path("/public/./webgpu_demo.html") == "/public/webgpu_demo.html"
    assert canonical_path("//public//webgpu_demo.html") == "/public/webgpu_demo.html"
    assert canonical_path("/a/b/../../public/x") == "/public/x"


# ---- bodies --------------------------------------------------------------------------------

async def test_a_declared_oversized_body_is_refused_before_it_is_read(make_client):
    client, _ = await make_client()
    response = await client.post("/api/webgpu-demo/prompt", content=b"x" * 300_000,
                                 headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert "larger than" in response.json()["error"]


async def test_a_chunked_oversized_body_is_refused_once_it_passes_the_limit(make_client):
    client, _ = await make_client()

    async def chunks():
        for _ in range(100):
            yield b"x" * 10_000

    response = await client.post("/api/webgpu-demo/prompt", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


async def test_a_content_length_that_is_not_a_number_is_a_bad_request(make_client):
    client, _ = await make_client()
    response = await client.post("/api/webgpu-demo/prompt", content=b"{}",
                                 headers={"Content-Type": "application/json", "Content-Length": "lots"})
    assert response.status_code == 400


# ---- generation limit ----------------------------------------------------------------------

async def _wait_until(predicate, timeout_s: float = 5.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not predicate():
            await asyncio.sleep(0.01)


async def test_one_client_past_its_limit_gets_429_and_the_running_answers_finish(make_client):
    script = GatedScript()
    client, limiter = await make_client(script, max_generations_per_client=2, max_generations_total=4)
    running = [asyncio.create_task(client.post("/api/webgpu-demo/stream", json=KB_QUESTION)) for _ in range(2)]
    await _wait_until(lambda: limiter.running == 2)
    extra = await client.post("/api/webgpu-demo/stream", json=KB_QUESTION)
    assert extra.status_code == 429
    assert extra.headers["retry-after"].isdigit()
    assert "wait for one to finish" in extra.json()["error"]
    script.gate.set()
    for response in await asyncio.gather(*running):
        assert response.status_code == 200 and "event: done" in response.text
    assert limiter.running == 0
    assert (await client.post("/api/webgpu-demo/stream", json=KB_QUESTION)).status_code == 200


async def test_the_total_limit_holds_across_signed_in_users(make_client):
    script = GatedScript()
    client, limiter = await make_client(script, sign_in=True, max_generations_per_client=2, max_generations_total=3)
    users = ["alice", "alice", "bob"]
    running = [asyncio.create_task(client.post("/api/webgpu-demo/stream", json=KB_QUESTION, headers=signed_in(u)))
               for u in users]
    await _wait_until(lambda: limiter.running == 3)
    extra = await client.post("/api/webgpu-demo/stream", json=KB_QUESTION, headers=signed_in("carol"))
    assert extra.status_code == 429 and "3 answers" in extra.json()["error"]
    script.gate.set()
    assert [r.status_code for r in await asyncio.gather(*running)] == [200, 200, 200]


def test_a_released_slot_is_free_again_and_limits_must_be_positive():
    limiter = GenerationLimiter(per_client=1, total=2)
    assert limiter.acquire("a") is None
    assert limiter.acquire("a") is not None
    limiter.release("a")
    assert limiter.acquire("a") is None and limiter.running == 1
    with pytest.raises(ValueError):
        GenerationLimiter(per_client=0, total=1)


# ---- headers -------------------------------------------------------------------------------

async def test_every_response_carries_the_security_headers_even_refusals(make_client):
    client, _ = await make_client()
    for response in (await client.get("/api/webgpu-demo/config"), await client.get("/anything"),
                     await client.get("/api/webgpu-demo/config", headers={"Origin": "http://evil.example"})):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert response.headers["x-frame-options"] == "SAMEORIGIN"


async def test_html_gets_the_policy_csp_unless_the_route_set_its_own(make_client, tmp_path):
    client, _ = await make_client()
    csp = (await client.get("/html-page")).headers["content-security-policy"]
    assert "frame-ancestors 'self'" in csp and "object-src 'none'" in csp
    page_csp = (await client.get("/public/webgpu_demo.html")).headers["content-security-policy"]
    assert "'wasm-unsafe-eval'" in page_csp and "frame-ancestors 'self'" in page_csp


def test_inline_scripts_are_hashed_and_scripts_with_a_source_are_not():
    html = '<script>boot()</script><script type="module" src="/a.js"></script><SCRIPT>\nboot()</SCRIPT><script>boot()</script>'
    hashes = inline_script_hashes(html)
    assert len(hashes) == 2 and all(h.startswith("'sha256-") and h.endswith("='") for h in hashes)


def test_a_policy_that_protects_paths_needs_an_authenticate_function(tmp_path):
    app = page_app(ScriptedRuntime(make_settings(tmp_path), kb_index(), Script()))
    policy = replace(page_policy(make_settings(tmp_path), None, sign_in=True))
    with pytest.raises(ValueError, match="authenticate"):
        install_guard(app, policy)
