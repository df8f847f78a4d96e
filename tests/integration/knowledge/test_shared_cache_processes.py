"""Two real processes share one cache folder (app instances on one machine or volume): one keeps
changing the folder and rewriting the cache, the other keeps loading it. The reader must never
see a half-written cache, nor an index that does not match its file records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cache_worker import check, counter_text

from ragstage.knowledge import KnowledgeBase
from ragstage.settings import Settings

WORKER = Path(__file__).with_name("cache_worker.py")


def knowledge_folder(root: Path) -> Path:
    folder = root / "knowledge"
    folder.mkdir()
    for n in range(30):
        (folder / f"doc{n:02d}.md").write_text(f"# Document {n}\n\n" + " ".join(f"term{n}x{i}" for i in range(300)))
    (folder / "counter.md").write_text(counter_text(0))
    return folder


def start(role: str, folder: Path, cache_dir: Path, amount: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAGSTAGE_")}
    return subprocess.Popen([sys.executable, str(WORKER), role, str(folder), str(cache_dir), amount],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def finish(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def test_a_reader_process_never_sees_a_half_written_cache(tmp_path: Path) -> None:
    folder, cache_dir = knowledge_folder(tmp_path), tmp_path / "shared-cache"
    writer = start("write", folder, cache_dir, "40")
    reader = start("read", folder, cache_dir, "15")
    written, seen = finish(writer), finish(reader)
    assert written == {"rounds": 40}
    assert seen["loads"] >= 20, seen  # it really read while the writer wrote
    assert seen["problem_count"] == 0, seen["problems"]
    assert check(folder, cache_dir) is None


def test_two_writer_processes_leave_one_whole_cache(tmp_path: Path) -> None:
    folder, cache_dir = knowledge_folder(tmp_path), tmp_path / "shared-cache"
    writers = [start("write", folder, cache_dir, "15") for _ in range(2)]
    reader = start("read", folder, cache_dir, "8")
    assert [finish(w) for w in writers] == [{"rounds": 15}] * 2
    assert finish(reader)["problem_count"] == 0
    assert check(folder, cache_dir) is None
    settings = Settings(_env_file=None, cache_dir=cache_dir, chunk_size_tokens=64, chunk_overlap_tokens=8)
    reopened = KnowledgeBase.open(folder, settings)
    assert reopened.report.cache_used and not reopened.report.warnings
    assert len([p for p in next(cache_dir.iterdir()).iterdir() if p.name.startswith("gen-")]) == 1
