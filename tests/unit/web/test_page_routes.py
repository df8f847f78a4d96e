"""The page, its config and the in-tab engine's files, as the browser fetches them."""

from __future__ import annotations

import httpx
from web_fakes import NAMES, Script, ScriptedRuntime, kb_index, page_app

from ragstage.web import assets
from ragstage.web.assets import locate_in_tab_engine
from ragstage.web.events import render


async def test_page_is_served_cross_origin_isolated_with_a_same_origin_csp(client):
    response = await client.get("/public/webgpu_demo.html")
    assert response.status_code == 200
    assert response.headers["cross-origin-opener-policy"] == "same-origin"
    assert response.headers["cross-origin-embedder-policy"] == "require-corp"
    csp = response.headers["content-security-policy"]
    assert "'wasm-unsafe-eval'" in csp and "worker-src 'self' blob:" in csp and "connect-src 'self'" in csp
    assert 'id="latency-chart"' in response.text
    script = await client.get("/public/webgpu_demo.js")
    assert script.headers["content-type"].startswith("text/javascript")


async def test_routes_take_precedence_over_a_catch_all_but_leave_other_paths_alone(client):
    assert (await client.get("/api/webgpu-demo/config")).headers["content-type"] == "application/json"
    assert (await client.get("/public/logo_dark.png")).text == "catch-all:public/logo_dark.png"
    assert (await client.get("/anything/else")).text == "catch-all:anything/else"


async def test_config_names_the_served_models_and_the_in_tab_engine(client):
    config = (await client.get("/api/webgpu-demo/config")).json()
    assert {role: config["models"][role]["name"] for role in ("slm", "llm")} == NAMES
    assert config["knowledge_base"] == {"documents": 5, "chunks": 5}
    in_tab = config["in_tab"]
    assert in_tab["available"], in_tab["reason"]
    assert in_tab["model_url"].endswith(".gguf") and in_tab["model_name"] == "SmolLM2-135M-Instruct"


async def test_engine_files_are_served_with_the_right_types_and_nothing_else(client):
    config = (await client.get("/api/webgpu-demo/config")).json()["in_tab"]
    wasm = await client.get(config["wasm_url"], headers={"accept-encoding": "gzip"})
    assert wasm.headers["content-type"] == "application/wasm"
    assert wasm.content[:4] == b"\0asm"
    module = await client.get(config["module_url"])
    assert module.headers["content-type"].startswith("text/javascript")
    assert module.headers["cross-origin-resource-policy"] == "same-origin"
    assert (await client.get("/webgpu-demo/engine/package.json")).status_code == 404
    escaped = await client.get("/webgpu-demo/engine/..%2Fpackage.json")
    assert "@wllama/wllama" not in escaped.text


async def test_model_file_answers_head_with_its_size_and_only_at_its_versioned_url(client):
    config = (await client.get("/api/webgpu-demo/config")).json()["in_tab"]
    head = await client.head(config["model_url"])
    assert head.status_code == 200
    assert int(head.headers["content-length"]) == config["model_bytes"]
    first_bytes = await client.get(config["model_url"], headers={"range": "bytes=0-3"})
    assert first_bytes.status_code == 206 and first_bytes.content == b"GGUF"
    stale = config["model_url"].replace("/models/", "/models/0.0.0-1")
    assert (await client.head(stale)).status_code == 404


async def test_in_tab_engine_is_reported_unavailable_with_the_fix_when_npm_files_are_missing(
    tmp_path, monkeypatch, settings
):
    assert not locate_in_tab_engine([tmp_path]).available
    monkeypatch.setattr(assets, "project_roots", lambda: [tmp_path])
    app = page_app(ScriptedRuntime(settings, kb_index(), Script()))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        in_tab = (await client.get("/api/webgpu-demo/config")).json()["in_tab"]
        assert in_tab["available"] is False and "npm install" in in_tab["reason"]
        assert in_tab["webgpu"]["available"] is False and "npm ci" in in_tab["webgpu"]["reason"]
        assert (await client.get("/webgpu-demo/engine/index.js")).status_code == 404
        assert (await client.get("/public/webgpu_demo.html")).status_code == 200


async def test_prompt_for_the_in_tab_engine_is_the_pipelines_grounded_prompt(client):
    response = await client.post("/api/webgpu-demo/prompt", json={
        "question": "What is the code word?", "context": "The secret code word is BLUEFALCON."})
    prompt = response.json()
    assert prompt["covered"] and prompt["sources"][0]["n"] == 1
    assert "BLUEFALCON" in prompt["messages"][-1]["content"]
    assert prompt["messages"][0]["role"] == "system" and "[1]" in prompt["messages"][0]["content"]
    unrelated = await client.post("/api/webgpu-demo/prompt", json={
        "question": "zebra xylophone", "use_knowledge_base": True})
    assert unrelated.json()["covered"] is False


async def test_a_runtime_that_failed_to_start_gives_the_page_a_reason():
    from fastapi import FastAPI

    from ragstage.web import install_routes

    async def broken_runtime():
        raise RuntimeError("knowledge folder missing")

    app = FastAPI()
    install_routes(app, broken_runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        config = await client.get("/api/webgpu-demo/config")
        stream = await client.post("/api/webgpu-demo/stream", json={"question": "q", "context": "c"})
    for response in (config, stream):
        assert response.status_code == 503
        assert "knowledge folder missing" in response.json()["error"]


def test_rendering_an_unknown_event_names_the_known_ones():
    try:
        render(object())
    except TypeError as err:
        assert "Token" in str(err) and "Done" in str(err)
    else:
        raise AssertionError("expected TypeError")
