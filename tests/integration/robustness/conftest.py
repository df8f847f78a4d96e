"""Fixtures for the fault and fuzzing tests (shared values live in fault_kit.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fault_kit import ScriptedServerProcess, write_knowledge


@pytest.fixture
def knowledge_folder(tmp_path: Path) -> Path:
    return write_knowledge(tmp_path / "knowledge")


@pytest.fixture
def scripted(tmp_path: Path) -> Iterator[ScriptedServerProcess]:
    server = ScriptedServerProcess("--model", "scripted-slm", "--model", "scripted-llm", "--tokens", "12",
                                   log=tmp_path / "scripted.log")
    with server:
        yield server
    assert not server.alive()
