"""The chat handlers, driven as Chainlit drives them, against a scripted runtime."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from ui_fakes import PAUSE, endpoint, new_page, result, simple_answer, stage_metrics

from ragstage.answer import Done, Escalation, EscalationDecided, Retrieved, StageFailed, StageFinished, StageStarted, Token
from ragstage.models import ModelUnreachable
from ragstage.ui import chat


def hits_for(runtime, query="BM25 retrieval factual"):
    return tuple(runtime.knowledge.index.search(query, 2))


async def ask(text: str, *files) -> None:
    message = SimpleNamespace(content=text, elements=list(files))
    await chat.handle_message(message)


async def test_chat_start_names_the_serving_models_knowledge_size_and_starters(page, runtime):
    await chat.start_chat()

    welcome = page.messages()[-1]["output"]
    assert "Qwen2.5-Coder-0.5B-Instruct (embedded; Foundry Local not reachable" in welcome
    assert "Qwen2.5-Coder-1.5B-Instruct" in welcome
    assert "2 documents" in welcome
    starters = [data for kind, data in page.events if kind == "action"]
    assert 1 <= len(starters) <= 4 and all(a["name"] == "ask_starter" and a["payload"]["message"] for a in starters)
    panel = [data for kind, data in page.events if kind == "chat_settings"][-1]
    mode_labels = [item["label"] for item in panel[0]["items"]]
    assert any("phi-4-mini" in label and "Qwen2.5-Coder-0.5B-Instruct" in label for label in mode_labels)
    assert any("gpt-oss-20b" in label and "Qwen2.5-Coder-1.5B-Instruct" in label for label in mode_labels)
    assert "hybrid draft->refine: Qwen2.5-Coder-0.5B-Instruct drafts, Qwen2.5-Coder-1.5B-Instruct refines" in mode_labels


async def test_chat_start_tells_when_the_knowledge_base_runs_without_its_cache(page, runtime):
    warning = "cache folder .ragstage/cache is not writable: running without a cache"
    runtime.knowledge.report.warnings.append(warning)
    await chat.start_chat()
    welcome = page.messages()[-1]["output"]
    assert "running without a cache" in welcome and "**Note:**" in welcome


async def test_settings_apply_to_the_next_message_and_stay_for_the_session(page, runtime):
    await chat.start_chat()
    await chat.update_settings({"mode": "hybrid", "top_k": 7.0, "temperature": 0.5, "max_answer_tokens": 64,
                                "context_budget_tokens": 512, "answer_anyway": True, "escalation_policy": "always"})
    for _ in range(2):
        runtime.play(*simple_answer("q", hits_for(runtime)))
        await ask("What keeps small models factual?")

    for call in runtime.calls:
        options = call.options
        assert (options.mode, options.top_k, options.temperature, options.max_answer_tokens) == ("hybrid", 7, 0.5, 64)
        assert (options.context_budget_tokens, options.answer_anyway, options.escalation_policy) == (512, True, "always")


async def test_a_bad_setting_value_keeps_the_previous_choice(page, runtime):
    await chat.start_chat()
    await chat.update_settings({"mode": "llm"})
    await chat.update_settings({"mode": "no-such-mode", "top_k": "many"})
    runtime.play(*simple_answer("q", hits_for(runtime)))
    await ask("question")
    assert runtime.calls[-1].options.mode == "llm"
    assert runtime.calls[-1].options.top_k == runtime.settings.top_k


async def test_answer_tokens_stream_into_one_message_that_ends_with_the_full_text(page, runtime):
    runtime.play(*simple_answer("q", hits_for(runtime)))
    await ask("What keeps small models factual?")

    started = page.of("stream_start")
    opening = next(s for s in started if s["type"] == "assistant_message")
    answer_id = opening["id"]
    tokens = [t["token"] for t in page.of("send_token") if t["id"] == answer_id]
    # the first token opens the stream at once; tokens arriving within the flush interval
    # travel together, and nothing is lost on the way
    assert opening["output"] == "Retrieval keeps"[: len(opening["output"])] and opening["output"]
    assert opening["output"] + "".join(tokens) == "Retrieval keeps small models factual [1]."
    assert len(tokens) < 2
    final = page.final(answer_id)["output"]
    assert final.startswith("Retrieval keeps small models factual [1].")


async def test_hybrid_steps_arrive_in_order_with_their_content(page, runtime):
    hits = hits_for(runtime)
    draft = stage_metrics("draft", "slm", ttft_ms=300, total_ms=900)
    refine = stage_metrics("refine", "llm", ttft_ms=1500, total_ms=4000, completion=40)
    decision = Escalation(True, "only 50% of the draft's sentences are supported by the sources (< 75%)", 0.5)
    runtime.play(
        Retrieved(hits, 3.5),
        StageStarted("draft", endpoint("slm")), Token("draft", "Short draft"), StageFinished("draft", draft, "Short draft"),
        EscalationDecided(decision),
        StageStarted("refine", endpoint("llm")), Token("refine", "Refined answer [1]."),
        StageFinished("refine", refine, "Refined answer [1]."),
        Done(result("q", "Refined answer [1].", hits, (draft, refine), mode="hybrid", cited=(1,), escalation=decision)),
    )
    await ask("What keeps small models factual?")

    assert page.steps_named() == ["Retrieval", "Draft", "Refine", "Metrics"]
    steps = {page.final(d["id"])["name"]: page.final(d["id"]) for d in page.of("send_step")}
    retrieval = steps["Retrieval"]["output"]
    assert "What keeps small models factual?" in retrieval and f"{hits[0].score:.2f}" in retrieval and "3.5 ms" in retrieval
    assert "Short draft" in steps["Draft"]["output"] and "Qwen2.5-Coder-0.5B-Instruct" in steps["Draft"]["input"]
    assert "Refined answer" in steps["Refine"]["output"] and "Qwen2.5-Coder-1.5B-Instruct" in steps["Refine"]["input"]
    why = "**Escalation:** refined by the LLM: only 50% of the draft's sentences are supported"
    assert why in steps["Draft"]["output"] and "**draft support score:** 50%" in steps["Draft"]["output"]
    assert why in steps["Refine"]["input"]  # the Refine step says why it ran
    metrics = steps["Metrics"]["output"]
    for expected in ("TTFT ms", "| Draft |", "| Refine |", "1,500", "4,000", "300 / 40 (reported)", "$0.0000", "refined"):
        assert expected in metrics
    assert page.messages()[-1]["output"].startswith("Refined answer [1].")


async def test_citations_become_side_elements_showing_the_escaped_passage(page, runtime):
    hits = hits_for(runtime)
    runtime.play(*simple_answer("q", hits, cited=(1,)))
    await ask("What keeps small models factual?")

    texts = [e for e in page.of("send_element") if e["type"] == "text"]
    assert [t["name"] for t in texts] == ["[1] guide.md"]
    assert texts[0]["display"] == "side"
    final = page.messages()[-1]["output"]
    assert "**Cited by the model:** [1] guide.md" in final
    passage = texts[0]["content"]
    assert "guide.md" in passage and "Retrieval" in passage  # source and heading
    assert "<script>" not in passage and "&lt;script&gt;" in passage
    assert "![tracker]" not in passage


async def test_an_answer_without_citations_still_offers_the_passages_it_was_given(page, runtime):
    hits = hits_for(runtime)
    runtime.play(*simple_answer("q", hits, text="Small models stay factual.", cited=()))
    await ask("What keeps small models factual?")
    names = [e["name"] for e in page.of("send_element") if e["type"] == "text"]
    assert names == [f"[{h.rank}] {h.chunk.source}" for h in hits]
    assert "none supports the answer" in page.messages()[-1]["output"]


async def test_each_answer_adds_its_latency_to_the_session_chart(page, runtime):
    for _ in range(2):
        runtime.play(*simple_answer("q", hits_for(runtime)))
        await ask("What keeps small models factual?")
    charts = [e for e in page.of("send_element") if e["type"] == "custom"]
    assert [c["name"] for c in charts] == ["LatencyChart", "LatencyChart"]
    points = charts[-1]["props"]["points"]
    assert [(p["message"], p["ttft_ms"], p["total_ms"]) for p in points] == [(1, 400, 1200), (2, 400, 1200)]


async def test_compare_mode_says_which_model_was_faster_and_by_how_much(page, runtime):
    hits = hits_for(runtime)
    slm = stage_metrics("slm", "slm", ttft_ms=400, total_ms=1000)
    llm = stage_metrics("llm", "llm", ttft_ms=1200, total_ms=3000)
    both = (result("q", "SLM says [1].", hits, (slm,), role="slm", cited=(1,)),
            result("q", "LLM says [1].", hits, (llm,), role="llm", cited=(1,)))
    runtime.play(
        Retrieved(hits, 2.0),
        StageStarted("slm", endpoint("slm")), Token("slm", "SLM says [1]."), StageFinished("slm", slm, "SLM says [1]."),
        StageStarted("llm", endpoint("llm")), Token("llm", "LLM says [1]."), StageFinished("llm", llm, "LLM says [1]."),
        Done(result("q", "SLM says [1].", hits, (slm, llm), mode="compare", compared=both, cited=(1,))),
    )
    await ask("compare please")

    outputs = [m["output"] for m in page.messages()]
    assert any("Qwen2.5-Coder-0.5B" in o and "SLM says" in o for o in outputs)
    assert any("Qwen2.5-Coder-1.5B" in o and "LLM says" in o for o in outputs)
    assert "3.0x faster" in outputs[-1] and "2.0 s less" in outputs[-1]
    assert "one after the other, each with all CPU cores" in outputs[-1]
    metrics = [page.final(d["id"])["output"] for d in page.of("send_step") if d["name"] == "Metrics"][0]
    assert "| SLM answer |" in metrics and "| LLM answer |" in metrics
    assert "one after the other" in metrics


async def test_a_model_failure_mid_answer_becomes_a_readable_message_and_the_next_question_works(page, runtime):
    hits = hits_for(runtime)
    runtime.play(Retrieved(hits, 2.0), StageStarted("answer", endpoint("slm")), Token("answer", "Partial ans"),
                 ModelUnreachable("The SLM server stopped answering. It is being restarted: ask again."))
    runtime.play(*simple_answer("q", hits))
    await ask("first")

    errors = [m for m in page.messages() if m.get("isError")]
    assert len(errors) == 1 and "stopped answering" in errors[0]["output"] and "Traceback" not in errors[0]["output"]
    assert any(m["output"].startswith("Partial ans") for m in page.messages() if not m.get("isError"))
    await ask("second")
    assert page.messages()[-1]["output"].startswith("Retrieval keeps small models factual")


async def test_a_failed_stage_reported_in_the_result_keeps_the_partial_answer(page, runtime):
    hits = hits_for(runtime)
    error = ModelUnreachable("The LLM server is not reachable. Start it, or switch to the SLM.", partial_text="")
    draft = stage_metrics("draft", "slm", ttft_ms=300, total_ms=900)
    runtime.play(
        Retrieved(hits, 2.0),
        StageStarted("draft", endpoint("slm")), Token("draft", "Draft text"), StageFinished("draft", draft, "Draft text"),
        StageStarted("refine", endpoint("llm")), StageFailed("refine", error),
        Done(result("q", "Draft text", hits, (draft,), mode="hybrid", error=str(error))),
    )
    await ask("question")
    refine = [page.final(d["id"]) for d in page.of("send_step") if d["name"] == "Refine"][0]
    assert refine["isError"] and "not reachable" in refine["output"]
    outputs = [m["output"] for m in page.messages()]
    assert any(o.startswith("Draft text") for o in outputs)
    assert "switch to the SLM" in outputs[-1]


async def test_stop_cancels_the_answer_closes_the_model_stream_and_keeps_the_partial_text(page, runtime):
    hits = hits_for(runtime)
    runtime.play(Retrieved(hits, 2.0), StageStarted("answer", endpoint("slm")), Token("answer", "Half an"), PAUSE,
                 Token("answer", " answer that never comes"))
    task = asyncio.create_task(ask("question"))
    while not page.of("stream_start") or runtime.closed_streams:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert runtime.closed_streams == 1
    answer = [m for m in page.messages() if m["output"].startswith("Half an")][0]
    assert "never comes" not in answer["output"] and "(stopped)" in answer["output"]


async def test_uploads_are_indexed_for_this_session_only_and_bad_files_are_named_with_a_reason(page, runtime, tmp_path):
    good = tmp_path / "zebra.md"
    good.write_text("# Zebras\n\nThe okapi-zebra protocol uses striped packets.\n")
    corrupt = tmp_path / "broken.pdf"
    corrupt.write_bytes(b"%PDF-1.7\n this is not really a pdf")
    large = tmp_path / "large.txt"
    large.write_text("x" * 60_000)
    files = [SimpleNamespace(name=p.name, path=str(p), mime="", type="file") for p in (good, corrupt, large)]
    runtime.play(*simple_answer("q", hits_for(runtime)))
    await ask("What does the striped packets protocol do?", *files)

    ack = page.messages()[0]["output"]
    assert "Indexed **zebra.md**: 1 passages" in ack
    assert "Could not use **broken.pdf**" in ack
    assert "Could not use **large.txt**" in ack and "MB limit" in ack
    session_index = runtime.calls[-1].index
    assert session_index.search("striped packets", 1)[0].chunk.source == "upload:zebra.md"
    assert not runtime.knowledge.index.search("striped packets", 1) or \
        runtime.knowledge.index.search("striped packets", 1)[0].chunk.source != "upload:zebra.md"


async def test_another_session_never_sees_my_upload(page, runtime, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("The launch code word is marmalade.")
    await ask("", SimpleNamespace(name="secret.txt", path=str(secret), mime="text/plain", type="file"))
    new_page()  # another person's tab
    runtime.play(*simple_answer("q", hits_for(runtime)))
    await ask("What is the launch code word?")
    other_index = runtime.calls[-1].index
    assert all(h.chunk.source != "upload:secret.txt" for h in other_index.search("launch code word marmalade", 5))


async def test_too_many_files_in_one_message_are_refused_by_name(page, runtime, tmp_path):
    files = []
    for n in range(5):
        path = tmp_path / f"note{n}.txt"
        path.write_text(f"note number {n}")
        files.append(SimpleNamespace(name=path.name, path=str(path), mime="text/plain", type="file"))
    await ask("", *files)
    ack = page.messages()[0]["output"]
    assert ack.count("Indexed") == 3 and "Could not use **note4.txt**: only 3 files" in ack


async def test_an_unexpected_error_in_a_handler_is_shown_not_only_logged(page, runtime):
    runtime.play(RuntimeError("boom"))  # the stream itself blows up
    await ask("question")
    errors = [m for m in page.messages() if m.get("isError")]
    assert errors and "Something went wrong" in errors[-1]["output"]


async def test_starter_button_asks_its_question_in_a_task_the_stop_button_can_cancel(page, runtime):
    from chainlit.context import context

    runtime.play(*simple_answer("q", hits_for(runtime)))
    await chat.ask_starter(SimpleNamespace(payload={"message": "What keeps small models factual?"}))
    task = context.session.current_task
    assert task is not None
    await task
    assert runtime.calls[-1].question == "What keeps small models factual?"
    user = [m for m in page.messages() if m["type"] == "user_message"]
    assert user and user[0]["output"] == "What keeps small models factual?"
    assert ("task_start", None) in page.events and ("task_end", None) in page.events


async def test_a_runtime_that_cannot_start_is_explained_in_the_chat(page):
    from ragstage.ui.services import ChatServices, install_services

    async def broken_start():
        raise RuntimeError("knowledge folder /nowhere does not exist")

    previous = install_services(ChatServices(start_runtime=broken_start))
    try:
        await chat.start_chat()
    finally:
        install_services(previous)
    shown = page.messages()[-1]["output"]
    assert "could not start" in shown and "/nowhere does not exist" in shown


async def test_an_upload_without_a_question_invites_one(page, runtime, tmp_path):
    note = tmp_path / "note.txt"
    note.write_text("The staging server is called heron.")
    await ask("", SimpleNamespace(name="note.txt", path=str(note), mime="text/plain", type="file"))
    assert "Ask a question about them" in page.messages()[-1]["output"]
    assert runtime.calls == []  # nothing to answer yet
