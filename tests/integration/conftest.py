"""Shared, session-scoped fixtures for integration tests: real llama.cpp servers, started once.

CPU is scarce (2 cores for the whole suite), so every integration test reuses these servers
instead of starting its own. Servers start lazily, on the first `resolve`, and are stopped at
the end of the session; no process outlives the session.

Fixtures (all synchronous, so they work from any test's event loop):

- `embedded_settings` -> `Settings`: `backend="embedded"` (no discovery), a temporary
  `cache_dir`, the repository's prepared `models_dir` (`python -m ragstage.models.weights
  --prepare` assembled the Qwen files there), 1 thread and a 2048-token context per server.
  Mechanics tests run the two fastest bundled models, not the defaults (0.5B SLM, 1.5B LLM):
  the SLM role runs SmolLM2-135M-Instruct and the LLM role Qwen2.5-Coder-0.5B-Instruct.
  The defaults themselves are exercised by test_ask_command_subprocess.py (0.5B) and
  test_default_llm_answers.py (the 1.5B, once).
- `embedded_catalog` -> `ModelCatalog` over `embedded_settings`. `await
  embedded_catalog.resolve("slm")` gives the bundled SmolLM2-135M-Instruct (model id
  `smollm2-135m-instruct`), `resolve("llm")` the bundled Qwen2.5-Coder-0.5B-Instruct (`qwen2.5-coder-0.5b-instruct`).
  Pass it to answer()/Runtime code instead of building another catalog. A test that kills or
  restarts its server must leave it resolvable (`report_failure` + `resolve` restarts it).
- `foundry_standin` -> `FoundryStandin`: a llama.cpp server playing Foundry Local: it serves
  the bundled SmolLM2 under the variant id `phi-4-mini-instruct-generic-cpu:1` (what Foundry
  Local serves for the alias `phi-4-mini`). Use `standin.root_url` as `FOUNDRY_LOCAL_ENDPOINT`
  (no `/v1`, as the workshop sets it) or `standin.base_url` (with `/v1`).

Every test under tests/integration is marked `integration`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ragstage.knowledge import ChunkIndex, load_document
from ragstage.models import ModelCatalog
from ragstage.models.embedded import EmbeddedServer
from ragstage.models.weights import EmbeddedModelSpec, smollm2_path
from ragstage.settings import Settings

REPO = Path(__file__).resolve().parents[2]

# `auto` picks an embedded engine from what this machine has converted for ONNX Runtime: pin
# llama.cpp (also for the servers these tests start as subprocesses) so results do not depend on
# the conversion cache. The ONNX Runtime tests set their engine explicitly.
for _role in ("SLM", "LLM"):
    os.environ.setdefault(f"RAGSTAGE_{_role}_ENGINE", "llama.cpp")

FOUNDRY_VARIANT_ID = "phi-4-mini-instruct-generic-cpu:1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def index_of_files(tmp_path_factory: pytest.TempPathFactory) -> Callable[[dict[str, str], str], ChunkIndex]:
    """Writes {file name: text} into a fresh folder and indexes each file as a knowledge document."""

    def build(files: dict[str, str], folder_name: str) -> ChunkIndex:
        folder: Path = tmp_path_factory.mktemp(folder_name)
        index = ChunkIndex()
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
            index.add(load_document(folder / name, source=name))
        return index

    return build


@pytest.fixture(scope="session")
def embedded_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        _env_file=None,
        backend="embedded",
        cache_dir=tmp_path_factory.mktemp("ragstage-cache"),
        models_dir=REPO / ".ragstage" / "models",
        slm_bundled_model="smollm2-135m-instruct",
        llm_bundled_model="qwen2.5-coder-0.5b-instruct",
        embedded_threads=1,
        embedded_ctx_tokens=2048,
        start_embedded_at_launch=False,
    )


@pytest.fixture(scope="session")
def embedded_catalog(embedded_settings: Settings) -> Iterator[ModelCatalog]:
    catalog = ModelCatalog(embedded_settings)
    yield catalog
    catalog.close()


@dataclass(frozen=True)
class FoundryStandin:
    server: EmbeddedServer
    model_id: str

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def root_url(self) -> str:
        return self.server.base_url.removesuffix("/v1")


@pytest.fixture(scope="session")
def foundry_standin(embedded_settings: Settings) -> Iterator[FoundryStandin]:
    spec = EmbeddedModelSpec("slm", smollm2_path(), FOUNDRY_VARIANT_ID, "Foundry Local stand-in")
    server = EmbeddedServer(spec, embedded_settings)
    asyncio.run(server.start())
    yield FoundryStandin(server, FOUNDRY_VARIANT_ID)
    server.stop()
