"""Fakes for the chat handlers: a Chainlit context that records what the page would receive,
and a runtime whose answer stream plays scripted events (queue-driven, one script per question).

The events, results, chunks and metrics are the real ragstage values: only the model server and
the browser are replaced.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from chainlit.context import ChainlitContext, context_var
from chainlit.emitter import BaseChainlitEmitter
from chainlit.session import HTTPSession

from ragstage.answer import AnswerResult, Citation, Done, Retrieved, StageFinished, StageStarted, Token
from ragstage.knowledge import Chunk, ChunkIndex, Hit
from ragstage.metrics import CallTimings, StageMetrics, TokenUsage, TurnMetrics
from ragstage.models import ModelEndpoint
from ragstage.settings import Settings
from ragstage.ui.services import ChatServices, install_services

PAUSE = object()  # in a script: wait until the test releases the stream


def new_page() -> RecordingEmitter:
    """A fresh browser tab: its own Chainlit session and a recorder of what it receives."""
    session = HTTPSession(id=str(uuid.uuid4()), client_type="webapp", thread_id=str(uuid.uuid4()))
    emitter = RecordingEmitter(session)
    context_var.set(ChainlitContext(session, emitter))
    return emitter


class RecordingEmitter(BaseChainlitEmitter):
    """Everything the server would send to the page, in order."""

    def __init__(self, session: Any) -> None:
        super().__init__(session)
        self.events: list[tuple[str, Any]] = []

    async def emit(self, event: str, data: Any) -> None:
        self.events.append((event, data))

    async def send_step(self, step_dict: dict) -> None:
        self.events.append(("send_step", dict(step_dict)))

    async def update_step(self, step_dict: dict) -> None:
        self.events.append(("update_step", dict(step_dict)))

    async def stream_start(self, step_dict: dict) -> None:
        self.events.append(("stream_start", dict(step_dict)))

    async def send_token(self, id: str, token: str, is_sequence: bool = False, is_input: bool = False) -> None:
        self.events.append(("send_token", {"id": id, "token": token}))

    async def send_element(self, element_dict: dict) -> None:
        recorded = dict(element_dict)
        stored = self.session.files.get(recorded.get("chainlitKey") or "")
        if stored:  # what the browser would fetch for the element's content
            recorded["content"] = Path(stored["path"]).read_text(encoding="utf-8")
        self.events.append(("send_element", recorded))

    def set_chat_settings(self, settings: dict) -> None:
        self.events.append(("set_chat_settings", dict(settings)))

    async def task_start(self) -> None:
        self.events.append(("task_start", None))

    async def task_end(self) -> None:
        self.events.append(("task_end", None))

    # --- views used by the assertions ------------------------------------------------
    def of(self, kind: str) -> list[Any]:
        return [data for k, data in self.events if k == kind]

    def steps_named(self) -> list[str]:
        """Names of the steps (not messages) in the order they first reached the page."""
        seen: list[str] = []
        for kind, data in self.events:
            if kind in ("send_step", "stream_start") and not data["type"].endswith("_message"):
                if data["id"] not in {s[0] for s in seen}:
                    seen.append((data["id"], data["name"]))
        return [name for _, name in seen]

    def final(self, step_id: str) -> dict:
        """The last full state of a step or message."""
        states = [d for k, d in self.events if k in ("send_step", "update_step", "stream_start") and d["id"] == step_id]
        return states[-1]

    def messages(self) -> list[dict]:
        """Final state of every message, in first-appearance order."""
        order: list[str] = []
        for kind, data in self.events:
            if kind in ("send_step", "stream_start", "update_step") and data["type"].endswith("_message"):
                if data["id"] not in order:
                    order.append(data["id"])
        return [self.final(i) for i in order]


@dataclass
class AnswerCall:
    question: str
    options: Any
    history: tuple
    index: Any


@dataclass
class ScriptedRuntime:
    """The `Runtime` surface the UI uses; `answer_stream` plays the next queued script."""

    settings: Settings
    knowledge: Any
    catalog: Any
    launch_errors: dict[str, str] = field(default_factory=dict)
    scripts: asyncio.Queue = field(default_factory=asyncio.Queue)
    calls: list[AnswerCall] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    closed_streams: int = 0
    closed: bool = False

    def play(self, *events: Any) -> None:
        self.scripts.put_nowait(list(events))

    async def answer_stream(self, question, options=None, history=(), index=None):
        self.calls.append(AnswerCall(question, options, tuple(history), index))
        script = self.scripts.get_nowait()
        try:
            for item in script:
                if item is PAUSE:
                    await self.release.wait()
                elif isinstance(item, BaseException):
                    raise item
                else:
                    yield item
        finally:
            self.closed_streams += 1

    async def aclose(self) -> None:
        self.closed = True


@contextmanager
def serving(settings: Settings, knowledge: Any) -> Iterator[ScriptedRuntime]:
    """A scripted runtime over `knowledge`, installed as this process's chat services."""
    fake = ScriptedRuntime(settings=settings, knowledge=knowledge,
                           catalog=FakeCatalog({"slm": endpoint("slm"), "llm": endpoint("llm")}))

    async def start() -> ScriptedRuntime:
        return fake

    previous = install_services(ChatServices(start_runtime=start))
    try:
        yield fake
    finally:
        install_services(previous)


class FakeCatalog:
    def __init__(self, endpoints: dict[str, ModelEndpoint]) -> None:
        self.endpoints = endpoints

    def describe(self) -> dict[str, ModelEndpoint | None]:
        return dict(self.endpoints)

    async def resolve(self, role: str) -> ModelEndpoint:
        return self.endpoints[role]


def endpoint(role: str) -> ModelEndpoint:
    name = {"slm": "Qwen2.5-Coder-0.5B-Instruct", "llm": "Qwen2.5-Coder-1.5B-Instruct"}[role]
    return ModelEndpoint(role=role, model_id=name.lower(), base_url="http://127.0.0.1:9/v1", backend="embedded",
                         display_name=name, note="embedded; Foundry Local not reachable at http://localhost:5273/v1")


def knowledge_of(index: ChunkIndex) -> Any:
    return SimpleNamespace(index=index, report=SimpleNamespace(skipped=[], warnings=[]))


def chunk(source: str, text: str, *, heading: str = "", page: int | None = None, ordinal: int = 0) -> Chunk:
    return Chunk(chunk_id=f"{source}#{ordinal:04d}", source=source, title=source, heading=heading, page=page,
                 start_char=0, end_char=len(text), text=text, token_count=len(text.split()))


def stage_metrics(stage: str, role: str, *, ttft_ms: float, total_ms: float, completion: int = 20) -> StageMetrics:
    return StageMetrics(stage=stage, role=role, model_label=endpoint(role).display_name, prep_ms=1.0,
                        retrieval_ms=2.0, timings=CallTimings(ttft_ms=ttft_ms, decode_ms=total_ms - ttft_ms, total_ms=total_ms),
                        usage=TokenUsage(300, completion, "reported"), cost_usd=0.0000123)


def result(question: str, text: str, hits: tuple[Hit, ...], stages: tuple[StageMetrics, ...], *, mode: str = "slm",
           cited: tuple[int, ...] = (), error: str | None = None, compared: tuple[AnswerResult, ...] = (),
           escalation: Any = None, answered: bool = True, role: str | None = None,
           prompt_sources: tuple[Hit, ...] | None = None) -> AnswerResult:
    """`prompt_sources` defaults to every hit (all fitted the prompt), none when no model was called."""
    citations = tuple(Citation(n, hits[n - 1].chunk, hits[n - 1].score) for n in cited)
    metrics = TurnMetrics(retrieval_ms=2.0, stages=stages, total_ms=sum(s.timings.total_ms for s in stages) + 2.0)
    given = (hits if answered else ()) if prompt_sources is None else prompt_sources
    return AnswerResult(question=question, mode=mode, text=text, hits=hits, citations=citations, metrics=metrics,
                        escalation=escalation, answered_by_model=answered, compared=compared, error=error, role=role,
                        prompt_sources=given)


def simple_answer(question: str, hits: tuple[Hit, ...], text: str = "Retrieval keeps small models factual [1].",
                  cited: tuple[int, ...] = (1,)) -> list[Any]:
    """The events of a plain SLM answer streamed in three tokens."""
    stage = stage_metrics("answer", "slm", ttft_ms=400, total_ms=1200)
    pieces = [text[: len(text) // 3], text[len(text) // 3 : 2 * len(text) // 3], text[2 * len(text) // 3 :]]
    return [
        Retrieved(hits, 2.0),
        StageStarted("answer", endpoint("slm")),
        *[Token("answer", p) for p in pieces],
        StageFinished("answer", stage, text),
        Done(result(question, text, hits, (stage,), cited=cited)),
    ]
