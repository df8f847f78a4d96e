"""The ONNX Runtime engine's HTTP side, with a scripted token source instead of the model:
request validation, OpenAI-shaped streams, stop sequences, usage, limits, one answer at a time,
and generation stopping when the client goes away."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator, Sequence

import httpx
import pytest
from openai import AsyncOpenAI

from ragstage.models.client import GenerationParams, stream_chat
from ragstage.models.endpoint import ModelEndpoint
from ragstage.models.onnx_engine import Sampling, thread_overlay
from ragstage.models.onnx_server import ChatService, StopScanner, build_app

ALIAS = "tiny-onnx"


class ScriptedSource:
    """Yields its pieces one per token; records what it was asked and whether it was stopped."""

    def __init__(self, pieces: Sequence[str], context_tokens: int = 64, delay_s: float = 0.0) -> None:
        self.script, self.context_tokens, self.delay_s = list(pieces), context_tokens, delay_s
        self.calls: list[Sampling] = []
        self.produced = 0
        self.cancelled_seen = False
        self.active = 0
        self.most_active = 0

    def prompt_ids(self, messages: Sequence[dict[str, str]]) -> list[int]:
        return list(range(sum(len(m["content"].split()) for m in messages)))

    def pieces(self, ids: list[int], sampling: Sampling, cancelled: threading.Event) -> Iterator[str]:
        self.calls.append(sampling)
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            for piece in self.script[: sampling.max_tokens]:
                time.sleep(self.delay_s)  # the model's time per token
                if cancelled.is_set():
                    self.cancelled_seen = True
                    return
                self.produced += 1
                yield piece
        finally:
            self.active -= 1


def client_for(source: ScriptedSource) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app(source, ALIAS)), base_url="http://onnx")


def body(**extra: object) -> dict[str, object]:
    return {"model": ALIAS, "messages": [{"role": "user", "content": "one two three"}]} | extra


def stream_chunks(text: str) -> list[dict]:
    frames = [line.removeprefix("data: ") for line in text.split("\n\n") if line.startswith("data: ")]
    assert frames[-1] == "[DONE]"
    return [json.loads(frame) for frame in frames[:-1]]


async def test_models_lists_the_served_alias() -> None:
    async with client_for(ScriptedSource([])) as client:
        reply = (await client.get("/v1/models")).json()
    assert [model["id"] for model in reply["data"]] == [ALIAS]


async def test_a_stream_is_openai_shaped_and_ends_with_finish_reason_usage_and_done() -> None:
    source = ScriptedSource(["Par", "is", " is", " the", " capital."])
    async with client_for(source) as client:
        reply = await client.post("/v1/chat/completions",
                                  json=body(stream=True, stream_options={"include_usage": True}))  # fmt: skip
    chunks = stream_chunks(reply.text)
    assert reply.headers["content-type"].startswith("text/event-stream")
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == ALIAS for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "Paris is the capital."
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8}


async def test_max_tokens_limits_the_answer_and_says_length() -> None:
    source = ScriptedSource(["a", "b", "c", "d"])
    async with client_for(source) as client:
        reply = (await client.post("/v1/chat/completions", json=body(max_tokens=2))).json()
    assert reply["choices"][0]["message"]["content"] == "ab"
    assert reply["choices"][0]["finish_reason"] == "length"
    assert reply["usage"]["completion_tokens"] == 2 and source.calls[0].max_tokens == 2


async def test_a_stop_sequence_split_across_tokens_never_reaches_the_client() -> None:
    source = ScriptedSource(["Answer: 42", "<|", "end", "|> more text", " and more"], delay_s=0.05)
    async with client_for(source) as client:
        reply = await client.post("/v1/chat/completions", json=body(stream=True, stop="<|end|>"))
    chunks = stream_chunks(reply.text)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == "Answer: 42"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert source.produced < 5, "generation stops at the stop sequence"


def test_stop_scanner_releases_held_text_that_turned_out_not_to_be_a_stop() -> None:
    scanner = StopScanner(["###"])
    assert scanner.feed("a #") == "a "
    assert scanner.feed("#b") == "##b"
    assert scanner.feed("c##") == "c"
    assert scanner.flush() == "##" and not scanner.stopped


async def test_sampling_options_reach_the_model() -> None:
    source = ScriptedSource(["x"])
    async with client_for(source) as client:
        await client.post("/v1/chat/completions", json=body(temperature=0.7, top_p=0.9, seed=3, max_tokens=5))
    assert source.calls == [Sampling(max_tokens=5, temperature=0.7, top_p=0.9, seed=3)]


async def test_a_prompt_longer_than_the_context_is_refused_as_a_context_error() -> None:
    source = ScriptedSource(["x"], context_tokens=2)
    async with client_for(source) as client:
        reply = await client.post("/v1/chat/completions", json=body())
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "context_length_exceeded" and "context window" in reply.json()["error"]["message"]
    assert source.calls == []


@pytest.mark.parametrize("bad", [{"messages": []}, {"max_tokens": 0}, {"temperature": 5}, {"messages": "hi"}])
async def test_invalid_requests_are_refused_with_a_reason(bad: dict) -> None:
    async with client_for(ScriptedSource(["x"])) as client:
        reply = await client.post("/v1/chat/completions", json=body(**bad))
    assert reply.status_code == 400 and reply.json()["error"]["message"].startswith("invalid request")


async def test_the_apps_own_client_reads_text_and_reported_usage() -> None:
    source = ScriptedSource(["The lighthouse", " was built", " in 1887 [1]."])
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app(source, ALIAS)))
    endpoint = ModelEndpoint("slm", ALIAS, "http://onnx/v1", "embedded", "Tiny", "", engine="onnxruntime")
    items = [item async for item in stream_chat(endpoint, [{"role": "user", "content": "When was it built?"}],
                                                GenerationParams(max_tokens=16, retries=0),
                                                AsyncOpenAI(base_url=endpoint.base_url, api_key="x", http_client=http))]  # fmt: skip
    completion = items[-1]
    assert "".join(i for i in items if isinstance(i, str)) == completion.text == "The lighthouse was built in 1887 [1]."
    assert completion.usage.source == "reported" and completion.usage.completion_tokens == 3
    assert completion.finish_reason == "stop"


async def test_closing_the_stream_stops_generation_and_frees_the_model_for_the_next_request() -> None:
    source = ScriptedSource([f"t{n} " for n in range(200)], context_tokens=500, delay_s=0.005)
    service = ChatService(source, ALIAS)
    tokens = service.tokens([1, 2], Sampling(max_tokens=200))
    received = [await anext(tokens), await anext(tokens)]
    await tokens.aclose()  # what happens when the client goes away
    assert received == ["t0 ", "t1 "] and source.cancelled_seen and source.produced < 50
    again = [piece async for piece in service.tokens([1], Sampling(max_tokens=3))]
    assert again == ["t0 ", "t1 ", "t2 "]


async def test_two_requests_are_answered_one_after_the_other() -> None:
    source = ScriptedSource(["a", "b", "c"], delay_s=0.01)
    async with client_for(source) as client:
        replies = await asyncio.gather(*(client.post("/v1/chat/completions", json=body()) for _ in range(3)))
    assert [r.json()["choices"][0]["message"]["content"] for r in replies] == ["abc"] * 3
    assert source.most_active == 1


def test_threads_are_set_on_the_decoders_onnx_runtime_session() -> None:
    overlay = json.loads(thread_overlay(2))
    assert overlay["model"]["decoder"]["session_options"]["intra_op_num_threads"] == 2
