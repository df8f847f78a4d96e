"""Embedded model servers: one `python -m llama_cpp.server` (or, for the ONNX Runtime engine,
`python -m ragstage.models.onnx_server`) process per model.

One process per model (not one multi-model server) because llama-cpp-python keeps a single
model in memory and reloads on every switch, which would make draft->refine pay a reload per
turn. Each process gets a free 127.0.0.1 port, its own process group, and on Linux the kernel
kills it when the process that started it dies (PR_SET_PDEATHSIG), so even `kill -9` of the app
leaves no orphan. A normal exit or Ctrl-C stops them through `atexit`.

PR_SET_PDEATHSIG fires when the *thread* that forked the child exits: servers are therefore
spawned from the calling (event-loop) thread, never from a short-lived worker thread.
"""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from ragstage.models.errors import ModelUnreachable
from ragstage.models.roles import role_config
from ragstage.models.threads import thread_counts
from ragstage.models.weights import EmbeddedModelSpec
from ragstage.settings import Settings

_PR_SET_PDEATHSIG = 1
_STOP_GRACE_S = 3.0
_HEALTH_POLL_S = 0.2
_LOG_TAIL_CHARS = 1200
_LIVE_SERVERS: set[EmbeddedServer] = set()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _child_setup(parent_pid: int):
    """Runs in the child between fork and exec: die with the parent, even on SIGKILL."""
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved before fork

    def setup() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return setup


def server_command(spec: EmbeddedModelSpec, port: int, settings: Settings, safe_cpu: bool = False) -> list[str]:
    generation_threads, batch_threads = thread_counts(role_config(settings, spec.role).threads)
    module = "ragstage.models.llama_launcher" if safe_cpu else "llama_cpp.server"
    return [
        sys.executable, "-m", module,
        "--model", str(spec.path),
        "--model_alias", spec.alias,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", str(settings.embedded_ctx_tokens),
        "--n_threads", str(generation_threads),
        "--n_threads_batch", str(batch_threads),
        "--logits_all", "false",  # the default (true) slows prefill for nothing
        "--interrupt_requests", "false",  # queue a second request instead of cutting the first short
        *_prompt_cache_args(settings.embedded_prompt_cache_mb),
    ]  # fmt: skip


def launch_command(spec: EmbeddedModelSpec, port: int, settings: Settings, safe_cpu: bool = False) -> list[str]:
    """The command that serves `spec` with its engine (`spec.engine`)."""
    from ragstage.models.engines import onnx_server_command

    commands = {"llama.cpp": server_command, "onnxruntime": onnx_server_command}
    return commands[spec.engine](spec, port, settings, safe_cpu)


def _prompt_cache_args(megabytes: int) -> list[str]:
    """llama-cpp-python's RAM prompt cache: the state after each prompt is kept, and a later prompt
    with the same start resumes from it (starter questions warmed at launch answer at once)."""
    if megabytes <= 0:
        return []
    return ["--cache", "true", "--cache_type", "ram", "--cache_size", str(megabytes * 1024 * 1024)]


class EmbeddedServer:
    """One server process (llama.cpp or ONNX Runtime) serving one model under `spec.alias`."""

    def __init__(self, spec: EmbeddedModelSpec, settings: Settings) -> None:
        self.spec = spec
        self._settings = settings
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.log_path: Path | None = None
        self.starts = 0  # how many times a process was launched (restarts included)
        self.safe_cpu = False  # set after llama.cpp died of SIGILL (see llama_launcher)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def is_alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    async def start(self) -> None:
        """Launch (if not running) and wait until `/v1/models` lists our alias."""
        if self.is_alive():
            return
        deadline = time.monotonic() + self._settings.embedded_start_timeout_s
        for attempt in range(3):
            self._spawn()
            try:
                await self._wait_healthy(deadline)
                await self._warm_up(deadline)
                return
            except ModelUnreachable:
                code = self.process.poll() if self.process else None
                await self.astop()
                if attempt == 2 or not self._worth_another_start(code):
                    raise

    def _worth_another_start(self, exit_code: int | None) -> bool:
        """A lost free port, or a CPU that traps llama.cpp's AMX kernels, is worth a retry."""
        if exit_code is None:
            return False
        if exit_code == -signal.SIGILL and not self.safe_cpu:
            self.safe_cpu = True
            return True
        return "address already in use" in self.log_tail().lower()

    async def ensure_running(self, check_health: bool = False) -> None:
        """Restart a dead (or, with `check_health`, unresponsive) server."""
        if self.is_alive() and (not check_health or await self.healthy()):
            return
        if self.process is not None and self.process.poll() == -signal.SIGILL:
            self.safe_cpu = True  # it crashed on a CPU instruction: do not crash the same way again
        await self.restart()

    async def restart(self) -> None:
        await self.astop()
        await self.start()

    def _spawn(self) -> None:
        self.port = free_port()
        self.log_path = _log_dir() / f"{self.spec.alias.replace(':', '_')}-{os.getpid()}-{self.port}.log"
        command = launch_command(self.spec, self.port, self._settings, self.safe_cpu)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                **_detach_options(),
            )
        self.starts += 1
        _LIVE_SERVERS.add(self)

    async def healthy(self, timeout_s: float = 2.0) -> bool:
        try:
            async with httpx.AsyncClient(timeout=timeout_s) as http:
                return await self._lists_alias(http)
        except httpx.HTTPError:
            return False

    async def _lists_alias(self, http: httpx.AsyncClient) -> bool:
        reply = await http.get(f"{self.base_url}/models")
        if reply.status_code != 200:
            return False
        ids = [str(item.get("id")) for item in reply.json().get("data", []) if isinstance(item, dict)]
        return self.spec.alias in ids

    async def _wait_healthy(self, deadline: float) -> None:
        async with httpx.AsyncClient(timeout=2.0) as http:
            while True:
                if not self.is_alive():
                    code = self.process.returncode if self.process else None
                    raise self._start_error(f"exited with code {code} while starting")
                try:
                    if await self._lists_alias(http):
                        return
                except (httpx.HTTPError, ValueError):
                    pass  # not listening yet
                if time.monotonic() > deadline:
                    raise self._start_error(
                        f"did not become healthy within {self._settings.embedded_start_timeout_s:.0f} s "
                        "(raise RAGSTAGE_EMBEDDED_START_TIMEOUT_S on a slow machine)"
                    )
                await asyncio.sleep(_HEALTH_POLL_S)

    async def _warm_up(self, deadline: float) -> None:
        """One tiny generation: proves the model really runs on this CPU before anyone waits on it."""
        body = {"model": self.spec.alias, "messages": [{"role": "user", "content": "Say OK."}], "max_tokens": 1}
        timeout_s = max(deadline - time.monotonic(), 1.0)
        try:
            async with httpx.AsyncClient(timeout=timeout_s) as http:
                reply = await http.post(f"{self.base_url}/chat/completions", json=body)
            reply.raise_for_status()
        except httpx.HTTPError as err:
            await asyncio.sleep(_HEALTH_POLL_S)  # let a crashing process finish dying
            code = self.process.poll() if self.process else None
            raise self._start_error(f"failed its warm-up prompt ({type(err).__name__}, exit code {code})") from err

    def _start_error(self, what: str) -> ModelUnreachable:
        return ModelUnreachable(
            f"The embedded model server for {self.spec.display_name} {what}. "
            f"Its log ({self.log_path}) ends with: {self.log_tail()[-_LOG_TAIL_CHARS:]!r}",
            url=self.base_url,
        )

    def log_tail(self) -> str:
        try:
            data = self.log_path.read_bytes() if self.log_path else b""
        except OSError:
            return ""
        return data[-8192:].decode("utf-8", errors="replace")

    async def astop(self) -> None:
        """`stop` in a worker thread: waiting for the process must not stall other sessions."""
        await asyncio.to_thread(self.stop)

    def stop(self) -> None:
        """Terminate the process group, then kill it if it lingers. Safe to call twice."""
        process, self.process = self.process, None
        _LIVE_SERVERS.discard(self)
        if process is None or process.poll() is not None:
            return  # already reaped, or died on its own: keep its log for diagnosis
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)  # a clean stop leaves no litter


def _detach_options() -> dict[str, object]:
    if os.name == "nt":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    options: dict[str, object] = {"start_new_session": True}
    if sys.platform.startswith("linux"):
        options["preexec_fn"] = _child_setup(os.getpid())
    return options


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    try:
        if os.name == "nt":
            process.kill() if sig == getattr(signal, "SIGKILL", None) else process.terminate()
        else:
            os.killpg(process.pid, sig)  # its own session: pgid == pid
    except (ProcessLookupError, PermissionError):
        pass


def _log_dir() -> Path:
    folder = Path(tempfile.gettempdir()) / "ragstage-servers"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@atexit.register
def stop_all_servers() -> None:
    """Stops every server this process started (normal exit, Ctrl-C, sys.exit)."""
    for server in list(_LIVE_SERVERS):
        server.stop()
