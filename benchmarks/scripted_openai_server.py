"""A fast, scripted OpenAI-compatible chat server on 127.0.0.1, stdlib only.

It stands in for the model so that benchmarks measure the app, not the model, and so that
fault tests can make a server misbehave on purpose. The behaviour can be switched while
it runs (`POST /control {"behavior": "..."}`), so a test can break it for one question and
check that the next question works again.

Behaviours:
  ok            streams `--tokens` tokens, `--token-delay-ms` apart
  silent        accepts the connection, reads the request, never answers (first-token timeout)
  malformed     streams `--die-after` tokens, then a `data:` line that is not JSON
  http500       answers 500 with an OpenAI-style error body
  wrong_model   streams normally but names another model in every chunk
  die_mid       streams `--die-after` tokens, then the process exits at once (killed mid-answer)
  drop_mid      streams `--die-after` tokens, then drops that connection (server stays up)
  quote         answers with the last sentence of the prompt's first source, word by word, and
                writes no [n] (a small model that copies its evidence and cites nothing)

Usage: python benchmarks/scripted_openai_server.py --port 0 --model scripted
       prints `LISTENING <port>` on stdout once it accepts connections.

The reply is a fixed sentence citing source [1], padded to `--tokens` tokens.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

BEHAVIORS = ("ok", "silent", "malformed", "http500", "wrong_model", "die_mid", "drop_mid", "quote")
_FIRST_SOURCE = re.compile(r"<source id=\"1\"[^>]*>\n(.*?)\n</source>", re.DOTALL)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]")


@dataclass
class Script:
    model_ids: list[str]
    tokens: int = 24
    token_delay_ms: float = 0.0
    die_after: int = 3
    behavior: str = "ok"
    requests: int = 0
    log: list[dict] = field(default_factory=list)


class HttpRequest:
    def __init__(self, method: str, path: str, headers: dict[str, str], body: bytes):
        self.method, self.path, self.headers, self.body = method, path, headers, body

    def json(self) -> dict:
        return json.loads(self.body or b"{}")


async def read_request(reader: asyncio.StreamReader) -> HttpRequest | None:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
    return HttpRequest(method, path.split("?", 1)[0], headers, body)


def response_head(status: str, content_type: str, length: int | None = None) -> bytes:
    """Streams are chunked, as real servers send them: a server that dies mid-answer then
    leaves an incomplete chunked body, not a stream that merely looks finished."""
    lines = [f"HTTP/1.1 {status}", f"Content-Type: {content_type}", "Connection: close"]
    lines.append(f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def json_response(status: str, payload: dict) -> bytes:
    body = json.dumps(payload).encode()
    return response_head(status, "application/json", len(body)) + body


def reply_words(count: int) -> list[str]:
    """The scripted answer: one token per list item, citing source [1]."""
    words = ["According", " to", " [1],", " the", " answer", " is"]
    while len(words) < count:
        words.append(" scripted" if len(words) % 2 else " text")
    return words[:max(count, 3)] + ["."]


def quoted_words(request: dict) -> list[str]:
    """The last sentence of source [1] in the request's last message, as tokens, no [n]."""
    messages = request.get("messages") or [{}]
    match = _FIRST_SOURCE.search(str(messages[-1].get("content", "")))
    sentences = _SENTENCE.findall(match.group(1)) if match else []
    words = (sentences[-1].strip() if sentences else "Nothing to quote.").split(" ")
    return [words[0], *(" " + word for word in words[1:])]


def http_chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def chunk(model: str, created: int, delta: dict, finish: str | None = None, usage: dict | None = None) -> bytes:
    payload = {
        "id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": created,
        "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage:
        payload["usage"] = usage
    return http_chunk(b"data: " + json.dumps(payload).encode() + b"\n\n")


async def stream_reply(writer: asyncio.StreamWriter, script: Script, request: dict) -> None:
    behavior = script.behavior
    model = "some-other-model" if behavior == "wrong_model" else request.get("model", "")
    words = quoted_words(request) if behavior == "quote" else reply_words(script.tokens)
    writer.write(response_head("200 OK", "text/event-stream"))
    created = int(time.time())
    writer.write(chunk(model, created, {"role": "assistant", "content": ""}))
    for i, word in enumerate(words):
        if behavior == "malformed" and i == script.die_after:
            writer.write(http_chunk(b"data: {this is not json\n\n") + http_chunk(b""))
            await writer.drain()
            return
        if behavior in ("die_mid", "drop_mid") and i == script.die_after:
            await writer.drain()
            if behavior == "die_mid":
                os._exit(3)
            writer.transport.abort()
            return
        writer.write(chunk(model, created, {"content": word}))
        await writer.drain()
        if script.token_delay_ms:
            await asyncio.sleep(script.token_delay_ms / 1000)
    prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in request.get("messages", []))
    usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(words),
             "total_tokens": prompt_tokens + len(words)}
    writer.write(chunk(model, created, {}, "stop", usage) + http_chunk(b"data: [DONE]\n\n") + http_chunk(b""))
    await writer.drain()


def blocking_reply(script: Script, request: dict) -> bytes:
    model = "some-other-model" if script.behavior == "wrong_model" else request.get("model", "")
    text = "".join(reply_words(script.tokens))
    return json_response("200 OK", {
        "id": "chatcmpl-scripted", "object": "chat.completion", "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": script.tokens, "total_tokens": 1 + script.tokens},
    })


async def chat_completion(writer: asyncio.StreamWriter, script: Script, request: HttpRequest) -> None:
    body = request.json()
    script.requests += 1
    script.log.append({"model": body.get("model"), "stream": bool(body.get("stream"))})
    del script.log[:-50]
    if script.behavior == "silent":
        await asyncio.sleep(3600)
        return
    if script.behavior == "http500":
        writer.write(json_response("500 Internal Server Error", {
            "error": {"message": "scripted internal error", "type": "server_error"}}))
        return
    if body.get("stream"):
        await stream_reply(writer, script, body)
    else:
        writer.write(blocking_reply(script, body))


def control(script: Script, request: HttpRequest) -> bytes:
    if request.method == "POST":
        changes = request.json()
        behavior = changes.get("behavior", script.behavior)
        if behavior not in BEHAVIORS:
            return json_response("400 Bad Request", {"error": f"behavior must be one of {BEHAVIORS}"})
        script.behavior = behavior
        for name in ("tokens", "token_delay_ms", "die_after"):
            if name in changes:
                setattr(script, name, type(getattr(script, name))(changes[name]))
    return json_response("200 OK", {"behavior": script.behavior, "requests": script.requests,
                                    "log": script.log})


async def handle(script: Script, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        request = await read_request(reader)
        if request.path.endswith("/models"):
            writer.write(json_response("200 OK", {"object": "list", "data": [
                {"id": m, "object": "model", "owned_by": "scripted"} for m in script.model_ids]}))
        elif request.path.endswith("/chat/completions"):
            await chat_completion(writer, script, request)
        elif request.path == "/control":
            writer.write(control(script, request))
        elif request.path == "/health":
            writer.write(json_response("200 OK", {"status": "ok"}))
        else:
            writer.write(json_response("404 Not Found", {"error": "not found"}))
        await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def serve(script: Script, port: int) -> None:
    server = await asyncio.start_server(lambda r, w: handle(script, r, w), "127.0.0.1", port, backlog=512)
    print(f"LISTENING {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


class ScriptedServerProcess:
    """Runs this server as a child process (for tests and the load benchmark).

    `restart()` comes back on the same port, as a model server restarted by its operator would.
    """

    def __init__(self, *args: str, port: int = 0, log: Path | None = None):
        self.args, self.port, self.process = list(args), port, None
        self.log = log or Path(os.devnull)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout_s: float = 20.0) -> "ScriptedServerProcess":
        command = [sys.executable, __file__, "--port", str(self.port), *self.args]
        with open(self.log, "ab") as errors:
            self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, start_new_session=True)
        line = self.process.stdout.readline().decode()  # "LISTENING <port>", or "" if it died
        if not line.startswith("LISTENING"):
            self.stop()
            raise RuntimeError(f"scripted server did not start on port {self.port}")
        self.port = int(line.split()[1])
        return self

    def control(self, **changes: object) -> dict:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/control",
                                         data=json.dumps(changes).encode(), method="POST")
        with urllib.request.urlopen(request, timeout=5) as reply:
            return json.loads(reply.read())

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        process.stdout.close()

    def restart(self) -> "ScriptedServerProcess":
        self.stop()
        return self.start()

    def __enter__(self) -> "ScriptedServerProcess":
        return self.start() if self.process is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--model", action="append", help="served model id (repeatable)")
    parser.add_argument("--behavior", choices=BEHAVIORS, default="ok")
    parser.add_argument("--tokens", type=int, default=24)
    parser.add_argument("--token-delay-ms", type=float, default=0.0)
    parser.add_argument("--die-after", type=int, default=3)
    args = parser.parse_args(argv)
    script = Script(args.model or ["scripted"], args.tokens, args.token_delay_ms, args.die_after, args.behavior)
    try:
        asyncio.run(serve(script, args.port))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
