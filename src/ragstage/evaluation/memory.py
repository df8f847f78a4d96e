"""Peak resident memory of a local model server while it answers.

The server is found by the port its base URL listens on, which works the same for the embedded
llama.cpp servers and for any other server on this machine (Ollama, Foundry Local) that we may
inspect. A background thread samples RSS (server plus its children) so the peak between
samples is seen, not just the value at the end.
"""

from __future__ import annotations

import threading
from urllib.parse import urlparse

import psutil

_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


def listening_pid(base_url: str) -> int | None:
    """The local process listening on `base_url`'s port, or None (remote host, no permission)."""
    parsed = urlparse(base_url)
    if parsed.hostname not in _LOCAL_HOSTS:
        return None
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        connections = psutil.net_connections(kind="tcp")
    except (psutil.AccessDenied, OSError):
        return None
    for conn in connections:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
            return conn.pid
    return None


def resident_bytes(pid: int) -> int | None:
    try:
        process = psutil.Process(pid)
        processes = [process, *process.children(recursive=True)]
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    total = 0
    for proc in processes:
        try:
            total += proc.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


class PeakRssSampler:
    """`with PeakRssSampler({"slm": pid}) as s: ...` then `s.peak_mb()` -> {"slm": 310.2}."""

    def __init__(self, pids: dict[str, int | None], interval_s: float = 0.1) -> None:
        self._pids = {name: pid for name, pid in pids.items() if pid}
        self._peaks: dict[str, int] = {}
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peak-rss", daemon=True)

    def _sample(self) -> None:
        for name, pid in self._pids.items():
            rss = resident_bytes(pid)
            if rss is not None:
                self._peaks[name] = max(self._peaks.get(name, 0), rss)

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self._sample()

    def __enter__(self) -> PeakRssSampler:
        self._sample()
        if self._pids:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self._sample()

    def peak_mb(self) -> dict[str, float | None]:
        return {name: (self._peaks[name] / 2**20 if name in self._peaks else None) for name in self._pids}
