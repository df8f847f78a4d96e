"""The page's SSE endpoint: what it accepts, what it streams, and how it fails."""

from __future__ import annotations

import asyncio
import http.server
import socket
import threading

import httpx
import pytest
from web_fakes import NAMES, Script, ScriptedRuntime, kb_index, make_settings, page_app, sse_events

from ragstage.knowledge import ChunkIndex
from ragstage.models import ModelCatalog
from ragstage.runtime import Runtime
from ragstage.web.request import MAX_BODY_BYTES, MAX_CONTEXT_CHARS, MAX_QUESTION_CHARS
from ragstage.web.stream import reference_index, sse_stream

STREAM = "/api/webgpu-demo/stream"
CONTEXT = "Project notes.\n\nThe secret code word for the launch is BLUEFALCON."


async def post_stream(client: httpx.AsyncClient, **body) -> httpx.Response:
    payload = {"question": "What is the code word?", "mode": "slm", "context": CONTEXT} | body
    return await client.post(STREAM, json=payload)


async def test_stream_sends_tokens_stages_and_a_done_with_timings_and_citations(client):
    response = await post_stream(client)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    names = [name for name, _ in events]
    assert names[0] == "stage" and events[0][1]["stage"] == "retrieval"
    assert "".join(data["text"] for name, data in events if name == "token") == "The code word is BLUEFALCON [1]."
    started = next(data for name, data in events if name == "stage" and data.get("status") == "started")
    assert started["model"] == NAMES["slm"]
    assert names[-1] == "done"
    done = events[-1][1]
    assert done["text"] == "The code word is BLUEFALCON [1]."
    assert done["timings"]["ttft_ms"] == 5.0 and done["timings"]["total_ms"] > 0
    assert [(c["n"], c["origin"]) for c in done["citations"]] == [(1, "model")]
    assert "BLUEFALCON" in done["citations"][0]["text"]
    (sentence,) = done["attribution"]["sentences"]  # the page gets which passage backs each sentence
    assert sentence["supported"] and [c["n"] for c in sentence["citations"]] == [1]
    assert done["attribution"]["support_score"] == 1.0


async def test_pasted_context_becomes_the_sources_instead_of_the_knowledge_base(client, script):
    await post_stream(client)
    prompt = "\n".join(m["content"] for m in script.calls[-1][1])
    assert "BLUEFALCON" in prompt and "Pixel" not in prompt


async def test_knowledge_base_switch_grounds_in_the_apps_documents(client, script):
    response = await post_stream(client, question="What is the office cat called?", context="", use_knowledge_base=True)
    assert sse_events(response.text)[-1][0] == "done"
    prompt = "\n".join(m["content"] for m in script.calls[-1][1])
    assert "Pixel" in prompt and "BLUEFALCON" not in prompt


async def test_hybrid_mode_streams_a_draft_by_the_slm_and_a_refine_by_the_llm(client, script):
    response = await post_stream(client, mode="hybrid")
    events = sse_events(response.text)
    started = [(d["stage"], d["model"]) for n, d in events if n == "stage" and d.get("status") == "started"]
    assert started[0] == ("draft", NAMES["slm"])
    assert all(stage in {"draft", "refine"} for stage, _ in started)
    assert events[-1][0] == "done" and events[-1][1]["mode"] == "hybrid"
    (decided,) = [d for n, d in events if n == "stage" and d.get("stage") == "escalation"]
    assert decided["status"] == "decided" and decided == {"stage": "escalation", "status": "decided",
                                                          **events[-1][1]["escalation"]}


async def test_max_tokens_is_honoured_but_capped_by_the_apps_setting(client, script, settings):
    await post_stream(client, max_tokens=8)
    await post_stream(client, max_tokens=1024)
    assert [params.max_tokens for _, _, params in script.calls] == [8, settings.max_answer_tokens]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"question": ""}, "question"),
        ({"question": "   "}, "question"),
        ({"mode": "compare"}, "mode"),
        ({"mode": "gpt-5"}, "mode"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"base_url": "http://evil.example/v1"}, "base_url"),
        ({"model": "other-model"}, "model"),
    ],
)
async def test_invalid_requests_are_rejected_with_a_readable_reason(client, script, body, field):
    response = await post_stream(client, **body)
    assert response.status_code == 422
    assert field in response.json()["error"]
    assert script.calls == []


async def test_a_plain_question_without_text_or_knowledge_base_is_answered_without_sources(client, script):
    response = await post_stream(client, question="What is the capital of France?", context="")
    assert response.status_code == 200
    events = sse_events(response.text)
    done = events[-1][1]
    assert events[-1][0] == "done" and done["answered_by_model"] is True
    assert done["prompt_sources"] == [] and done["citations"] == []
    system, *_, asked = script.calls[-1][1]
    assert "No documents were given" in system["content"] and asked["content"] == "What is the capital of France?"


@pytest.mark.parametrize(
    ("body", "remedy"),
    [
        ({"question": ""}, "type a question"),
        ({"question": "x" * (MAX_QUESTION_CHARS + 1)}, "shorten it"),
        ({"mode": "gpt-5"}, "'slm', 'llm' or 'hybrid'"),
        ({"max_tokens": 0}, "at least 1"),
    ],
)
async def test_a_refusal_names_what_to_change(client, script, body, remedy):
    response = await post_stream(client, **body)
    assert response.status_code == 422 and remedy in response.json()["error"]


async def test_unreadable_reference_text_is_rejected_naming_the_document(client, script):
    response = await post_stream(client, context="Fine text.\n---\nbinary\u0000junk")
    assert response.status_code == 422
    assert "reference document 2" in response.json()["error"]
    assert script.calls == []


async def test_reference_parts_become_separate_numbered_sources(client, script):
    context = "The ferry leaves at nine.\n\n---\n\nThe secret code word is BLUEFALCON."
    events = sse_events((await post_stream(client, context=context)).text)
    sources = events[0][1]["sources"]
    assert sources[0]["source"] == "page:reference-2"  # the part that answers ranks first
    assert events[-1][1]["citations"][0]["source"] == "page:reference-2"


async def test_malformed_json_is_rejected(client):
    response = await client.post(STREAM, content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "json" in response.json()["error"].lower()


async def test_question_and_context_sizes_are_limited(client, script):
    too_long_question = await post_stream(client, question="why " * (MAX_QUESTION_CHARS // 4 + 1))
    assert too_long_question.status_code == 422 and "question" in too_long_question.json()["error"]
    too_long_context = await post_stream(client, context="x" * (MAX_CONTEXT_CHARS + 1))
    assert too_long_context.status_code == 422 and "context" in too_long_context.json()["error"]
    at_limit = await post_stream(client, context="word " * (MAX_CONTEXT_CHARS // 5))
    assert at_limit.status_code == 200
    huge = await client.post(STREAM, content=b"x" * (MAX_BODY_BYTES + 1))
    assert huge.status_code == 413
    assert len(script.calls) == 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _dead_server_runtime(tmp_path) -> Runtime:
    """The real catalog and client, configured for a model server that is not running."""
    dead = f"http://127.0.0.1:{_closed_port()}/v1"
    settings = make_settings(tmp_path, backend="remote", slm_base_url=dead, llm_base_url=dead,
                             discovery_timeout_s=0.5, first_token_timeout_s=2.0)
    return Runtime(settings, type("KB", (), {"index": kb_index()})(), ModelCatalog(settings))


async def test_model_server_down_gives_a_readable_error_event(tmp_path):
    runtime = _dead_server_runtime(tmp_path)
    app = page_app(runtime)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            response = await post_stream(client)
    finally:
        await runtime.aclose()
    assert response.status_code == 200
    events = sse_events(response.text)
    errors = [data["message"] for name, data in events if name == "error"]
    assert errors and runtime.settings.slm_base_url.split("//")[1].split("/")[0] in " ".join(errors)
    assert events[-1][0] == "done" and events[-1][1]["error"]
    assert not any(name == "token" for name, _ in events)


class _Trap(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        _Trap.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    do_POST = do_GET  # noqa: N815

    def log_message(self, *args) -> None:
        return None


async def test_urls_in_the_request_are_never_followed(tmp_path):
    trap = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Trap)
    threading.Thread(target=trap.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{trap.server_address[1]}/v1"
    runtime = _dead_server_runtime(tmp_path)
    app = page_app(runtime)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            steered = await post_stream(client, base_url=url)
            in_text = await post_stream(client, question=f"Summarize {url}/models", context=f"See {url} for the code word.")
    finally:
        trap.shutdown()
        await runtime.aclose()
    assert steered.status_code == 422
    assert in_text.status_code == 200
    assert _Trap.hits == []
    assert any(name == "error" for name, _ in sse_events(in_text.text))


async def test_client_disconnect_cancels_generation(settings):
    cancelled = asyncio.Event()
    first_token = asyncio.Event()

    class Endless(Script):
        async def stream(self, endpoint, messages, params, **_):
            try:
                yield "first "
                first_token.set()
                await asyncio.sleep(3600)
                yield "never"
            finally:
                cancelled.set()

    runtime = ScriptedRuntime(settings, ChunkIndex(), Endless())
    index = reference_index(CONTEXT, settings)
    events = runtime.answer_stream("What is the code word?", runtime.options(score_floor=-1e9), index=index)

    async def gone() -> bool:
        return first_token.is_set()

    frames = [frame async for frame in sse_stream(events, gone)]
    await asyncio.wait_for(cancelled.wait(), timeout=5)
    assert any("first " in frame for frame in frames)
    assert not any("event: done" in frame for frame in frames)
