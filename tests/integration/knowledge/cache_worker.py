"""A separate process that hammers one shared cache folder (see test_shared_cache_processes.py).

    python cache_worker.py write FOLDER CACHE_DIR ROUNDS   # edit counter.md, refresh (saves the cache)
    python cache_worker.py read  FOLDER CACHE_DIR SECONDS  # load the cache again and again, check it

The reader prints one JSON line: how many loads it did, and every problem it saw.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import time
from pathlib import Path

from ragstage.knowledge import KnowledgeBase
from ragstage.knowledge.cache import CacheUnusable, FolderCache, cache_root
from ragstage.settings import Settings

SIZE, OVERLAP = 64, 8


def counter_text(n: int) -> str:
    filler = " ".join(f"word{i}" for i in range(400))  # several chunks: a save takes a while
    return f"# Counter\n\nThis is iteration number {n} of the counter.\n\n{filler}\n"


def write(folder: Path, cache_dir: Path, rounds: int) -> None:
    settings = Settings(_env_file=None, cache_dir=cache_dir, chunk_size_tokens=SIZE, chunk_overlap_tokens=OVERLAP)
    kb = KnowledgeBase.open(folder, settings)
    for n in range(1, rounds + 1):
        (folder / "counter.md").write_text(counter_text(n))
        report = kb.refresh()
        assert not report.warnings, report.warnings
    print(json.dumps({"rounds": rounds}), flush=True)


def check(folder: Path, cache_dir: Path) -> str | None:
    """None when the cache is absent or whole: its index and its file records belong together."""
    try:
        loaded = FolderCache(cache_root(cache_dir, folder), folder).load(SIZE, OVERLAP)
    except (CacheUnusable, OSError) as err:
        return f"{type(err).__name__}: {err}"
    if loaded is None:
        return None
    index, files = loaded
    chunks = index.chunks_of("counter.md")
    if not chunks or "counter.md" not in files:
        return "counter.md missing from index or records"
    found = re.search(r"iteration number (\d+)", chunks[0].text)
    if not found:
        return "counter.md text unreadable"
    expected = hashlib.sha256(counter_text(int(found.group(1))).encode()).hexdigest()
    if files["counter.md"].sha256 != expected:
        return f"index holds iteration {found.group(1)} but the records describe other content"
    if sorted(index.sources) != sorted(rel for rel, r in files.items() if not r.skipped_reason):
        return "index sources and records disagree"
    return None


def read(folder: Path, cache_dir: Path, seconds: float) -> None:
    loads, problems = 0, []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        problem = check(folder, cache_dir)
        loads += 1
        if problem:
            problems.append(problem)
    print(json.dumps({"loads": loads, "problems": problems[:20], "problem_count": len(problems)}), flush=True)


if __name__ == "__main__":
    role, folder, cache_dir, amount = sys.argv[1:5]
    {"write": lambda: write(Path(folder), Path(cache_dir), int(amount)),
     "read": lambda: read(Path(folder), Path(cache_dir), float(amount))}[role]()
