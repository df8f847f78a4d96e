"""Attacks from other web origins and rebound host names, in real Chromium, on a real app.

The app is `chainlit run app.py` with sign-in off and on (the victim signed in, in the same
browser). The attacker's page is served by a real server on another port of 127.0.0.1 (same
site: the victim's cookies travel with its requests) and on 127.0.0.2 (another site). Its script
tries to read from or act on every route of ours and Chainlit's REST routes, with and without
credentials, including "simple" requests that skip the CORS preflight. Every attempt must fail
in the browser AND be refused by the server (its log names each refusal), no document text may
reach the page, and the model must never be called. Controls: the app's own page and a listed
origin can read the same answer, so the harness would see a leak.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import httpx
import pytest

from e2e_server import CHROMIUM, CHROMIUM_ARGS, _stop
from ragstage.web.assets import locate_in_tab_engine
from security_sites import (
    SECRET,
    SECRET_QUESTION,
    OriginSite,
    ScriptedServerProcess,
    refused_lines,
    sign_in_in_browser,
    start_guarded_app,
)

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.e2e
QUESTION = json.dumps({"question": SECRET_QUESTION, "use_knowledge_base": True})
CORS_ONLY, BOTH_MODES = ("cors",), ("cors", "no-cors")


def attempt(method: str, path: str, body: str | None = None, content_type: str | None = None, modes=CORS_ONLY) -> dict:
    return {"method": method, "path": path, "body": body, "type": content_type, "modes": list(modes)}


def attempts() -> list[dict]:
    model_url = locate_in_tab_engine().public_description()["model_url"] or "/webgpu-demo/models/x/y.gguf"
    threads = json.dumps({"pagination": {"first": 20}, "filter": {}})
    ours = [
        attempt("GET", "/api/webgpu-demo/config", modes=BOTH_MODES),
        attempt("POST", "/api/webgpu-demo/prompt", QUESTION, "application/json"),
        attempt("POST", "/api/webgpu-demo/prompt", QUESTION, "text/plain", BOTH_MODES),
        attempt("POST", "/api/webgpu-demo/stream", QUESTION, "application/json"),
        attempt("POST", "/api/webgpu-demo/stream", QUESTION, "text/plain", BOTH_MODES),
        attempt("GET", "/public/webgpu_demo.html", modes=BOTH_MODES),
        attempt("GET", "/webgpu-demo/engine/index.js"),
        attempt("GET", model_url),
        attempt("GET", "/ragstage/chat-files/alice/element/notes.txt"),
    ]
    chainlit = [
        attempt("GET", "/user"),
        attempt("GET", "/auth/config"),
        attempt("GET", "/project/settings?language=en-US"),
        attempt("GET", "/project/translations?language=en-US"),
        attempt("POST", "/project/threads", threads, "application/json"),
        attempt("POST", "/project/threads", threads, "text/plain", BOTH_MODES),
        attempt("GET", "/project/thread/00000000-0000-0000-0000-000000000000"),
        attempt("PUT", "/feedback", json.dumps({"feedback": {"forId": "x", "value": 1}}), "application/json"),
        attempt("DELETE", "/project/thread", json.dumps({"threadId": "x"}), "application/json"),
        attempt("POST", "/login", "username=alice&password=guess", "application/x-www-form-urlencoded", BOTH_MODES),
        attempt("POST", "/logout", modes=BOTH_MODES),
        attempt("POST", "/project/file", "data", "text/plain", BOTH_MODES),
        attempt("GET", "/ws/socket.io/?EIO=4&transport=polling", modes=BOTH_MODES),
    ]
    return ours + chainlit


ATTACK = """async ({target, attempts}) => {
  const results = [];
  for (const a of attempts) for (const mode of a.modes) for (const credentials of ['omit', 'include']) {
    const init = {method: a.method, mode, credentials};
    if (a.type) init.headers = {'Content-Type': a.type};
    if (a.body !== null) init.body = a.body;
    const result = {method: a.method, path: a.path, mode, credentials, outcome: 'blocked', text: ''};
    try {
      const response = await fetch(target + a.path, init);
      result.outcome = response.type === 'opaque' ? 'opaque' : `read ${response.status}`;
      result.text = await response.text();
    } catch (err) { result.error = String(err); }
    results.push(result);
  }
  return results;
}"""

WEBSOCKET = """(url) => new Promise((resolve) => {
  const socket = new WebSocket(url);
  socket.onopen = () => { resolve('opened'); socket.close(); };
  socket.onerror = () => resolve('refused');
  setTimeout(() => resolve('timeout'), 10000);
})"""

FRAME = """(url) => new Promise((resolve) => {
  const frame = Object.assign(document.createElement('iframe'), {src: url});
  frame.onload = () => resolve('loaded');
  document.body.append(frame);
  setTimeout(() => resolve('timeout'), 5000);
})"""

READ = """async ({url, body, credentials}) => {
  const response = await fetch(url, {method: 'POST', credentials, headers: {'Content-Type': 'application/json'}, body});
  return {status: response.status, text: await response.text()};
}"""


@pytest.fixture(scope="module")
def sites():
    made = SimpleNamespace(same_site=OriginSite("127.0.0.1"), other_site=OriginSite("127.0.0.2"),
                           listed=OriginSite("127.0.0.1"))
    yield made
    for site in vars(made).values():
        site.close()


@pytest.fixture(scope="module")
def model():
    with ScriptedServerProcess("--model", "scripted-slm", "--model", "scripted-llm", "--tokens", "8") as server:
        yield server


@pytest.fixture(scope="module", params=["sign-in off", "sign-in on"])
def app(request, tmp_path_factory, model, sites):
    sign_in = request.param == "sign-in on"
    tmp = tmp_path_factory.mktemp("origins-signin" if sign_in else "origins-open")
    url, process, log = start_guarded_app(tmp, model, sign_in=sign_in, RAGSTAGE_ALLOWED_ORIGINS=sites.listed.origin,
                                          RAGSTAGE_ALLOWED_HOSTS="team.example")
    yield SimpleNamespace(url=url, log=log, sign_in=sign_in, port=url.rsplit(":", 1)[1])
    _stop(process)


@pytest.fixture
def victim(browser, app):
    """The person's browser: signed in to the app when sign-in is on."""
    context = browser.new_context(base_url=app.url)
    tab = context.new_page()
    if app.sign_in:
        sign_in_in_browser(tab, "alice")
    yield tab
    context.close()


def test_pages_on_other_origins_can_neither_read_nor_trigger_anything(victim, app, sites, model):
    calls_before = model.control()["requests"]
    refused_before = len(refused_lines(app.log))
    tried = attempts()
    for site in (sites.same_site, sites.other_site):
        victim.goto(site.origin + "/")
        results = victim.evaluate(ATTACK, {"target": app.url, "attempts": tried})
        assert len(results) == sum(2 * len(a["modes"]) for a in tried)
        leaked = [r for r in results if r["outcome"] not in ("blocked", "opaque") or r["text"]]
        assert leaked == [], f"{site.origin} read from the app: {leaked}"
        assert SECRET not in json.dumps(results)
        socket_url = app.url.replace("http://", "ws://") + "/ws/socket.io/?EIO=4&transport=websocket"
        assert victim.evaluate(WEBSOCKET, socket_url) == "refused"
        victim.evaluate(FRAME, app.url + "/")  # framing: refused by the server (and by frame-ancestors)

    assert model.control()["requests"] == calls_before, "a cross-site request reached the model"
    refusals = refused_lines(app.log)[refused_before:]
    for path in {a["path"].split("?")[0] for a in tried}:  # refused by the server, not only hidden by the browser
        assert any(f" {path}: " in line for line in refusals), f"no refusal logged for {path}"
    assert any("refused WEBSOCKET /ws/socket.io/" in line for line in refusals)
    assert any("refused GET /: " in line for line in refusals)


def test_chainlit_pages_and_ours_carry_security_headers_and_run_under_their_csp(victim, app):
    violations: list[str] = []
    victim.on("console", lambda m: m.text.startswith("CSP violation") and violations.append(m.text))
    victim.add_init_script("document.addEventListener('securitypolicyviolation', "
                           "(e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`))")
    chat = victim.goto("/")
    for response in (chat, victim.request.get(app.url + "/project/settings?language=en-US")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
    csp = chat.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    victim.wait_for_selector("text=ragstage is ready", timeout=60_000)
    victim.fill("#chat-input", SECRET_QUESTION)
    victim.click("#chat-submit")
    victim.get_by_text("LatencyChart").last.click(timeout=60_000)  # a custom element: Chainlit evaluates its JSX
    playwright_api.expect(victim.locator("#side-view-content svg").first).to_be_visible(timeout=30_000)
    page = victim.goto("/public/webgpu_demo.html")
    assert "'wasm-unsafe-eval'" in page.headers["content-security-policy"]
    victim.wait_for_selector("body[data-ready=true]", timeout=60_000)
    assert victim.evaluate("crossOriginIsolated") is True
    assert violations == []


def test_the_apps_own_page_and_a_listed_origin_read_the_same_answer(victim, app, sites):
    victim.goto("/public/webgpu_demo.html")
    own = victim.evaluate(READ, {"url": "/api/webgpu-demo/prompt", "body": QUESTION, "credentials": "same-origin"})
    assert own["status"] == 200 and SECRET in own["text"]  # so the attack test would have seen a leak

    victim.goto(sites.listed.origin + "/")
    listed = victim.evaluate(READ, {"url": f"{app.url}/api/webgpu-demo/prompt", "body": QUESTION, "credentials": "include"})
    assert listed["status"] == 200 and SECRET in listed["text"]


def test_cors_answers_name_a_listed_origin_exactly_and_nobody_else(app, sites):
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    for path in ("/api/webgpu-demo/prompt", "/project/threads"):  # ours and Chainlit's: one policy
        listed = httpx.options(app.url + path, headers={"Origin": sites.listed.origin, **preflight})
        assert listed.status_code == 200
        assert listed.headers["access-control-allow-origin"] == sites.listed.origin
        assert listed.headers["access-control-allow-credentials"] == "true"
        for origin in ("http://evil.example", sites.same_site.origin, "null"):
            refused = httpx.options(app.url + path, headers={"Origin": origin, **preflight})
            assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:{port}", "127.0.0.1.nip.io:{port}", "192.168.1.20:{port}"])
def test_a_rebound_or_foreign_host_name_is_refused_before_any_route(app, host):
    for path in ("/", "/health", "/api/webgpu-demo/config", "/user"):
        response = httpx.get(app.url + path, headers={"Host": host.format(port=app.port)})
        assert response.status_code == 400, path
        assert SECRET not in response.text


@pytest.mark.parametrize("host", ["localhost:{port}", "127.0.0.1:{port}", "[::1]:{port}", "team.example:{port}"])
def test_loopback_names_and_configured_hosts_are_served(app, host):
    assert httpx.get(app.url + "/health", headers={"Host": host.format(port=app.port)}).status_code == 200


def test_a_browser_reaching_the_app_through_a_rebound_name_gets_nothing(browser, app):
    """DNS rebinding for real: a second Chromium resolves attacker.example to 127.0.0.1."""
    rules = "--host-resolver-rules=MAP attacker.example 127.0.0.1, MAP team.example 127.0.0.1"
    chromium = browser.browser_type.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, rules])
    try:
        tab = chromium.new_page()
        rebound = tab.goto(f"http://attacker.example:{app.port}/api/webgpu-demo/config")
        assert rebound.status == 400 and "models" not in tab.content()
        assert tab.goto(f"http://attacker.example:{app.port}/").status == 400
        assert tab.goto(f"http://team.example:{app.port}/").status == 200  # a configured name works
        playwright_api.expect(tab).to_have_title("ragstage", timeout=30_000)
    finally:
        chromium.close()
