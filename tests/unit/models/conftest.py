"""A scripted OpenAI-compatible server behind httpx.MockTransport, for the client's error paths.

`scripted` queues one reply per chat request (a stream of tokens, an HTTP error, a refused
connection, a hang, raw bytes ...) and records what was asked, so tests read as
"the server does X; the client reports Y".
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from openai import AsyncOpenAI

from ragstage.models.endpoint import ModelEndpoint

MODEL_ID = "phi-4-mini-instruct-generic-cpu:1"
Reply = Callable[[httpx.Request], httpx.Response]


def chunk(content: str | None = None, *, finish: str | None = None, model: str = MODEL_ID, usage: dict | None = None,
          role: str | None = None, choices: Any = None) -> dict:
    delta: dict[str, Any] = {}
    if role:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    body: dict[str, Any] = {
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if choices is None else choices,
    }
    if usage is not None:
        body["usage"] = usage
    return body


def sse_bytes(events: list[dict | str], done: bool = True) -> bytes:
    lines = [f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n" for e in events]
    if done:
        lines.append("data: [DONE]\n\n")
    return "".join(lines).encode()


def token_events(tokens: list[str], *, model: str = MODEL_ID, usage: dict | None = None,
                 finish: str = "stop") -> list[dict | str]:
    events: list[dict | str] = [chunk(role="assistant", model=model)]
    events += [chunk(t, model=model) for t in tokens]
    events.append(chunk(finish=finish, model=model))
    if usage is not None:
        events.append(chunk(model=model, usage=usage, choices=[]))
    return events


class ScriptedServer:
    chunk = staticmethod(chunk)
    sse_bytes = staticmethod(sse_bytes)
    token_events = staticmethod(token_events)

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[dict] = []
        self.models: list[str] = [MODEL_ID]
        self.streams_closed = 0
        self.base_url = "http://scripted.test/v1"

    # --- what the next chat request gets -------------------------------------------------
    def stream(self, tokens: list[str], **kwargs: Any) -> None:
        body = sse_bytes(token_events(tokens, **kwargs))
        self.replies.append(lambda request: _sse_response(body))

    def raw(self, body: bytes, content_type: str = "text/event-stream") -> None:
        self.replies.append(lambda request: httpx.Response(200, headers={"content-type": content_type}, content=body))

    def error(self, status: int, message: str, code: str | None = None) -> None:
        payload = {"error": {"message": message, "type": "invalid_request_error", "code": code}}
        self.replies.append(lambda request: httpx.Response(status, json=payload))

    def refuse(self) -> None:
        def reply(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

        self.replies.append(reply)

    def hang(self) -> None:
        """Accept the request, send headers, then never a token."""
        self.replies.append(lambda request: _sse_response(self._events([], pause_s=3600)))

    def slow(self, tokens: list[str], pause_s: float, then: BaseException | None = None) -> None:
        """Send tokens with a pause between them; optionally fail after the last one."""
        events = token_events(tokens)[:-1] if then else token_events(tokens)
        self.replies.append(lambda request: _sse_response(self._events(events, pause_s=pause_s, then=then)))

    def _events(self, events: list, pause_s: float, then: BaseException | None = None) -> _HangUpRecorder:
        async def body() -> AsyncIterator[bytes]:
            yield b": keep-alive\n\n"
            for event in events:
                yield sse_bytes([event], done=False)
                await asyncio.sleep(pause_s)
            if then is not None:
                raise then
            await asyncio.sleep(pause_s)
            yield b"data: [DONE]\n\n"

        return _HangUpRecorder(body(), self)

    # --- transport ------------------------------------------------------------------------
    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.endswith("/models"):
            return httpx.Response(200, json={"object": "list", "data": [{"id": m, "object": "model"} for m in self.models]})
        self.requests.append(json.loads(request.content))
        if not self.replies:
            return httpx.Response(500, json={"error": {"message": "no scripted reply left"}})
        return self.replies.popleft()(request)

    def client(self) -> AsyncOpenAI:
        http = httpx.AsyncClient(transport=httpx.MockTransport(self.handler))
        return AsyncOpenAI(base_url=self.base_url, api_key="test", http_client=http, max_retries=0)

    def endpoint(self, model_id: str = MODEL_ID, backend: str = "remote") -> ModelEndpoint:
        return ModelEndpoint("slm", model_id, self.base_url, backend, "phi-4-mini", f"remote: {model_id}")  # type: ignore[arg-type]


class _HangUpRecorder(httpx.AsyncByteStream):
    """A response body that counts how often the client closed it (hung up)."""

    def __init__(self, body: AsyncIterator[bytes], server: ScriptedServer) -> None:
        self._body = body
        self._server = server

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for part in self._body:
            yield part

    async def aclose(self) -> None:
        self._server.streams_closed += 1
        await self._body.aclose()


def _sse_response(content: bytes | httpx.AsyncByteStream) -> httpx.Response:
    headers = {"content-type": "text/event-stream"}
    if isinstance(content, bytes):
        return httpx.Response(200, headers=headers, content=content)
    return httpx.Response(200, headers=headers, stream=content)


@pytest.fixture
def scripted() -> ScriptedServer:
    return ScriptedServer()
