"""The real ONNX Runtime engine: our onnxruntime-genai server, started by the catalog on the
SmolLM2 conversion that `scripts/setup.py --test` makes once per machine (in ~/.cache/ragstage),
answering through the same pipeline, with the same facts and checks, as the llama.cpp tests."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest
from test_answer_embedded import (  # the same facts, question and checks as the llama.cpp engine
    _collect,
    _options,
    assert_consistent_timings,
    assert_grounded_in_the_right_file,
    facts_index,  # noqa: F401  (a fixture)
)

from ragstage.answer import Done, Token
from ragstage.models import ModelCatalog
from ragstage.models.engines import served_spec
from ragstage.models.onnx_models import OnnxModelMissing
from ragstage.models.weights import smollm2_path
from ragstage.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def onnx_catalog(embedded_settings: Settings) -> Iterator[ModelCatalog]:
    settings = embedded_settings.model_copy(update={"slm_engine": "onnxruntime", "slm_gguf": smollm2_path()})
    try:
        served_spec("slm", settings)
    except OnnxModelMissing as err:
        pytest.fail(f"{err}; `python3 scripts/setup.py --test` makes it")
    catalog = ModelCatalog(settings)
    yield catalog
    catalog.close()


async def test_onnx_runtime_answers_a_grounded_question_through_the_same_pipeline(facts_index, onnx_catalog) -> None:
    events = await _collect(facts_index, onnx_catalog, _options(max_answer_tokens=32))
    tokens = [e for e in events if isinstance(e, Token)]
    result = events[-1].result
    assert isinstance(events[-1], Done) and result.error is None and result.answered_by_model
    assert len(tokens) > 1 and "".join(t.text for t in tokens) == result.text
    assert "1887" in result.text, f"answered from the lighthouse passage: {result.text!r}"
    assert_grounded_in_the_right_file(result)
    (stage,) = result.metrics.stages
    assert stage.engine == "onnxruntime" and "onnxruntime" in stage.model_label
    assert stage.usage.source == "reported", "our server reports usage in the stream"
    assert_consistent_timings(stage)
    assert stage.to_json()["engine"] == "onnxruntime"


async def test_a_dead_onnx_server_is_restarted_on_the_next_question(facts_index, onnx_catalog) -> None:
    first = await onnx_catalog.resolve("slm")
    server = onnx_catalog.embedded_server("slm")
    assert first.engine == "onnxruntime" and server is not None and server.pid
    os.kill(server.pid, signal.SIGKILL)
    server.process.wait()
    events = await _collect(facts_index, onnx_catalog, _options(max_answer_tokens=8))
    result = events[-1].result
    assert result.error is None and result.answered_by_model and server.starts == 2
    assert server.is_alive()
