"""Unit tests do not depend on what this machine has converted: every test sees an empty ONNX
Runtime conversion cache (RAGSTAGE_ONNX_DIR) unless it builds its own, and the engine settings'
defaults (the integration and e2e conftests pin llama.cpp in the environment)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _empty_onnx_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAGSTAGE_ONNX_DIR", str(tmp_path_factory.mktemp("onnx-cache")))
    for role in ("SLM", "LLM"):
        monkeypatch.delenv(f"RAGSTAGE_{role}_ENGINE", raising=False)
