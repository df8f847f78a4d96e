"""What `ragstage ask` prints: readable streams for concurrent stages and a summary (its --json
shape is `AnswerResult.to_json()`, tested in test_answer_json.py)."""

from __future__ import annotations

import io

from answer_fakes import make_hit

from ragstage.answer import Done, StageFinished, Token, answer_stream
from ragstage.cli.ask_command import StreamPrinter, print_summary


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


async def test_the_summary_lists_cited_sources_and_metrics(model, index, make_options) -> None:
    index.hits[0] = make_hit(1, "Press the red button to start the pump.", 9.0, source="manual.pdf", heading="Setup", page=4)
    model.queue("slm", "Press the red button to start the pump [1].")
    events = await _run(model, index, make_options())
    assert isinstance(events[-1], Done) and any(isinstance(e, StageFinished) for e in events)
    out = io.StringIO()
    print_summary(events[-1].result, out)
    text = out.getvalue()
    assert "Sources (cited by the model):\n  [1] manual.pdf › Setup (p. 4)" in text
    assert "support score 100%" in text
    assert "answer (slm) · first token 5 ms" in text and "retrieval" in text


async def test_the_summary_names_computed_citations_corrections_and_unsupported_sentences(model, index, make_options) -> None:
    model.queue("slm", "Hybrid mode drafts with the SLM and refines with the LLM [1]. Bananas grow on tall trees.")
    events = await _run(model, index, make_options())
    out = io.StringIO()
    print_summary(events[-1].result, out)
    text = out.getvalue()
    assert "Sources found by sentence attribution (the model did not cite them):\n  [2] doc2.md" in text
    assert "corrected [1] -> [2]: \"Hybrid mode drafts" in text
    assert 'unsupported by the sources: "Bananas grow on tall trees."' in text
    assert "support score 50%" in text
