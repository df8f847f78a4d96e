"""benchmarks/load.py runs end to end (N = 1, 2, briefly) so it cannot rot: real chainlit,
Socket.IO clients, uploads over HTTP, the isolation check, and its --json contract."""

from __future__ import annotations

import json
import subprocess
import sys

from fault_kit import ROOT


def test_load_benchmark_runs_and_reports_json_keyed_by_session_count(tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "load.py"), "--levels", "1,2", "--think-s", "0.1",
         "--timeout-s", "60", "--json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(report) == {"1", "2"}
    for level in report.values():
        assert set(level) == {"p50_ms", "p95_ms", "errors", "lost"}
        assert level["errors"] == 0 and level["lost"] == 0
        assert 0 < level["p50_ms"] <= level["p95_ms"]
