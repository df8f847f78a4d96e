"""What `ragstage ask` prints: readable streams for concurrent stages, and its --json shape."""

from __future__ import annotations

import io

from answer_fakes import make_hit

from ragstage.answer import Done, StageFinished, StageStarted, Token, answer_stream
from ragstage.cli.ask_command import StreamPrinter, print_summary, result_json


async def _run(model, index, options):
    events = [e async for e in answer_stream("Which model?", index=index, catalog=model, options=options, stream_fn=model.stream_chat)]
    return events


async def test_concurrent_compare_tokens_are_printed_one_stage_at_a_time(model, index, make_options) -> None:
    model.queue("slm", "alpha beta gamma", token_delay_s=0.001)
    model.queue("llm", "one two three four", token_delay_s=0.001)
    events = await _run(model, index, make_options(mode="compare", compare_concurrently=True))
    stages_in_order = [e.stage for e in events if isinstance(e, Token)]
    assert stages_in_order != sorted(stages_in_order, key=["slm", "llm"].index), "the fake interleaves"
    out = io.StringIO()
    printer = StreamPrinter(out, show_headers=True)
    for event in events:
        printer.show(event)
    text = out.getvalue()
    assert text == (
        "── SLM · FakeSLM (scripted) ──\nalpha beta gamma\n\n"
        "── LLM · FakeLLM (scripted) ──\none two three four\n\n"
    )


async def test_hybrid_json_has_the_documented_keys(model, index, make_options) -> None:
    model.queue("slm", "short draft")
    model.queue("llm", "The embedded model is SmolLM2 [1].")
    events = await _run(model, index, make_options(mode="hybrid"))
    endpoints = {e.endpoint.role: e.endpoint for e in events if isinstance(e, StageStarted)}
    payload = result_json(events[-1].result, endpoints)
    assert payload["answer"] == "The embedded model is SmolLM2 [1]." and payload["mode"] == "hybrid"
    assert {k: payload["citations"][0][k] for k in ("n", "source", "chunk_id")} == {"n": 1, "source": "doc1.md", "chunk_id": "doc1.md#0001"}
    assert set(payload["timings"]) == {"retrieval_ms", "ttft_ms", "decode_ms", "total_ms"}
    assert set(payload["usage"]) == {"prompt_tokens", "completion_tokens", "source"}
    assert [(m["role"], m["id"], m["backend"]) for m in payload["models"]] == [("slm", "fake-slm", "embedded"), ("llm", "fake-llm", "embedded")]
    assert payload["escalated"] is True and [s["stage"] for s in payload["stages"]] == ["draft", "refine"]
    assert payload["usage"]["completion_tokens"] == sum(s["completion_tokens"] for s in payload["stages"])


async def test_the_summary_lists_cited_sources_and_metrics(model, index, make_options) -> None:
    index.hits[0] = make_hit(1, "Manual text.", 9.0, source="manual.pdf", heading="Setup", page=4)
    model.queue("slm", "See the manual [1].")
    events = await _run(model, index, make_options())
    assert isinstance(events[-1], Done) and any(isinstance(e, StageFinished) for e in events)
    out = io.StringIO()
    print_summary(events[-1].result, out)
    text = out.getvalue()
    assert "[1] manual.pdf › Setup (p. 4)" in text
    assert "answer (slm) · first token 5 ms" in text and "retrieval" in text
