"""Model-server faults through the real answer pipeline (and the CLI): each one ends in a
readable message, keeps what was already streamed, and the next question works."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from fault_kit import QUESTION, ScriptedServerProcess, remote_settings
from ragstage.answer import AnswerOptions, AnswerResult, Done, StageFailed, Token, answer_stream
from ragstage.knowledge import KnowledgeBase
from ragstage.runtime import Runtime

PARTIAL = "According to [1],"  # the scripted server's first three tokens

# behaviour -> (error type, text streamed before the failure)
FAULTS = {
    "http500": ("ServerError", ""),
    "malformed": ("MalformedStream", PARTIAL),
    "silent": ("FirstTokenTimeout", ""),
    "wrong_model": ("ModelMismatch", ""),
    "drop_mid": ("ModelUnreachable", PARTIAL),
}


async def ask(runtime: Runtime) -> tuple[AnswerResult, list[StageFailed]]:
    failures, result = [], None
    async for event in runtime.answer_stream(QUESTION):
        if isinstance(event, StageFailed):
            failures.append(event)
        elif isinstance(event, Done):
            result = event.result
    assert result is not None
    return result, failures


def assert_readable(message: str | None) -> None:
    assert message, "a failure must come with a message"
    assert "Traceback" not in message and "object at 0x" not in message
    assert len(message) < 800


def assert_answered(result: AnswerResult) -> None:
    assert result.error is None, result.error
    assert result.text.startswith(PARTIAL) and "scripted" in result.text


@pytest.mark.parametrize("behavior", sorted(FAULTS))
async def test_model_fault_is_explained_partial_answer_kept_and_next_question_works(
    behavior: str, scripted: ScriptedServerProcess, knowledge_folder: Path, tmp_path: Path
) -> None:
    error_type, partial = FAULTS[behavior]
    settings = remote_settings(tmp_path, knowledge_folder, scripted.base_url)
    async with await Runtime.start(settings, warm_roles=()) as runtime:
        scripted.control(behavior=behavior, die_after=3)
        result, failures = await ask(runtime)
        assert [type(f.error).__name__ for f in failures] == [error_type]
        assert_readable(result.error)
        assert partial in result.text
        scripted.control(behavior="ok")
        assert_answered((await ask(runtime))[0])


async def test_server_killed_mid_answer_then_restarted_answers_again(
    scripted: ScriptedServerProcess, knowledge_folder: Path, tmp_path: Path
) -> None:
    settings = remote_settings(tmp_path, knowledge_folder, scripted.base_url)
    async with await Runtime.start(settings, warm_roles=()) as runtime:
        scripted.control(behavior="die_mid", die_after=3)
        result, failures = await ask(runtime)
        assert [type(f.error).__name__ for f in failures] == ["ModelUnreachable"]
        assert_readable(result.error)
        assert PARTIAL in result.text
        scripted.restart()  # the operator brings it back on the same port
        assert_answered((await ask(runtime))[0])


async def test_server_not_running_at_start_then_started_answers(
    knowledge_folder: Path, tmp_path: Path
) -> None:
    server = ScriptedServerProcess("--model", "scripted-slm", "--model", "scripted-llm", "--tokens", "12",
                                   port=_free_port())
    settings = remote_settings(tmp_path, knowledge_folder, server.base_url)
    async with await Runtime.start(settings, warm_roles=("slm",)) as runtime:  # launch must survive it
        assert "slm" in runtime.launch_errors
        result, failures = await ask(runtime)
        assert [type(f.error).__name__ for f in failures] == ["ModelUnreachable"]
        assert_readable(result.error)
        assert server.base_url in result.error
        with server:
            assert_answered((await ask(runtime))[0])


async def test_embedded_server_killed_mid_answer_is_restarted_for_the_next_question(
    embedded_catalog, knowledge_folder: Path
) -> None:
    """The real llama.cpp server, SIGKILLed while it streams: the partial answer is kept, the
    next question restarts it, and the killed process is gone (no zombie, no orphan)."""
    settings = embedded_catalog.settings
    index = KnowledgeBase.open(knowledge_folder, settings).index
    options = AnswerOptions.from_settings(settings, mode="slm", max_answer_tokens=120, answer_anyway=True)
    await embedded_catalog.resolve("slm")
    server = embedded_catalog.embedded_server("slm")
    killed_pid, streamed, result = server.pid, "", None
    async for event in answer_stream(QUESTION, index=index, catalog=embedded_catalog, options=options):
        if isinstance(event, Token):
            if not streamed.strip() and event.text.strip():
                os.kill(killed_pid, signal.SIGKILL)
            streamed += event.text
        elif isinstance(event, Done):
            result = event.result
    assert result is not None and result.error
    assert_readable(result.error)
    assert streamed.strip(), result.error
    assert result.text.strip().startswith(streamed.strip()[:1])  # what arrived before the kill is kept

    again = None
    async for event in answer_stream(QUESTION, index=index, catalog=embedded_catalog, options=options):
        if isinstance(event, Done):
            again = event.result
    assert again is not None and again.error is None and again.text.strip()
    assert server.pid != killed_pid and server.is_alive()
    assert not psutil.pid_exists(killed_pid) or psutil.Process(killed_pid).status() != psutil.STATUS_ZOMBIE


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_cli_ask(base_url: str, knowledge: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAGSTAGE_")}
    env.update(RAGSTAGE_BACKEND="remote", RAGSTAGE_SLM_BASE_URL=base_url, RAGSTAGE_LLM_BASE_URL=base_url,
               RAGSTAGE_SLM_MODEL="scripted-slm", RAGSTAGE_LLM_MODEL="scripted-llm",
               RAGSTAGE_FIRST_TOKEN_TIMEOUT_S="1", RAGSTAGE_REQUEST_RETRIES="0",
               RAGSTAGE_CACHE_DIR=str(tmp_path / "cli-cache"), RAGSTAGE_START_EMBEDDED_AT_LAUNCH="false")
    return subprocess.run([sys.executable, "-m", "ragstage.cli", "ask", QUESTION, "--knowledge", str(knowledge)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_cli_ask_exits_1_with_a_readable_error_and_keeps_the_partial_answer(
    scripted: ScriptedServerProcess, knowledge_folder: Path, tmp_path: Path
) -> None:
    scripted.control(behavior="drop_mid", die_after=3)
    done = run_cli_ask(scripted.base_url, knowledge_folder, tmp_path)
    assert done.returncode == 1, done.stderr
    assert "ragstage: error:" in done.stderr and "Traceback" not in done.stderr
    assert PARTIAL in done.stdout
    scripted.control(behavior="ok")
    again = run_cli_ask(scripted.base_url, knowledge_folder, tmp_path)
    assert again.returncode == 0, again.stderr
    assert PARTIAL in again.stdout


def test_cli_ask_with_no_server_running_exits_1_naming_the_url(knowledge_folder: Path, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}/v1"
    done = run_cli_ask(url, knowledge_folder, tmp_path)
    assert done.returncode == 1
    assert "ragstage: error:" in done.stderr and url in done.stderr and "Traceback" not in done.stderr
