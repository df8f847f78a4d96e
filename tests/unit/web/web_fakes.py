"""A bare FastAPI app with the page's routes, a real knowledge index, and a scripted model.

The scripted model is the answer pipeline's own seam (`answer_stream(stream_fn=...)`): everything between
the HTTP request and the model call (validation, indexing, retrieval, prompt, SSE) is real.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from types import SimpleNamespace

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from ragstage.answer import answer_stream
from ragstage.knowledge import ChunkIndex, load_bytes
from ragstage.metrics import CallTimings, TokenUsage
from ragstage.models import Completion, GenerationParams, ModelEndpoint
from ragstage.runtime import Runtime
from ragstage.settings import Settings
from ragstage.web import install_routes

KB_FACT = "The office cat is called Pixel and sleeps on the printer."
NAMES = {"slm": "Tiny-SLM-1B", "llm": "Big-LLM-20B"}


class ScriptedCatalog:
    async def resolve(self, role: str) -> ModelEndpoint:
        return ModelEndpoint(role, f"{role}-id", "http://127.0.0.1:9/v1", "embedded", NAMES[role], "scripted")

    def report_failure(self, role: str, error: object = None) -> None:
        return None

    def describe(self) -> dict:
        return {}

    async def aclose(self) -> None:
        return None


@dataclass
class Script:
    """What the scripted model says, and what it was asked."""

    pieces: list[str] = field(default_factory=lambda: ["The code word ", "is BLUEFALCON [1]."])
    calls: list[tuple[ModelEndpoint, list[dict], GenerationParams]] = field(default_factory=list)

    async def stream(self, endpoint: ModelEndpoint, messages: list[dict], params, **_: object):
        self.calls.append((endpoint, messages, params))
        for piece in self.pieces:
            yield piece
        text = "".join(self.pieces)
        yield Completion(text, "stop", endpoint.model_id, endpoint.backend,
                         TokenUsage(120, len(self.pieces), "counted"), CallTimings(5.0, 7.0, 12.0), 0.5)


class ScriptedRuntime(Runtime):
    def __init__(self, settings: Settings, index: ChunkIndex, script: Script, catalog=None):
        super().__init__(settings, SimpleNamespace(index=index), catalog or ScriptedCatalog())
        self.script = script

    def answer_stream(self, question, options=None, history=(), index=None):
        return answer_stream(question, index=index if index is not None else self.knowledge.index,
                             catalog=self.catalog, options=options or self.options(), history=history,
                             stream_fn=self.script.stream)


def kb_index() -> ChunkIndex:
    index = ChunkIndex()
    index.add(load_bytes("cats.md", f"# Office\n\n{KB_FACT}\n".encode(), source="cats.md"))
    for n, topic in enumerate(["Invoices are paid monthly.", "The garden has tomatoes.",
                               "Trains leave at noon.", "Backups run nightly."]):
        index.add(load_bytes(f"other{n}.md", topic.encode(), source=f"other{n}.md"))
    return index


def page_app(runtime: Runtime) -> FastAPI:
    """Like Chainlit: a catch-all page route exists before the page's routes are installed."""
    app = FastAPI()

    @app.get("/{full_path:path}")
    async def catch_all(full_path: str) -> PlainTextResponse:
        return PlainTextResponse(f"catch-all:{full_path}")

    async def get_runtime() -> Runtime:
        return runtime

    install_routes(app, get_runtime)
    return app


def make_settings(tmp_path, **overrides) -> Settings:
    values = dict(knowledge_dir=tmp_path, cache_dir=tmp_path / "cache", request_retries=0)
    return Settings(_env_file=None, **(values | overrides))


def sse_events(body: str) -> list[tuple[str, dict]]:
    events = []
    for frame in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in frame.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events
