"""The streaming client against a scripted OpenAI-compatible server: what the reader gets on
success, and which readable error (with the partial answer) on every kind of failure."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from ragstage.models import (
    Completion,
    ContextOverflow,
    FirstTokenTimeout,
    GenerationParams,
    MalformedStream,
    ModelMismatch,
    ModelUnreachable,
    ServerError,
    complete_chat,
    stream_chat,
)
from ragstage.tokens import count_tokens

MESSAGES = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "What is BM25?"}]
PARAMS = GenerationParams(max_tokens=32, temperature=0.0, first_token_timeout_s=5.0, retries=1)


async def collect(scripted, params=PARAMS, endpoint=None) -> tuple[list[str], Completion]:
    tokens: list[str] = []
    completion = None
    async for item in stream_chat(endpoint or scripted.endpoint(), MESSAGES, params, client=scripted.client()):
        if isinstance(item, Completion):
            completion = item
        else:
            assert completion is None, "text arrived after the Completion"
            tokens.append(item)
    assert completion is not None
    return tokens, completion


async def test_tokens_stream_in_order_then_one_completion_with_the_served_model(scripted):
    scripted.stream(["BM25 ", "ranks ", "documents."])
    tokens, completion = await collect(scripted)
    assert tokens == ["BM25 ", "ranks ", "documents."]
    assert completion.text == "BM25 ranks documents."
    assert completion.finish_reason == "stop"
    assert completion.model_id == "phi-4-mini-instruct-generic-cpu:1"
    assert completion.backend == "remote"


async def test_request_uses_the_endpoint_model_id_and_generation_params(scripted):
    scripted.stream(["ok"])
    await collect(scripted, GenerationParams(max_tokens=7, temperature=0.3, first_token_timeout_s=5, retries=0))
    sent = scripted.requests[0]
    assert sent["model"] == "phi-4-mini-instruct-generic-cpu:1"
    assert sent["max_tokens"] == 7 and sent["temperature"] == 0.3 and sent["stream"] is True
    assert sent["messages"] == MESSAGES


async def test_timings_are_consistent_and_measure_the_wait_for_the_first_token(scripted):
    scripted.slow(["a", "b", "c"], pause_s=0.05)
    _, completion = await collect(scripted)
    timings = completion.timings
    assert 0 < timings.ttft_ms <= timings.total_ms
    assert timings.decode_ms > 0
    assert timings.total_ms == pytest.approx(completion.prep_ms + timings.ttft_ms + timings.decode_ms)
    assert timings.ttft_ms >= 40  # the scripted server paused before the first token


async def test_usage_reported_by_the_server_is_used_and_marked_reported(scripted):
    scripted.stream(["one", " two"], usage={"prompt_tokens": 123, "completion_tokens": 2, "total_tokens": 125})
    _, completion = await collect(scripted)
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (123, 2)
    assert completion.usage.source == "reported"


async def test_usage_is_counted_with_tiktoken_when_the_server_reports_none(scripted):
    scripted.stream(["Okapi BM25", " is a ranking function."])
    _, completion = await collect(scripted)
    assert completion.usage.source == "counted"
    assert completion.usage.completion_tokens == count_tokens("Okapi BM25 is a ranking function.")
    prompt_text_tokens = sum(count_tokens(m["content"]) for m in MESSAGES)
    assert completion.usage.prompt_tokens >= prompt_text_tokens
    assert completion.decode_tokens_per_s >= 0


async def test_complete_chat_returns_the_same_completion_as_the_stream(scripted):
    scripted.stream(["Hello", " there"])
    completion = await complete_chat(scripted.endpoint(), MESSAGES, PARAMS, client=scripted.client())
    assert completion.text == "Hello there"


async def test_refused_connection_is_retried_then_reported_as_unreachable(scripted):
    scripted.refuse()
    scripted.refuse()
    with pytest.raises(ModelUnreachable) as caught:
        await collect(scripted)
    assert len(scripted.requests) == 2  # one try + one retry
    message = str(caught.value)
    assert "http://scripted.test/v1" in message and "connection refused" in message.lower()
    assert "next question" in message  # says what to do
    assert caught.value.partial_text == ""


async def test_refused_connection_recovers_when_the_retry_succeeds(scripted):
    scripted.refuse()
    scripted.stream(["back"])
    tokens, completion = await collect(scripted)
    assert tokens == ["back"] and completion.text == "back"


async def test_server_error_500_is_retried_before_the_first_token(scripted):
    scripted.error(500, "out of memory")
    scripted.stream(["fine"])
    _, completion = await collect(scripted)
    assert completion.text == "fine"
    assert len(scripted.requests) == 2


async def test_retries_are_bounded_by_the_setting(scripted):
    for _ in range(5):
        scripted.error(503, "busy")
    with pytest.raises(ServerError) as caught:
        await collect(scripted, GenerationParams(max_tokens=8, first_token_timeout_s=5, retries=2))
    assert len(scripted.requests) == 3
    assert caught.value.status_code == 503
    assert "HTTP 503" in str(caught.value) and "busy" in str(caught.value)


async def test_client_error_400_is_not_retried_and_names_the_setting_to_check(scripted):
    scripted.error(400, "unknown parameter")
    with pytest.raises(ServerError) as caught:
        await collect(scripted)
    assert len(scripted.requests) == 1
    assert "RAGSTAGE_SLM_MODEL" in str(caught.value)


async def test_failure_after_the_first_token_is_not_retried_and_keeps_the_partial_answer(scripted):
    scripted.slow(["Partial ", "answer"], pause_s=0.01, then=httpx.RemoteProtocolError("peer closed connection"))
    scripted.stream(["never used"])
    received: list[str] = []
    with pytest.raises(ModelUnreachable) as caught:
        async for item in stream_chat(scripted.endpoint(), MESSAGES, PARAMS, client=scripted.client()):
            received.append(item)
    assert received == ["Partial ", "answer"]
    assert caught.value.partial_text == "Partial answer"
    assert "mid-answer" in str(caught.value)
    assert len(scripted.requests) == 1


async def test_server_that_never_sends_a_token_times_out_with_advice(scripted):
    scripted.hang()
    params = GenerationParams(max_tokens=8, first_token_timeout_s=0.3, retries=3)
    with pytest.raises(FirstTokenTimeout) as caught:
        await collect(scripted, params)
    assert "0.3 s" in str(caught.value) and "RAGSTAGE_FIRST_TOKEN_TIMEOUT_S" in str(caught.value)
    assert len(scripted.requests) == 1  # the timeout bounds the whole wait: no retry after it
    assert scripted.streams_closed == 1  # the hung stream was hung up on


async def test_invalid_json_in_the_stream_is_a_malformed_stream_with_partial_text(scripted):
    good = scripted.sse_bytes(scripted.token_events(["Hi"])[:2], done=False)
    scripted.raw(good + b"data: {not json\n\n")
    with pytest.raises(MalformedStream) as caught:
        await collect(scripted)
    assert caught.value.partial_text == "Hi"
    assert "RAGSTAGE_SLM_BASE_URL" in str(caught.value)


async def test_reply_without_any_stream_event_is_malformed(scripted):
    scripted.raw(b"<html>Welcome to nginx</html>", content_type="text/html")
    with pytest.raises(MalformedStream):
        await collect(scripted)


async def test_event_without_choices_is_malformed(scripted):
    scripted.raw(scripted.sse_bytes([{"id": "x", "model": "phi-4-mini-instruct-generic-cpu:1", "choices": "oops"}]))
    with pytest.raises(MalformedStream):
        await collect(scripted)


@pytest.mark.parametrize(
    "message",
    [
        "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens",  # llama-cpp-python, OpenAI
        "the request exceeds the available context size, try increasing it",  # llama.cpp server
        "Requested tokens (5000) exceed context window of 4096",
    ],
)
async def test_context_overflow_messages_become_context_overflow_with_the_budget_setting(scripted, message):
    scripted.error(400, message)
    with pytest.raises(ContextOverflow) as caught:
        await collect(scripted)
    assert "RAGSTAGE_CONTEXT_BUDGET_TOKENS" in str(caught.value)
    assert len(scripted.requests) == 1


async def test_empty_stream_caused_by_an_overlong_prompt_is_reported_as_context_overflow(scripted):
    # llama-cpp-python ends the stream empty and reports the overflow only without streaming
    scripted.raw(b"")
    scripted.error(400, "This model's maximum context length is 2048 tokens. However, you requested 3032 tokens",
                   code="context_length_exceeded")
    with pytest.raises(ContextOverflow) as caught:
        await collect(scripted)
    assert "2048" in str(caught.value)
    assert scripted.requests[1]["stream"] is False and scripted.requests[1]["max_tokens"] == 1


async def test_error_event_inside_the_stream_is_a_server_error(scripted):
    scripted.raw(scripted.sse_bytes([{"error": {"message": "generation crashed"}}]))
    with pytest.raises(ServerError) as caught:
        await collect(scripted)
    assert "generation crashed" in str(caught.value)


async def test_server_answering_as_another_model_is_a_model_mismatch(scripted):
    scripted.stream(["I am someone else"], model="qwen2.5-coder-0.5b-instruct")
    with pytest.raises(ModelMismatch) as caught:
        await collect(scripted)
    message = str(caught.value)
    assert "phi-4-mini-instruct-generic-cpu:1" in message and "qwen2.5-coder-0.5b-instruct" in message


async def test_closing_the_generator_hangs_up_the_http_stream(scripted):
    scripted.slow([f"t{i} " for i in range(100)], pause_s=0.02)
    stream = stream_chat(scripted.endpoint(), MESSAGES, PARAMS, client=scripted.client())
    assert await anext(stream) == "t0 "
    await stream.aclose()
    assert scripted.streams_closed == 1


async def test_cancelling_the_consumer_task_hangs_up_the_http_stream(scripted):
    scripted.slow([f"t{i} " for i in range(1000)], pause_s=0.01)
    first_token = asyncio.Event()

    async def consume() -> None:
        async for _ in stream_chat(scripted.endpoint(), MESSAGES, PARAMS, client=scripted.client()):
            first_token.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first_token.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert scripted.streams_closed == 1


async def test_cancelling_while_waiting_for_the_first_token_hangs_up(scripted):
    scripted.hang()
    task = asyncio.create_task(collect(scripted))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert scripted.streams_closed == 1
