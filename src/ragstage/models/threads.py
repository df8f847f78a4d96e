"""How many CPU threads an embedded llama.cpp server gets (`RAGSTAGE_EMBEDDED_THREADS=0`: auto).

llama.cpp splits every matrix product across its threads and waits at a barrier for the slowest
one, so a thread that the kernel deschedules stalls all the others. Measured on a 2-core machine:
quiet, 2 threads halved the 1.5B model's time to first token against 1 (22.5 s -> 11.8 s); with
the cores already busy, 2 threads made whole answers 5 to 7 times slower than 1. So auto uses
the CPUs this process may run on, minus the share other work keeps busy when the server starts:
every core on an idle presenter's laptop, one thread on a saturated shared machine.
"""

from __future__ import annotations

import os

import psutil



def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, which containers and `taskset` narrow),
    not the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def busy_share() -> float:
    """Share of the machine's CPUs already busy (1-minute load average over CPU count, at most 1)."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # Windows
        return psutil.cpu_percent(interval=0.1) / 100
    return min(1.0, load / (os.cpu_count() or 1))


def _physical_share() -> float:
    logical, physical = psutil.cpu_count(logical=True), psutil.cpu_count(logical=False)
    return physical / logical if logical and physical else 1.0


def thread_counts(configured: int, cpus: int | None = None, smt_ratio: float | None = None,
                  busy: float | None = None) -> tuple[int, int]:
    """(generation threads, prompt-processing threads) for one embedded server.

    A positive `configured` count (the role's `RAGSTAGE_EMBEDDED_THREADS`) sets both. 0 (the default): prompt processing
    (compute-bound; it dominates time to first token) gets the usable CPUs that are not busy;
    generation (memory-bound) one thread per physical core among those, since a core's second
    hardware thread shares its memory bandwidth and only adds contention. Hybrid stages and
    compare answers run one after the other, so each server may use all of them."""
    if configured > 0:
        return configured, configured
    cpus = cpus if cpus is not None else usable_cpus()
    busy = busy if busy is not None else busy_share()
    smt_ratio = smt_ratio if smt_ratio is not None else _physical_share()
    prompt_threads = min(cpus, max(1, round(cpus * (1.0 - busy))))
    return max(1, round(prompt_threads * smt_ratio)), prompt_threads
