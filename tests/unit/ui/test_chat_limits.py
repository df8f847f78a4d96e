"""Chat answers count against the same generation limits as the browser page's streams."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from ui_fakes import PAUSE, endpoint, simple_answer

from ragstage.answer import Retrieved, StageStarted, Token
from ragstage.ui import chat, security
from ragstage.web.guard import GenerationLimiter


@pytest.fixture
def limiter(monkeypatch) -> GenerationLimiter:
    limiter = GenerationLimiter(per_client=1, total=4)
    monkeypatch.setattr(security, "_limiter", limiter)
    return limiter


async def ask(text: str) -> None:
    await chat.handle_message(SimpleNamespace(content=text, elements=[]))


async def test_a_second_answer_while_one_runs_is_refused_with_a_message_and_the_slot_comes_back(page, runtime, limiter):
    hits = tuple(runtime.knowledge.index.search("BM25 retrieval factual", 2))
    runtime.play(Retrieved(hits, 1.0), StageStarted("answer", endpoint("slm")), Token("answer", "Half"), PAUSE)
    first = asyncio.create_task(ask("first question"))
    while not page.of("stream_start"):
        await asyncio.sleep(0.01)
    assert limiter.running == 1

    await ask("second question")
    refusals = [m["output"] for m in page.messages() if m["output"].startswith("**Not answered now:**")]
    assert refusals and "wait for one to finish" in refusals[0]
    assert len(runtime.calls) == 1  # the second question never reached the model

    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert limiter.running == 0
    runtime.play(*simple_answer("q", hits))
    await ask("third question")
    assert len(runtime.calls) == 2
