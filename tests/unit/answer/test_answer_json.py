"""The one JSON shape of an answer (`AnswerResult.to_json`), written by `ragstage ask --json`,
the browser page's `done` event and the eval report, as documented in docs/ARCHITECTURE.md."""

from __future__ import annotations

import json

from ragstage.answer import answer

ANSWER_KEYS = {
    "question", "mode", "role", "text", "answered_by_model", "error", "citations", "prompt_sources", "hits",
    "escalation", "attribution", "timings", "usage", "cost_usd", "stages", "compared",
}
STAGE_KEYS = {
    "stage", "role", "model", "model_id", "backend", "engine", "prep_ms", "retrieval_ms", "ttft_ms", "decode_ms", "total_ms",
    "decode_tokens_per_s", "prompt_tokens", "completion_tokens", "usage_source", "cost_usd", "finish_reason",
}
PASSAGE_KEYS = {"n", "chunk_id", "source", "title", "heading", "page", "score"}


async def _answer(model, index, options, question="Which embedded model?"):
    return await answer(question, index=index, catalog=model, options=options, stream_fn=model.stream_chat)


async def test_a_hybrid_answer_has_the_documented_keys_and_consistent_numbers(model, index, make_options) -> None:
    model.queue("slm", "short draft")
    model.queue("llm", "The embedded model is SmolLM2 [1].")
    payload = json.loads(json.dumps((await _answer(model, index, make_options(mode="hybrid"))).to_json()))
    assert set(payload) == ANSWER_KEYS
    assert payload["text"] == "The embedded model is SmolLM2 [1]." and payload["mode"] == "hybrid"
    assert set(payload["citations"][0]) == PASSAGE_KEYS | {"text", "origin"}
    assert {k: payload["citations"][0][k] for k in ("n", "source", "chunk_id")} == {"n": 1, "source": "doc1.md", "chunk_id": "doc1.md#0001"}
    assert [p["chunk_id"] for p in payload["prompt_sources"]] == ["doc1.md#0001", "doc2.md#0002"]  # doc3 is below the floor
    assert [p["n"] for p in payload["hits"]] == [1, 2, 3]
    assert set(payload["timings"]) == {"retrieval_ms", "ttft_ms", "decode_ms", "total_ms"}
    assert set(payload["usage"]) == {"prompt_tokens", "completion_tokens", "source"}
    assert payload["escalation"]["escalated"] is True and payload["escalation"]["reason"]
    assert payload["escalation"]["support_score"] == 0.0  # no passage says "short draft"
    stages = payload["stages"]
    assert [set(s) for s in stages] == [STAGE_KEYS, STAGE_KEYS]
    assert [(s["stage"], s["role"], s["model_id"], s["backend"]) for s in stages] == [
        ("draft", "slm", "fake-slm", "embedded"), ("refine", "llm", "fake-llm", "embedded")]
    assert payload["usage"]["completion_tokens"] == sum(s["completion_tokens"] for s in stages)
    assert payload["timings"]["ttft_ms"] == stages[0]["ttft_ms"]
    assert payload["cost_usd"] == sum(s["cost_usd"] for s in stages) > 0


async def test_compare_nests_one_answer_per_role(model, index, make_options) -> None:
    model.queue("slm", "SmolLM2 [1].")
    model.queue("llm", "Qwen [2].")
    payload = (await _answer(model, index, make_options(mode="compare"))).to_json()
    assert [(c["role"], c["text"]) for c in payload["compared"]] == [("slm", "SmolLM2 [1]."), ("llm", "Qwen [2].")]
    assert all(set(c) == ANSWER_KEYS for c in payload["compared"])


async def test_an_uncovered_question_says_no_model_was_called(model, index, make_options) -> None:
    payload = (await _answer(model, index, make_options(score_floor=50.0))).to_json()
    assert payload["answered_by_model"] is False and payload["stages"] == [] and payload["prompt_sources"] == []
    assert len(payload["hits"]) == 3 and payload["usage"]["completion_tokens"] == 0


async def test_attribution_is_in_the_json_with_model_written_and_computed_citations_apart(model, index, make_options) -> None:
    """The model cites [2] for a fact of passage 1 and nothing for a fact of passage 2: the wrong
    mark is rejected, both passages are cited as computed, each sentence says which passage
    supports it and where in that passage (offsets to highlight)."""
    text = ("The embedded SLM is SmolLM2-135M-Instruct, served by llama.cpp [2]. "
            "Hybrid mode drafts with the SLM and refines with the LLM. Bananas grow on tall trees.")
    model.queue("slm", text)
    result = await _answer(model, index, make_options())
    payload = json.loads(json.dumps(result.to_json()))
    assert [(c["n"], c["origin"], c["source"]) for c in payload["citations"]] == [
        (1, "computed", "doc1.md"), (2, "computed", "doc2.md")]
    attribution = payload["attribution"]
    first, second, third = attribution["sentences"]
    assert set(first) == {"start", "end", "text", "claim", "supported", "written", "rejected", "citations"}
    assert text[first["start"]:first["end"]] == first["text"] and first["text"].endswith("[2].")
    assert (first["written"], first["rejected"], first["supported"]) == ([2], [2], True)
    assert [(c["n"], c["origin"]) for c in first["citations"]] == [(1, "computed")]
    passage = index.hits[0].chunk.text
    span = first["citations"][0]["passage_sentences"][0]
    assert passage[span["start"]:span["end"]] == passage  # the passage is that one sentence
    assert [(c["n"], c["origin"]) for c in second["citations"]] == [(2, "computed")]
    assert third["claim"] and not third["supported"] and third["citations"] == []
    assert attribution["support_score"] == round(2 / 3, 3)


async def test_a_kept_model_citation_is_marked_as_written_by_the_model(model, index, make_options) -> None:
    model.queue("slm", "Hybrid mode drafts with the SLM and refines with the LLM [2].")
    result = await _answer(model, index, make_options())
    assert [(c.n, c.origin) for c in result.citations] == [(2, "model")]
    assert result.to_json()["citations"][0]["origin"] == "model"
