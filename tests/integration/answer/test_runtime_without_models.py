"""The runtime comes up and answers (with a readable error) even when no model is reachable."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from ragstage.answer import StageFailed
from ragstage.runtime import Runtime
from ragstage.settings import Settings

pytestmark = pytest.mark.integration


def _dead_url() -> str:
    with socket.socket() as sock:  # a port nobody listens on once the socket is closed
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.delenv("FOUNDRY_LOCAL_ENDPOINT", raising=False)
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "lighthouse.md").write_text("# Lighthouse\n\nThe Harbor lighthouse was built in 1887.\n")
    (knowledge / "bakery.md").write_text("# Bakery\n\nThe corner bakery sells rye bread and closes on Mondays.\n")
    (knowledge / "park.md").write_text("# Park\n\nThe city park has a pond, a bandstand and old oak trees.\n")
    dead = _dead_url()
    return Settings(
        knowledge_dir=knowledge, cache_dir=tmp_path / "cache", backend="remote", score_floor=0.1,
        slm_base_url=dead, llm_base_url=dead, discovery_timeout_s=0.5,
    )  # fmt: skip


async def test_runtime_starts_without_a_model_and_says_why(settings: Settings) -> None:
    async with await Runtime.start(settings, warm_roles=("slm",)) as runtime:
        assert runtime.knowledge.index.chunk_count >= 1
        assert settings.slm_base_url.removesuffix("/v1") in runtime.launch_errors["slm"]


async def test_an_unreachable_model_gives_a_readable_error_not_an_exception(settings: Settings) -> None:
    async with await Runtime.start(settings, warm_roles=()) as runtime:
        events = [e async for e in runtime.answer_stream("When was the Harbor lighthouse built?")]
    failed = [e for e in events if isinstance(e, StageFailed)]
    result = events[-1].result
    assert len(failed) == 1 and result.answered_by_model
    assert result.text == "" and result.error and "slm" in result.error
    assert result.hits and result.hits[0].chunk.source == "lighthouse.md"
