import os
import socket
import time

from ragstage.evaluation.memory import PeakRssSampler, listening_pid, resident_bytes


def test_the_process_listening_on_a_local_url_is_found():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert listening_pid(f"http://127.0.0.1:{port}/v1") == os.getpid()
        assert listening_pid(f"http://localhost:{port}/v1") == os.getpid()


def test_remote_and_unused_urls_have_no_local_process():
    assert listening_pid("https://api.example.com/v1") is None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    assert listening_pid(f"http://127.0.0.1:{free_port}/v1") is None


def test_peak_rss_sees_memory_allocated_while_sampling():
    before = resident_bytes(os.getpid())
    with PeakRssSampler({"me": os.getpid(), "nobody": None}, interval_s=0.01) as sampler:
        ballast = bytearray(64 * 2**20)
        ballast[:: 4096] = b"x" * len(ballast[:: 4096])  # touch every page so it is resident
        time.sleep(0.2)  # the sampling thread runs while the ballast is alive
        del ballast
    peaks = sampler.peak_mb()
    assert set(peaks) == {"me"}
    assert peaks["me"] * 2**20 >= before + 48 * 2**20


def test_a_process_that_is_gone_has_no_memory():
    assert resident_bytes(2**22 + 12345) is None
