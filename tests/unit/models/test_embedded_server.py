"""How an embedded llama.cpp server is launched (the running behaviour is tested in
tests/integration/models)."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from ragstage.models.embedded import EmbeddedServer, free_port, server_command
from ragstage.models.threads import thread_counts, usable_cpus
from ragstage.models.weights import EmbeddedModelSpec
from ragstage.settings import Settings

SPEC = EmbeddedModelSpec("slm", Path("/models/smol.gguf"), "smollm2-135m-instruct", "SmolLM2-135M-Instruct")


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_server_runs_llama_cpp_with_settings_threads_context_and_a_clear_alias():
    settings = Settings(_env_file=None, embedded_threads=2, embedded_ctx_tokens=3072)
    command = server_command(SPEC, 43210, settings)
    assert command[:3] == [sys.executable, "-m", "llama_cpp.server"]
    assert option(command, "--model") == "/models/smol.gguf"
    assert option(command, "--model_alias") == "smollm2-135m-instruct"
    assert option(command, "--host") == "127.0.0.1" and option(command, "--port") == "43210"
    assert option(command, "--n_threads") == "2" and option(command, "--n_threads_batch") == "2"
    assert option(command, "--n_ctx") == "3072"
    assert option(command, "--logits_all") == "false"
    assert option(command, "--interrupt_requests") == "false"  # queue, never truncate another answer


@pytest.mark.parametrize(("cpus", "smt_ratio", "busy", "expected"), [
    (2, 1.0, 0.0, (2, 2)),  # a quiet 2-core machine: both phases use both cores
    (16, 0.5, 0.0, (8, 16)),  # 8 cores x 2 hardware threads: decode per core, prefill on every thread
    (3, 0.5, 0.0, (2, 3)),  # an odd affinity mask still gets threads
    (8, 1.0, 0.25, (6, 6)),  # a laptop with other work on a quarter of it
    (2, 1.0, 1.0, (1, 1)),  # saturated: one thread, never a stalled barrier of two
    (2, 1.0, 0.6, (1, 1)),
    (1, 0.5, 0.0, (1, 1)),
])
def test_auto_threads_follow_the_idle_cpus_this_process_may_use(cpus, smt_ratio, busy, expected):
    assert thread_counts(0, cpus, smt_ratio, busy) == expected


def test_a_thread_setting_overrides_both_phases():
    assert thread_counts(3, cpus=16, smt_ratio=0.5, busy=0.9) == (3, 3)


def test_by_default_a_server_gets_its_threads_from_the_usable_cpus(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("ragstage.models.threads.busy_share", lambda: 0.0)
    command = server_command(SPEC, 43210, Settings(_env_file=None))
    assert int(option(command, "--n_threads_batch")) == usable_cpus() >= 1
    assert 1 <= int(option(command, "--n_threads")) <= usable_cpus()


def test_safe_cpu_mode_runs_the_same_server_through_the_launcher():
    command = server_command(SPEC, 43210, Settings(_env_file=None), safe_cpu=True)
    assert command[1:3] == ["-m", "ragstage.models.llama_launcher"]
    assert command[3:] == server_command(SPEC, 43210, Settings(_env_file=None))[3:]


def test_a_server_killed_by_sigill_is_started_again_in_safe_cpu_mode_once():
    server = EmbeddedServer(SPEC, Settings(_env_file=None))
    assert server._worth_another_start(-signal.SIGILL) and server.safe_cpu
    assert not server._worth_another_start(-signal.SIGILL)  # already safe: give up with the error


def test_a_server_still_running_or_failing_otherwise_is_not_restarted_blindly():
    server = EmbeddedServer(SPEC, Settings(_env_file=None))
    assert not server._worth_another_start(None)
    assert not server._worth_another_start(1)


def test_free_ports_are_distinct_local_ports():
    assert 0 < free_port() < 65536


def test_busy_share_sees_another_process_spinning_but_not_this_one():
    """A server started right after heavy work of our own (set-up, indexing) still gets the idle
    cores; a process that keeps a core busy now is seen."""
    import subprocess
    import threading
    import time

    import psutil

    from ragstage.models.threads import busy_share

    stop = threading.Event()
    spinning = threading.Thread(target=lambda: [None for _ in iter(stop.is_set, True)])
    spinning.start()  # this process keeps a core busy while sampling: not counted
    try:
        quiet = busy_share(0.5)
    finally:
        stop.set()
        spinning.join()
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)
        loaded = busy_share(0.5)
    finally:
        spinner.kill()
        spinner.wait()
    assert loaded >= min(1.0, quiet + 0.25 / (psutil.cpu_count() or 1))  # a saturated machine stays at 1.0
    assert loaded >= 0.6 / (psutil.cpu_count() or 1)
