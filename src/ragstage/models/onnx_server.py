"""`python -m ragstage.models.onnx_server`: an OpenAI-compatible server around onnxruntime-genai.

No usable one exists on the package index, so this is ours, kept to what the app and common
clients use: `GET /v1/models`, `POST /v1/chat/completions` (streamed or not) with `max_tokens`,
`temperature`, `top_p`, `seed`, `stop`, usage (in the reply, and in a last stream chunk when
`stream_options.include_usage` asks), and cancellation: when the client goes away the token loop
stops at the next token. Like the embedded llama.cpp servers (`--interrupt_requests false`),
one answer is generated at a time and a second request waits for the first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ragstage.models.onnx_engine import Sampling, TokenSource

DEFAULT_MAX_TOKENS = 256
_END = object()


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: str
    content: str


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")  # OpenAI clients send fields we do not use

    model: str = ""
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    max_tokens: int | None = Field(None, ge=1)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    seed: int | None = None
    stop: list[str] = Field(default_factory=list, max_length=4)
    stream_options: dict[str, Any] | None = None

    @field_validator("stop", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else (value or [])

    @property
    def include_usage(self) -> bool:
        return bool((self.stream_options or {}).get("include_usage"))


class StopScanner:
    """Cuts the text at the first stop sequence. Text that could be the start of a stop sequence
    is held back until the next piece shows whether it is one, so a stop string split across
    tokens never reaches the client."""

    def __init__(self, stops: list[str]) -> None:
        self.stops = [stop for stop in stops if stop]
        self._held = ""
        self.stopped = False

    def feed(self, piece: str) -> str:
        text = self._held + piece
        cuts = [text.find(stop) for stop in self.stops if stop in text]
        if cuts:
            self.stopped, self._held = True, ""
            return text[: min(cuts)]
        keep = max((len(stop) - 1 for stop in self.stops), default=0)
        hold = next((n for n in range(min(keep, len(text)), 0, -1)
                     if any(stop.startswith(text[-n:]) for stop in self.stops)), 0)  # fmt: skip
        self._held = text[len(text) - hold:] if hold else ""
        return text[: len(text) - hold]

    def flush(self) -> str:
        held, self._held = self._held, ""
        return held


def _error(status: int, message: str, code: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "invalid_request_error", "code": code}}, status)


class ChatService:
    """One model, one answer at a time; each answer's tokens come from a worker thread."""

    def __init__(self, source: TokenSource, alias: str) -> None:
        self.source, self.alias = source, alias
        self._busy = asyncio.Lock()

    def sampling(self, request: ChatRequest) -> Sampling:
        return Sampling(request.max_tokens or DEFAULT_MAX_TOKENS, request.temperature, request.top_p, request.seed)

    async def tokens(self, ids: list[int], sampling: Sampling) -> AsyncIterator[str]:
        """The answer's pieces as they come. Closing this iterator (the client went away)
        stops generation at the next token and waits for the worker before the next answer."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        cancelled = threading.Event()

        def work() -> None:
            try:
                for piece in self.source.pieces(ids, sampling, cancelled):
                    loop.call_soon_threadsafe(queue.put_nowait, piece)
            except Exception as err:  # reported to the client as the stream's end
                loop.call_soon_threadsafe(queue.put_nowait, err)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, _END)

        async with self._busy:
            worker = loop.run_in_executor(None, work)
            try:
                while (item := await queue.get()) is not _END:
                    if isinstance(item, Exception):
                        raise item
                    yield item  # type: ignore[misc]
            finally:
                cancelled.set()
                await asyncio.shield(worker)


class Answer:
    """One request's answer as it is produced: text, token count, finish reason, timings."""

    def __init__(self, request: ChatRequest, prompt_tokens: int, max_tokens: int) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())
        self.scanner = StopScanner(request.stop)
        self.prompt_tokens, self.max_tokens = prompt_tokens, max_tokens
        self.completion_tokens = 0

    def take(self, piece: str) -> str:
        self.completion_tokens += 1
        return self.scanner.feed(piece)

    @property
    def finish_reason(self) -> str:
        if self.scanner.stopped:
            return "stop"
        return "length" if self.completion_tokens >= self.max_tokens else "stop"

    @property
    def usage(self) -> dict[str, int]:
        total = self.prompt_tokens + self.completion_tokens
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens, "total_tokens": total}


def _chunk(answer: Answer, alias: str, delta: dict[str, str], finish: str | None = None, **extra: Any) -> str:
    body = {"id": answer.id, "object": "chat.completion.chunk", "created": answer.created, "model": alias,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if delta is not None else [], **extra}  # fmt: skip
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


async def _sse(service: ChatService, request: ChatRequest, ids: list[int], answer: Answer) -> AsyncIterator[str]:
    alias = service.alias
    yield _chunk(answer, alias, {"role": "assistant", "content": ""})
    try:
        async for piece in service.tokens(ids, service.sampling(request)):
            text = answer.take(piece)
            if text:
                yield _chunk(answer, alias, {"content": text})
            if answer.scanner.stopped:
                break
        if rest := answer.scanner.flush():
            yield _chunk(answer, alias, {"content": rest})
    except Exception as err:  # the status line is gone: tell the client inside the stream
        yield f"data: {json.dumps({'error': {'message': f'generation failed: {err}', 'type': 'server_error'}})}\n\n"
        return
    yield _chunk(answer, alias, {}, answer.finish_reason)
    if request.include_usage:
        yield _chunk(answer, alias, None, usage=answer.usage)  # type: ignore[arg-type]
    yield "data: [DONE]\n\n"


async def _complete(service: ChatService, request: ChatRequest, ids: list[int], answer: Answer) -> JSONResponse:
    parts: list[str] = []
    async for piece in service.tokens(ids, service.sampling(request)):
        parts.append(answer.take(piece))
        if answer.scanner.stopped:
            break
    parts.append(answer.scanner.flush())
    message = {"role": "assistant", "content": "".join(parts)}
    return JSONResponse({
        "id": answer.id, "object": "chat.completion", "created": answer.created, "model": service.alias,
        "choices": [{"index": 0, "message": message, "finish_reason": answer.finish_reason}], "usage": answer.usage,
    })  # fmt: skip


async def chat_completions(service: ChatService, raw: bytes) -> Response:
    try:
        request = ChatRequest.model_validate_json(raw)
    except ValidationError as err:
        return _error(400, f"invalid request: {err.errors(include_url=False)}", "invalid_request")
    ids = await asyncio.to_thread(service.source.prompt_ids, [m.model_dump() for m in request.messages])
    room = service.source.context_tokens - len(ids)
    if room < 1:
        limit = service.source.context_tokens
        return _error(400, f"the prompt has {len(ids)} tokens: it exceeds the context window of {limit} tokens",
                      "context_length_exceeded")  # fmt: skip
    answer = Answer(request, len(ids), min(request.max_tokens or DEFAULT_MAX_TOKENS, room))
    if not request.stream:
        return await _complete(service, request, ids, answer)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(_sse(service, request, ids, answer), media_type="text/event-stream", headers=headers)


def build_app(source: TokenSource, alias: str) -> FastAPI:
    """The HTTP app around one token source (the real model, or a fake in tests)."""
    app = FastAPI(title="ragstage onnxruntime-genai server", docs_url=None, redoc_url=None, openapi_url=None)
    service = ChatService(source, alias)

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": alias, "object": "model", "owned_by": "ragstage"}]}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/chat/completions")
    async def completions(request: Request) -> Response:
        return await chat_completions(service, await request.body())

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ragstage.models.onnx_server", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="onnxruntime-genai model folder")
    parser.add_argument("--model_alias", required=True, help="the model id clients ask for")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads")
    parser.add_argument("--n_ctx", type=int, default=4096, help="longest prompt + answer")
    args = parser.parse_args(argv)
    import uvicorn

    from ragstage.models.onnx_engine import GenAISource

    source = GenAISource(args.model, args.threads, args.n_ctx)
    uvicorn.run(build_app(source, args.model_alias), host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
