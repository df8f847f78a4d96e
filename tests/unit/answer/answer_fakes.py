"""A queue-driven fake model and a fake index for the answer pipeline's unit tests.

`ScriptedModel` plays both parts the pipeline talks to: the catalog (`resolve`) and the
streaming call (`stream_chat`, passed as `stream_fn`). Each call pops the next script queued for
its role, records what it was sent, and yields the scripted tokens, then a `Completion` or the
scripted `ModelError`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from ragstage.knowledge import Chunk, Hit
from ragstage.metrics import CallTimings, TokenUsage
from ragstage.models import Completion, GenerationParams, ModelEndpoint, ModelError


@dataclass(frozen=True)
class Script:
    tokens: tuple[str, ...]
    error: ModelError | None = None  # raised after the tokens
    token_delay_s: float = 0.0  # lets concurrent stages interleave


@dataclass(frozen=True)
class Call:
    role: str
    messages: list[dict]
    params: GenerationParams


@dataclass
class ScriptedModel:
    base_urls: dict[str, str] = field(
        default_factory=lambda: {"slm": "http://127.0.0.1:9001/v1", "llm": "http://127.0.0.1:9002/v1"}
    )
    unreachable: dict[str, ModelError] = field(default_factory=dict)
    scripts: dict[str, deque[Script]] = field(default_factory=lambda: {"slm": deque(), "llm": deque()})
    calls: list[Call] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    closed_early: list[str] = field(default_factory=list)
    failures: list[tuple[str, ModelError | None]] = field(default_factory=list)
    active: int = 0
    max_active: int = 0

    def queue(self, role: str, text: str, *, error: ModelError | None = None, token_delay_s: float = 0.0) -> None:
        """Script the next call of `role`: `text` streamed word by word."""
        first, *rest = text.split(" ")
        self.scripts[role].append(Script((first, *(" " + word for word in rest)), error, token_delay_s))

    async def resolve(self, role: str) -> ModelEndpoint:
        self.resolved.append(role)
        if role in self.unreachable:
            raise self.unreachable[role]
        return ModelEndpoint(role, f"fake-{role}", self.base_urls[role], "embedded", f"Fake{role.upper()}", "scripted")

    def report_failure(self, role: str, error: ModelError | None = None) -> None:
        self.failures.append((role, error))

    async def stream_chat(self, endpoint: ModelEndpoint, messages: list[dict], params: GenerationParams) -> AsyncIterator[str | Completion]:
        self.calls.append(Call(endpoint.role, messages, params))
        script = self.scripts[endpoint.role].popleft()
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        finished = False
        try:
            for token in script.tokens:
                await asyncio.sleep(script.token_delay_s)
                yield token
            if script.error is not None:
                finished = True
                raise script.error
            text = "".join(script.tokens)
            finished = True
            yield Completion(
                text=text,
                finish_reason="stop",
                model_id=endpoint.model_id,
                backend=endpoint.backend,
                usage=TokenUsage(100, len(script.tokens), "counted"),
                timings=CallTimings(ttft_ms=5.0, decode_ms=10.0, total_ms=15.0),
                prep_ms=0.5,
            )
        finally:
            self.active -= 1
            if not finished:
                self.closed_early.append(endpoint.role)


def make_hit(rank: int, text: str, score: float = 5.0, *, source: str = "", heading: str = "", page: int | None = None) -> Hit:
    source = source or f"doc{rank}.md"
    chunk = Chunk(
        chunk_id=f"{source}#{rank:04d}",
        source=source,
        title=source.rsplit(".", 1)[0].title(),
        heading=heading,
        page=page,
        start_char=0,
        end_char=len(text),
        text=text,
        token_count=len(text.split()),
    )
    return Hit(rank=rank, score=score, chunk=chunk)


@dataclass
class FakeIndex:
    hits: list[Hit]
    queries: list[str] = field(default_factory=list)
    document_count: int = 20  # a knowledge base large enough for the BM25 score floor

    def search(self, query: str, k: int) -> list[Hit]:
        self.queries.append(query)
        return self.hits[:k]


