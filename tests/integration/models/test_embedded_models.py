"""The embedded default against real llama.cpp servers: streaming with timings, recovery after
the server dies mid-answer, cancellation reaching the server, and no process left behind."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

from ragstage.models import (
    Completion,
    ContextOverflow,
    GenerationParams,
    ModelCatalog,
    ModelUnreachable,
    complete_chat,
    stream_chat,
)

# ~300 tokens of context, as a grounded question would carry (kept short: CPU is scarce)
CONTEXT = " ".join(
    f"Fact {i}: the ragstage demo room {i} has {i + 2} chairs and opens at {8 + i % 4} o'clock." for i in range(16)
)
QUESTION = [
    {"role": "system", "content": "Answer in one short sentence using only the facts given."},
    {"role": "user", "content": f"{CONTEXT}\n\nHow many chairs does demo room 3 have?"},
]
LONG_ANSWER = [{"role": "user", "content": "Count from 1 to 300, separated by commas."}]
SHORT = GenerationParams(max_tokens=24, temperature=0.0, first_token_timeout_s=120, retries=1)


async def test_smollm2_streams_an_answer_with_consistent_timings(embedded_catalog: ModelCatalog):
    endpoint = await embedded_catalog.resolve("slm")
    assert endpoint.backend == "embedded" and endpoint.model_id == "smollm2-135m-instruct"
    assert endpoint.display_name == "SmolLM2-135M-Instruct"
    pieces: list[str] = []
    completion = None
    async for item in stream_chat(endpoint, QUESTION, SHORT):
        if isinstance(item, Completion):
            completion = item
        else:
            pieces.append(item)
    assert completion is not None and len(pieces) >= 2
    assert completion.text == "".join(pieces) and completion.text.strip()
    assert completion.model_id == "smollm2-135m-instruct" and completion.backend == "embedded"
    assert 0 < completion.timings.ttft_ms <= completion.timings.total_ms
    assert completion.decode_tokens_per_s > 0
    assert completion.usage.prompt_tokens > 250 and completion.usage.completion_tokens > 0
    assert completion.finish_reason in {"stop", "length"}


async def test_qwen_llm_answers_from_the_assembled_file(embedded_catalog: ModelCatalog):
    endpoint = await embedded_catalog.resolve("llm")
    assert endpoint.model_id == "qwen2.5-coder-0.5b-instruct"
    completion = await complete_chat(endpoint, QUESTION, GenerationParams(max_tokens=12, first_token_timeout_s=120))
    assert completion.text.strip() and completion.model_id == endpoint.model_id
    assert completion.timings.ttft_ms <= completion.timings.total_ms


async def test_a_prompt_longer_than_the_context_window_is_a_context_overflow(embedded_catalog: ModelCatalog):
    endpoint = await embedded_catalog.resolve("slm")  # 2048-token context in these tests
    too_long = [{"role": "user", "content": "chair table lamp " * 1200}]
    with pytest.raises(ContextOverflow, match="RAGSTAGE_CONTEXT_BUDGET_TOKENS"):
        await complete_chat(endpoint, too_long, SHORT)
    assert embedded_catalog.embedded_server("slm").is_alive()


async def test_server_killed_mid_answer_keeps_the_partial_text_and_is_restarted(embedded_catalog: ModelCatalog):
    endpoint = await embedded_catalog.resolve("slm")
    server = embedded_catalog.embedded_server("slm")
    old_pid = server.pid
    received: list[str] = []
    params = GenerationParams(max_tokens=400, first_token_timeout_s=120, retries=1)
    with pytest.raises(ModelUnreachable) as caught:
        async for item in stream_chat(endpoint, LONG_ANSWER, params):
            received.append(item)
            if len(received) == 3:
                os.kill(old_pid, signal.SIGKILL)
    assert caught.value.partial_text.startswith("".join(received[:3]))
    assert "restarts the embedded server" in str(caught.value)

    embedded_catalog.report_failure("slm", caught.value)
    recovered = await embedded_catalog.resolve("slm")
    assert server.pid != old_pid and server.is_alive()
    assert not psutil.pid_exists(old_pid) or psutil.Process(old_pid).status() == psutil.STATUS_ZOMBIE
    completion = await complete_chat(recovered, QUESTION, GenerationParams(max_tokens=8, first_token_timeout_s=120))
    assert completion.text.strip()


async def test_closing_the_stream_makes_the_server_stop_generating(embedded_catalog: ModelCatalog):
    endpoint = await embedded_catalog.resolve("slm")
    server = embedded_catalog.embedded_server("slm")
    log_before = server.log_tail().count("Disconnected from client")
    stream = stream_chat(endpoint, LONG_ANSWER, GenerationParams(max_tokens=600, first_token_timeout_s=120))
    for _ in range(3):
        await anext(stream)
    await stream.aclose()
    # llama-cpp-python logs the disconnect when it abandons the generation
    deadline = time.monotonic() + 30
    while server.log_tail().count("Disconnected from client") == log_before and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert server.log_tail().count("Disconnected from client") > log_before
    # and the server is free for the next question (it would otherwise still be counting)
    completion = await complete_chat(endpoint, QUESTION, GenerationParams(max_tokens=8, first_token_timeout_s=120))
    assert completion.text.strip()


def _llama_children() -> list[psutil.Process]:
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            command = " ".join(child.cmdline())
            if "llama_cpp.server" in command or "ragstage.models.llama_launcher" in command:
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


async def test_no_server_process_is_left_after_the_catalog_closes(embedded_settings):
    before = {p.pid for p in _llama_children()}
    catalog = ModelCatalog(embedded_settings)
    await catalog.resolve("slm")
    pid = catalog.embedded_server("slm").pid
    assert pid in {p.pid for p in _llama_children()} - before
    await catalog.aclose()
    assert pid not in {p.pid for p in _llama_children()}
    assert not psutil.pid_exists(pid)


def test_servers_die_with_their_parent_even_when_it_is_killed(tmp_path):
    script = textwrap.dedent(
        """
        import asyncio, sys, time
        from ragstage.models import ModelCatalog
        from ragstage.settings import Settings
        catalog = ModelCatalog(Settings(_env_file=None, backend="embedded", embedded_ctx_tokens=1024))
        asyncio.run(catalog.resolve("slm"))
        print(catalog.embedded_server("slm").pid, flush=True)
        time.sleep(600)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        server_pid = int(parent.stdout.readline())
        assert psutil.pid_exists(server_pid)
        parent.kill()  # SIGKILL: no atexit, no cleanup code runs
        parent.wait()
        gone, alive = psutil.wait_procs([psutil.Process(server_pid)], timeout=15)
    except psutil.NoSuchProcess:
        gone, alive = [server_pid], []
    finally:
        parent.kill()
    assert not alive, "the embedded server outlived its killed parent"
