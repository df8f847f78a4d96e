"""OpenAI-compatible chat streaming with timings, usage and typed errors.

Streaming first: `stream_chat` yields text as it arrives and then exactly one `Completion`;
`complete_chat` is built on it. Timings are taken from one clock at three instants (request
sent, first content token, end of stream) so that `ttft_ms + decode_ms + prep_ms == total_ms`.
Retries happen only before the first token: once text has reached the reader, repeating the
request would show a different answer.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import httpx
import openai
from openai import AsyncOpenAI

from ragstage.metrics import CallTimings, TokenUsage, decode_tokens_per_s
from ragstage.models.endpoint import Backend, ModelEndpoint
from ragstage.models.errors import ContextOverflow, ModelError, ModelMismatch
from ragstage.models.failures import FailureContext, is_retryable, malformed, translate

_RETRY_PAUSE_S = 0.25
_PER_MESSAGE_OVERHEAD_TOKENS = 4  # role and delimiters a chat template wraps around each message


@dataclass(frozen=True)
class GenerationParams:
    max_tokens: int = 256
    temperature: float = 0.0
    first_token_timeout_s: float = 90.0
    retries: int = 1


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str | None
    model_id: str  # the id the server said it served
    backend: Backend
    usage: TokenUsage
    timings: CallTimings
    prep_ms: float  # building the request

    @property
    def decode_tokens_per_s(self) -> float:
        return decode_tokens_per_s(self.usage.completion_tokens, self.timings.decode_ms)


@dataclass
class _CallState:
    """What has arrived so far in one call; turned into a Completion at the end."""

    endpoint: ModelEndpoint
    parts: list[str] = field(default_factory=list)
    chunks: int = 0
    finish_reason: str | None = None
    served_id: str | None = None
    usage: TokenUsage | None = None
    first_token_at: float | None = None
    reasoning_seen: bool = False

    def restart(self) -> None:
        """Forget a failed attempt before retrying (nothing of it reached the reader)."""
        self.chunks, self.finish_reason, self.served_id, self.usage = 0, None, None, None
        self.reasoning_seen = False

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def absorb(self, chunk: Any) -> str:
        """Record one stream chunk; returns its answer text ("" for role/usage/reasoning chunks)."""
        self.chunks += 1
        self._check_model(getattr(chunk, "model", None))
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.usage = TokenUsage(int(usage.prompt_tokens), int(usage.completion_tokens), "reported")
        choices = getattr(chunk, "choices", None)
        if not isinstance(choices, list):
            raise malformed(self.endpoint, "a stream event has no `choices` list", self.text)
        text = ""
        for choice in choices:
            delta = choice.delta
            text += getattr(delta, "content", None) or ""
            extra = getattr(delta, "model_extra", None) or {}
            self.reasoning_seen |= bool(extra.get("reasoning_content") or extra.get("reasoning"))
            self.finish_reason = choice.finish_reason or self.finish_reason
        return text

    def _check_model(self, served: str | None) -> None:
        if not served:
            return
        self.served_id = served
        wanted = self.endpoint.model_id
        if served.lower() == wanted.lower() or served.lower().startswith(wanted.lower()):
            return
        raise ModelMismatch(
            f"Asked {self.endpoint.base_url} for {wanted} but it answered as {served}: that server is "
            f"serving another model. Load {wanted} there, or set RAGSTAGE_{self.endpoint.role.upper()}_MODEL "
            "to the model it serves.",
            partial_text=self.text,
            url=self.endpoint.base_url,
        )


@cache
def _ssl_context() -> ssl.SSLContext:
    """Built once: creating an SSL context costs milliseconds that would land in every call."""
    return httpx.create_ssl_context()


# One client (and so one connection pool) per event loop and endpoint: building a client per
# call cost a fresh TCP connection and client set-up on every answer's critical path. Keyed by
# loop because an httpx pool must not be shared across event loops (each CLI run and test has
# its own); the weak keys let a finished loop's clients go with it.
_shared_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple, AsyncOpenAI]] = (
    weakref.WeakKeyDictionary()
)


def _client_for(endpoint: ModelEndpoint, params: GenerationParams) -> AsyncOpenAI:
    per_loop = _shared_clients.setdefault(asyncio.get_running_loop(), {})
    key = (endpoint.base_url, endpoint.api_key, params.first_token_timeout_s)
    if key not in per_loop:
        per_loop[key] = _new_client(endpoint, params)
    return per_loop[key]


def _new_client(endpoint: ModelEndpoint, params: GenerationParams) -> AsyncOpenAI:
    timeout = httpx.Timeout(
        connect=min(10.0, params.first_token_timeout_s),
        read=params.first_token_timeout_s,  # also the longest silence tolerated mid-answer
        write=30.0,
        pool=params.first_token_timeout_s,
    )
    http = httpx.AsyncClient(verify=_ssl_context(), timeout=timeout)
    return AsyncOpenAI(
        base_url=endpoint.base_url, api_key=endpoint.api_key, http_client=http, timeout=timeout, max_retries=0
    )


def _request(endpoint: ModelEndpoint, messages: Sequence[dict], params: GenerationParams) -> dict[str, Any]:
    return {
        "model": endpoint.model_id,
        "messages": list(messages),
        "max_tokens": params.max_tokens,
        "temperature": params.temperature,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


async def _close(stream: Any, chunks: Any = None) -> None:
    """Close the HTTP response (the server sees the disconnect) and the chunk iterator."""
    if stream is not None:
        await stream.close()
    if chunks is not None and hasattr(chunks, "aclose"):
        await chunks.aclose()


async def _open_stream(
    api: AsyncOpenAI, request: dict[str, Any], params: GenerationParams, state: _CallState
) -> tuple[Any, AsyncIterator[Any], str]:
    """Send the request and read until the first token (answer or reasoning), retrying only here.

    Returns the open stream, its chunk iterator and the first answer text ("" when the stream
    ended without any, or when reasoning came first). The first-token timeout bounds the whole
    wait, retries included.
    """
    deadline = asyncio.get_running_loop().time() + params.first_token_timeout_s
    for attempt in range(params.retries + 1):
        stream = chunks = None
        try:
            async with asyncio.timeout_at(deadline):
                stream = await api.chat.completions.create(**request)
                chunks = aiter(stream)
                async for chunk in chunks:
                    text = state.absorb(chunk)
                    if text or state.reasoning_seen:
                        return stream, chunks, text
                return stream, chunks, ""
        except Exception as err:  # noqa: BLE001 - every failure becomes a typed ModelError
            await _close(stream, chunks)
            error = translate(err, _failure_context(state, params, got_first_token=False))
            if attempt == params.retries or not is_retryable(error):
                raise error from err
            state.restart()
            await asyncio.sleep(_RETRY_PAUSE_S)
        except BaseException:  # cancelled by the consumer: hang up so the server stops
            await _close(stream, chunks)
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def _failure_context(state: _CallState, params: GenerationParams, got_first_token: bool) -> FailureContext:
    return FailureContext(state.endpoint, state.text, got_first_token, params.first_token_timeout_s)


def _counted_usage(messages: Sequence[dict], text: str) -> TokenUsage:
    from ragstage.tokens import count_tokens

    prompt = sum(
        count_tokens(str(message.get("content") or "")) + _PER_MESSAGE_OVERHEAD_TOKENS for message in messages
    )
    return TokenUsage(prompt, count_tokens(text), "counted")


def _completion(state: _CallState, messages: Sequence[dict], marks: tuple[float, float, float, float]) -> Completion:
    started, sent, first, ended = marks
    prep_ms = (sent - started) * 1000
    ttft_ms = (first - sent) * 1000
    decode_ms = (ended - first) * 1000
    return Completion(
        text=state.text,
        finish_reason=state.finish_reason,
        model_id=state.served_id or state.endpoint.model_id,
        backend=state.endpoint.backend,
        usage=state.usage or _counted_usage(messages, state.text),
        timings=CallTimings(ttft_ms=ttft_ms, decode_ms=decode_ms, total_ms=prep_ms + ttft_ms + decode_ms),
        prep_ms=prep_ms,
    )


async def stream_chat(
    endpoint: ModelEndpoint,
    messages: Sequence[dict],
    params: GenerationParams,
    client: AsyncOpenAI | None = None,
) -> AsyncIterator[str | Completion]:
    """Yield answer text as it arrives, then one `Completion`; raise a `ModelError` on failure.

    Closing the generator (or cancelling its consumer) closes the HTTP stream at once, which is
    how a llama.cpp server learns to stop generating.
    """
    started = time.perf_counter()
    request = _request(endpoint, messages, params)
    api = _client_for(endpoint, params) if client is None else client.with_options(max_retries=0)
    state = _CallState(endpoint)
    stream = chunks = None
    try:
        sent = time.perf_counter()
        stream, chunks, first_text = await _open_stream(api, request, params, state)
        async with aclosing(_answer_text(first_text, chunks, state, params)) as answer:
            async for text in answer:
                state.first_token_at = state.first_token_at or time.perf_counter()
                state.parts.append(text)
                yield text
        if state.chunks == 0:
            raise await _explain_empty_stream(api, request, state, params)
        ended = time.perf_counter()
        first = state.first_token_at or ended
        yield _completion(state, messages, (started, sent, first, ended))
    finally:
        await _close(stream, chunks)


async def _explain_empty_stream(
    api: AsyncOpenAI, request: dict[str, Any], state: _CallState, params: GenerationParams
) -> ModelError:
    """Why a 200 reply held no events. llama-cpp-python reports a prompt longer than its context
    only on the non-streaming path (its stream just ends empty), so ask once that way."""
    probe = {**request, "stream": False, "max_tokens": 1}
    probe.pop("stream_options", None)
    for _ in range(2):  # the first try may land on the connection the server just dropped
        try:
            async with asyncio.timeout(params.first_token_timeout_s):
                await api.chat.completions.create(**probe)
            break
        except openai.APIConnectionError:
            continue
        except Exception as err:  # noqa: BLE001
            error = translate(err, _failure_context(state, params, got_first_token=False))
            if isinstance(error, ContextOverflow):
                return error
            break
    return malformed(state.endpoint, "the reply held no stream events")


async def _answer_text(
    first_text: str, chunks: AsyncIterator[Any], state: _CallState, params: GenerationParams
) -> AsyncIterator[str]:
    """The answer text pieces after the first token; mid-stream failures become ModelErrors."""
    if first_text:
        yield first_text
    try:
        async for chunk in chunks:
            text = state.absorb(chunk)
            if text:
                yield text
    except ModelError:
        raise
    except Exception as err:  # noqa: BLE001
        raise translate(err, _failure_context(state, params, got_first_token=True)) from err


async def complete_chat(
    endpoint: ModelEndpoint,
    messages: Sequence[dict],
    params: GenerationParams,
    client: AsyncOpenAI | None = None,
) -> Completion:
    """The blocking call, built on the stream so both report the same timings."""
    async with aclosing(stream_chat(endpoint, messages, params, client)) as items:
        async for item in items:
            if isinstance(item, Completion):
                return item
    raise AssertionError("stream_chat ended without a Completion")  # pragma: no cover
