"""Each mode's event stream, the result it ends with, and how failures and cancellation behave."""

from __future__ import annotations

import asyncio

import pytest

from ragstage.answer import (
    MODES,
    NOT_COVERED,
    Done,
    Retrieved,
    StageFailed,
    StageFinished,
    StageStarted,
    Token,
    answer,
    answer_stream,
)
from ragstage.models import ModelUnreachable, ServerError

DRAFT_OK = "SmolLM2-135M-Instruct is the embedded small model served by llama.cpp [1]."
REFINED = "The embedded SLM is SmolLM2-135M-Instruct [1]; hybrid mode refines drafts [2]."


async def _events(model, index, options, question="Which embedded model?", history=()):
    return [
        event
        async for event in answer_stream(
            question, index=index, catalog=model, options=options, history=history, stream_fn=model.stream_chat
        )
    ]


def _shape(events) -> list[str]:
    """Event kinds with their stage, consecutive tokens of a stage collapsed."""
    shape: list[str] = []
    for event in events:
        name = type(event).__name__
        item = f"{name}:{event.stage}" if hasattr(event, "stage") else name
        if not shape or shape[-1] != item or name != "Token":
            shape.append(item)
    return shape


async def test_slm_mode_streams_tokens_then_ends_with_a_cited_result(model, index, make_options) -> None:
    model.queue("slm", DRAFT_OK)
    events = await _events(model, index, make_options(mode="slm"))
    assert _shape(events) == ["Retrieved", "StageStarted:answer", "Token:answer", "StageFinished:answer", "Done"]
    result = events[-1].result
    assert "".join(e.text for e in events if isinstance(e, Token)) == DRAFT_OK == result.text
    assert [(c.n, c.chunk.chunk_id) for c in result.citations] == [(1, "doc1.md#0001")]
    assert result.answered_by_model and result.error is None and result.escalation is None
    assert [s.role for s in result.metrics.stages] == ["slm"]
    assert result.metrics.usage.completion_tokens == len(DRAFT_OK.split(" "))
    assert result.metrics.cost_usd == pytest.approx(result.metrics.stages[0].cost_usd) and result.metrics.cost_usd > 0
    assert model.calls[0].params.max_tokens == 64


async def test_echoed_source_tags_leave_the_answer_and_become_citations(model, index, make_options) -> None:
    model.queue("slm", 'The embedded model:\n<source id="1" title="Embedded">\nSmolLM2-135M-Instruct.</source>')
    result = (await _events(model, index, make_options(mode="slm")))[-1].result
    assert result.text == "The embedded model:\n[1]\nSmolLM2-135M-Instruct."
    assert [(c.n, c.chunk.chunk_id) for c in result.citations] == [(1, "doc1.md#0001")]


async def test_llm_mode_uses_the_llm_role_and_its_price(model, index, make_options) -> None:
    model.queue("llm", REFINED)
    result = await answer("Which?", index=index, catalog=model, options=make_options(mode="llm"), stream_fn=model.stream_chat)
    stage = result.metrics.stages[0]
    assert stage.role == "llm" and stage.stage == "answer"
    assert stage.cost_usd == pytest.approx((100 * 1.25 + stage.usage.completion_tokens * 5.0) / 1e6)


async def test_low_scoring_hits_are_not_offered_as_sources(model, index, make_options) -> None:
    model.queue("slm", DRAFT_OK)
    await _events(model, index, make_options())
    user = model.calls[0].messages[-1]["content"]
    assert 'id="2"' in user and 'id="3"' not in user, "the 0.4-score hit is below the floor"


async def test_no_relevant_hit_answers_not_covered_without_calling_a_model(model, index, make_options) -> None:
    index.hits = [h for h in index.hits if h.score < 1.0]
    events = await _events(model, index, make_options(mode="hybrid"))
    assert _shape(events) == ["Retrieved", "Done"]
    result = events[-1].result
    assert result.text == NOT_COVERED and not result.answered_by_model and result.citations == ()
    assert model.calls == [] and model.resolved == []


async def test_answer_anyway_calls_the_model_with_the_weak_hits(model, index, make_options) -> None:
    index.hits = [h for h in index.hits if h.score < 1.0]
    model.queue("slm", "The sources do not say.")
    result = await answer("q", index=index, catalog=model, options=make_options(answer_anyway=True), stream_fn=model.stream_chat)
    assert result.answered_by_model and 'id="1"' in model.calls[0].messages[-1]["content"]


async def test_history_reaches_the_prompt(model, index, make_options) -> None:
    model.queue("slm", DRAFT_OK)
    await _events(model, index, make_options(), history=[("What is ragstage?", "A chat assistant [1].")])
    assert [m["content"] for m in model.calls[0].messages[1:3]] == ["What is ragstage?", "A chat assistant."]


async def test_hybrid_refines_a_draft_the_sources_do_not_support(model, index, make_options) -> None:
    model.queue("slm", "It is a small model served locally by the app itself today.")
    model.queue("llm", REFINED)
    events = await _events(model, index, make_options(mode="hybrid"))
    assert _shape(events) == [
        "Retrieved", "StageStarted:draft", "Token:draft", "StageFinished:draft", "EscalationDecided",
        "StageStarted:refine", "Token:refine", "StageFinished:refine", "Done",
    ]
    result = events[-1].result
    assert result.text == REFINED and [c.n for c in result.citations] == [1, 2]
    assert result.escalation == next(e.escalation for e in events if type(e).__name__ == "EscalationDecided")
    assert result.escalation.escalated and result.escalation.support_score == 0.0
    assert result.escalation.reason == "only 0% of the draft's sentences are supported by the sources (< 75%)"
    assert [(s.stage, s.role) for s in result.metrics.stages] == [("draft", "slm"), ("refine", "llm")]
    refine_user = model.calls[1].messages[-1]["content"]
    assert "<draft>\nIt is a small model" in refine_user and '<source id="1"' in refine_user


async def test_hybrid_keeps_a_supported_draft_under_the_auto_policy(model, index, make_options) -> None:
    model.queue("slm", DRAFT_OK)
    events = await _events(model, index, make_options(mode="hybrid"))
    assert _shape(events) == ["Retrieved", "StageStarted:draft", "Token:draft", "StageFinished:draft",
                              "EscalationDecided", "Done"]
    result = events[-1].result
    assert result.text == DRAFT_OK and not result.escalation.escalated and result.escalation.support_score == 1.0


async def test_hybrid_keeps_a_supported_draft_that_cites_nothing(model, index, make_options) -> None:
    """Citing no [n] is no reason to escalate: attribution finds the passage anyway."""
    draft = "SmolLM2-135M-Instruct is the embedded small model served by llama.cpp."
    model.queue("slm", draft)
    result = await answer("Which embedded model?", index=index, catalog=model, options=make_options(mode="hybrid"),
                          stream_fn=model.stream_chat)
    assert not result.escalation.escalated and [c.role for c in model.calls] == ["slm"]
    assert [(c.n, c.origin) for c in result.citations] == [(1, "computed")]
    assert [c.role for c in model.calls] == ["slm"]


async def test_hybrid_never_policy_does_not_call_the_llm(model, index, make_options) -> None:
    model.queue("slm", "No idea.")
    result = await answer("q", index=index, catalog=model, options=make_options(mode="hybrid", escalation_policy="never"), stream_fn=model.stream_chat)
    assert result.escalation.reason == "policy is never" and [c.role for c in model.calls] == ["slm"]


async def test_a_model_error_mid_answer_keeps_the_partial_text(model, index, make_options) -> None:
    model.queue("slm", "SmolLM2 is the", error=ModelUnreachable("The SLM server went away; restart it.", partial_text="SmolLM2 is the"))
    events = await _events(model, index, make_options())
    assert _shape(events) == ["Retrieved", "StageStarted:answer", "Token:answer", "StageFailed:answer", "Done"]
    result = events[-1].result
    assert result.text == "SmolLM2 is the"
    assert "The SLM server went away; restart it." in result.error
    assert result.metrics.stages == ()


async def test_an_unreachable_role_fails_its_stage_without_raising(model, index, make_options) -> None:
    model.unreachable["slm"] = ModelUnreachable("No server serves phi-4-mini at http://x/v1; start Foundry Local.")
    events = await _events(model, index, make_options())
    assert _shape(events) == ["Retrieved", "StageFailed:answer", "Done"]
    assert "start Foundry Local" in events[-1].result.error


async def test_hybrid_refine_failure_falls_back_to_the_complete_draft(model, index, make_options) -> None:
    model.queue("slm", DRAFT_OK)
    model.queue("llm", "Partial", error=ServerError("The LLM server returned HTTP 500; see its log."))
    result = await answer("q", index=index, catalog=model, options=make_options(mode="hybrid", escalation_policy="always"), stream_fn=model.stream_chat)
    assert result.text == DRAFT_OK and [c.n for c in result.citations] == [1]
    assert "HTTP 500" in result.error and "draft" in result.error


async def test_hybrid_escalates_when_the_draft_fails(model, index, make_options) -> None:
    model.queue("slm", "", error=ServerError("SLM crashed; restart it."))
    model.queue("llm", REFINED)
    result = await answer("q", index=index, catalog=model, options=make_options(mode="hybrid"), stream_fn=model.stream_chat)
    assert result.text == REFINED and result.error is None
    assert result.escalation.reason.startswith("the draft failed: SLM crashed")


async def test_compare_runs_the_two_answers_one_after_the_other_by_default(model, index, make_options) -> None:
    model.queue("slm", DRAFT_OK, token_delay_s=0.001)
    model.queue("llm", REFINED, token_delay_s=0.001)
    events = await _events(model, index, make_options(mode="compare"))
    assert model.max_active == 1  # each answer has every core: the speed ratio is fair
    assert _shape(events) == [
        "Retrieved", "StageStarted:slm", "Token:slm", "StageFinished:slm",
        "StageStarted:llm", "Token:llm", "StageFinished:llm", "Done",
    ]
    result = events[-1].result
    assert [(r.role, r.text) for r in result.compared] == [("slm", DRAFT_OK), ("llm", REFINED)]
    assert [c.n for c in result.compared[0].citations] == [1] and [c.n for c in result.citations] == [1, 2]
    assert [s.stage for s in result.metrics.stages] == ["slm", "llm"]
    assert not result.metrics.stages_concurrent and not any(r.metrics.stages_concurrent for r in result.compared)


async def test_compare_runs_both_roles_at_once_when_asked_and_says_so(model, index, make_options) -> None:
    model.queue("slm", DRAFT_OK, token_delay_s=0.001)
    model.queue("llm", REFINED, token_delay_s=0.001)
    events = await _events(model, index, make_options(mode="compare", compare_concurrently=True))
    assert model.max_active == 2
    assert {e.stage for e in events if isinstance(e, Token)} == {"slm", "llm"}
    result = events[-1].result
    assert result.metrics.stages_concurrent and all(r.metrics.stages_concurrent for r in result.compared)


async def test_compare_runs_one_after_the_other_on_a_shared_server_even_when_asked(model, index, make_options) -> None:
    model.base_urls["llm"] = model.base_urls["slm"] + "/"
    model.queue("slm", DRAFT_OK, token_delay_s=0.001)
    model.queue("llm", REFINED, token_delay_s=0.001)
    events = await _events(model, index, make_options(mode="compare", compare_concurrently=True))
    assert model.max_active == 1 and not events[-1].result.metrics.stages_concurrent


async def test_compare_reports_one_failed_side_and_keeps_the_other(model, index, make_options) -> None:
    model.queue("slm", DRAFT_OK)
    model.queue("llm", "Half", error=ServerError("LLM failed; retry."))
    result = await answer("q", index=index, catalog=model, options=make_options(mode="compare"), stream_fn=model.stream_chat)
    assert result.compared[0].error is None and result.compared[1].text == "Half"
    assert "LLM failed; retry." in result.error


async def test_closing_the_stream_early_closes_the_model_stream(model, index, make_options) -> None:
    model.queue("slm", DRAFT_OK)
    stream = answer_stream("q", index=index, catalog=model, options=make_options(), stream_fn=model.stream_chat)
    async for event in stream:
        if isinstance(event, Token):
            break
    await stream.aclose()
    assert model.closed_early == ["slm"]


@pytest.mark.parametrize(("mode", "concurrent", "closed"), [
    ("slm", False, ["slm"]),
    ("compare", False, ["slm"]),  # the second answer had not started
    ("compare", True, ["llm", "slm"]),
])
async def test_cancelling_the_consumer_closes_every_model_stream(mode, concurrent, closed, model, index, make_options) -> None:
    model.queue("slm", "slow " * 50, token_delay_s=0.01)
    model.queue("llm", "slow " * 50, token_delay_s=0.01)
    first_token = asyncio.Event()
    options = make_options(mode=mode, compare_concurrently=concurrent)

    async def consume() -> None:
        async for event in answer_stream("q", index=index, catalog=model, options=options, stream_fn=model.stream_chat):
            if isinstance(event, Token):
                first_token.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first_token.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert model.active == 0
    assert sorted(model.closed_early) == closed


async def test_an_unknown_mode_lists_the_valid_ones(model, index, make_options) -> None:
    with pytest.raises(ValueError) as err:
        await _events(model, index, make_options(mode="poetry"))
    assert all(name in str(err.value) for name in MODES) and "poetry" in str(err.value)
    assert index.queries == []


async def test_events_carry_retrieval_and_endpoint_details(model, index, make_options) -> None:
    model.queue("slm", DRAFT_OK)
    events = await _events(model, index, make_options(top_k=2))
    retrieved, started = events[0], events[1]
    assert isinstance(retrieved, Retrieved) and len(retrieved.hits) == 2 and retrieved.retrieval_ms >= 0
    assert isinstance(started, StageStarted) and started.endpoint.model_id == "fake-slm"
    finished = next(e for e in events if isinstance(e, StageFinished))
    assert finished.metrics.model_label == "FakeSLM (scripted)" and finished.metrics.retrieval_ms == retrieved.retrieval_ms
    done = events[-1]
    assert isinstance(done, Done) and done.result.metrics.total_ms >= retrieved.retrieval_ms
    assert not any(isinstance(e, StageFailed) for e in events)


async def test_a_one_document_folder_still_answers_questions_that_share_its_terms(model, make_options) -> None:
    """BM25Okapi scores every passage of a 1-document index at or below zero; the score floor
    must not turn that into "not covered" for a question the document does answer."""
    from ragstage.knowledge import ChunkIndex, load_bytes

    index = ChunkIndex()
    index.add(load_bytes("launch.md", b"# Launch\n\nThe launch code word is BLUEFALCON.\n", "launch.md"))
    assert all(hit.score <= 0 for hit in index.search("launch code word", 4))
    model.queue("slm", "The code word is BLUEFALCON [1].")
    answered = (await _events(model, index, make_options(mode="slm"), question="What is the launch code word?"))[-1]
    assert answered.result.answered_by_model and "BLUEFALCON" in answered.result.text
    unrelated = (await _events(model, index, make_options(mode="slm"), question="Which GPU is fastest?"))[-1]
    assert not unrelated.result.answered_by_model and unrelated.result.text == NOT_COVERED
