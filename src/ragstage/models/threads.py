"""How many CPU threads an embedded llama.cpp server gets (`RAGSTAGE_EMBEDDED_THREADS=0`: auto).

llama.cpp splits every matrix product across its threads and waits at a barrier for the slowest
one, so a thread that the kernel deschedules stalls all the others. Measured on a 2-core machine:
quiet, 2 threads halved the 1.5B model's time to first token against 1 (22.5 s -> 11.8 s); with
the cores already busy, 2 threads made whole answers 5 to 7 times slower than 1. So auto uses
the CPUs this process may run on, minus the share other work keeps busy when the server starts:
every core on an idle presenter's laptop, one thread on a saturated shared machine. "Busy" is
sampled at that moment, not read from the 1-minute load average: the average still remembers the
set-up, indexing or benchmark that ran just before, and measured so it gave a server started on
an idle 2-core machine one thread for its whole life (prefill at 0.56x of two threads).
"""

from __future__ import annotations

import os
import time

import psutil

BUSY_SAMPLE_S = 0.3

def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, which containers and `taskset` narrow),
    not the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def busy_share(sample_s: float = BUSY_SAMPLE_S) -> float:
    """Share of the machine's CPUs that other processes keep busy now (sampled for `sample_s`;
    this process's own work, such as indexing at launch, does not count)."""
    own = psutil.Process()
    own.cpu_percent(None), psutil.cpu_percent(None)  # start both counters
    time.sleep(sample_s)
    machine = psutil.cpu_percent(None)  # percent of all CPUs
    mine = own.cpu_percent(None) / (psutil.cpu_count() or 1)  # percent of one CPU -> of all
    return min(1.0, max(0.0, (machine - mine) / 100))


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
