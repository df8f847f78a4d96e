"""Folder-watch benchmark: time from a file written into the knowledge folder to the first
search that finds it, with the app's real watcher (watchfiles + KnowledgeBase.update), at 1k and
100k chunks.

For each size a knowledge folder of Markdown files is written (100 sections per file, one chunk
per section; texts: the scaled Cranfield abstracts of benchmarks/retrieval.py), opened once (this
builds the cache), and watched with the default quiet period (`RAGSTAGE_KNOWLEDGE_WATCH_QUIET_MS`,
300 ms: editors save in several steps, so a change is applied once the folder is quiet). Then,
`--repeats` times: write a new 3-section file with a unique word, and poll `index.search` every
2 ms until it is found. Also, once per size: an edit of an existing file and a deletion.

Printed per size: write->searchable p50 / max (ms), of which the quiet period and the
`update` (read, parse, index) took what, and the time until the cache on disk also had it.
Baseline, same run: a full `KnowledgeBase.refresh()` (rescan every file and rewrite the cache,
what picking up a change cost before the watcher), as a ratio.

    .venv/bin/python benchmarks/folder_watch.py [--sizes 1000 100000] [--repeats 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from retrieval import scaled_texts  # noqa: E402

from ragstage.knowledge import KnowledgeBase  # noqa: E402
from ragstage.knowledge.base import IngestReport  # noqa: E402
from ragstage.knowledge.cache import cache_root  # noqa: E402
from ragstage.knowledge.watcher import FolderWatcher  # noqa: E402
from ragstage.settings import Settings  # noqa: E402

SECTIONS_PER_FILE = 100
POLL_S = 0.002
TIMEOUT_S = 60.0


def markdown_file(title: str, texts: list[str]) -> str:
    return f"# {title}\n\n" + "".join(f"## Section {i}\n\n{text}\n\n" for i, text in enumerate(texts))


def write_folder(folder: Path, chunks: int) -> None:
    folder.mkdir(parents=True)
    texts = scaled_texts(chunks)
    for start in range(0, chunks, SECTIONS_PER_FILE):
        number = start // SECTIONS_PER_FILE
        (folder / f"doc{number:05d}.md").write_text(markdown_file(f"Document {number}", texts[start:start + SECTIONS_PER_FILE]))


def wait_for(condition, what: str, poll_s: float = POLL_S) -> float:
    """Seconds until `condition()` holds (polled every `poll_s`)."""
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > TIMEOUT_S:
            raise RuntimeError(f"not within {TIMEOUT_S} s: {what}")
        time.sleep(poll_s)
    return time.perf_counter() - started


def found(kb: KnowledgeBase, word: str, source: str | None) -> bool:
    hits = kb.index.search(word, 1)
    return bool(hits) and hits[0].chunk.source == source if source else not hits


def cached(kb: KnowledgeBase, settings: Settings, source: str) -> bool:
    """The cache's manifest (switched only once its generation is complete) lists `source`.
    Only the manifest is read: loading a 100k-chunk index every poll would slow the app down."""
    manifest = cache_root(Path(settings.cache_dir), kb.folder) / "manifest.json"
    try:
        return source in json.loads(manifest.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError):
        return False


def timed_change(kb: KnowledgeBase, reports: list[IngestReport], write, condition) -> dict[str, float]:
    before = len(reports)
    started = time.perf_counter()
    write()
    wait_for(condition, "change searchable")
    searchable_s = time.perf_counter() - started
    update_s = sum(r.seconds for r in reports[before:])
    return {"searchable_ms": searchable_s * 1000, "update_ms": update_s * 1000}


def bench_size(chunks: int, repeats: int, work: Path) -> dict[str, float]:
    folder = work / f"knowledge-{chunks}"
    settings = Settings(_env_file=None, knowledge_dir=folder, cache_dir=work / "cache")
    write_folder(folder, chunks)
    started = time.perf_counter()
    kb = KnowledgeBase.open(folder, settings)
    build_s = time.perf_counter() - started
    reports: list[IngestReport] = []
    watcher = FolderWatcher(kb, settings.knowledge_watch_quiet_ms, on_update=reports.append).start()
    time.sleep(1.0)  # inotify watches in place
    adds, updates, cache_ms = [], [], []
    try:
        for serial in range(repeats):
            word, name = f"watchmarker{serial}x", f"new-{serial}.md"
            text = markdown_file(f"New {serial}", scaled_texts(3, seed=500 + serial)[:2] + [f"The {word} is here."])
            change = timed_change(kb, reports, lambda: (folder / name).write_text(text),
                                  lambda: found(kb, word, name))
            adds.append(change["searchable_ms"])
            updates.append(change["update_ms"])
            t0 = time.perf_counter()
            cache_ms.append(change["searchable_ms"] + wait_for(lambda: cached(kb, settings, name), "cached", 0.05) * 1000)
            time.sleep(max(0.0, 0.5 - (time.perf_counter() - t0)))
        target = folder / "doc00000.md"
        edit = timed_change(kb, reports, lambda: target.write_text(target.read_text() + "\n\nAn editedmarker line.\n"),
                            lambda: found(kb, "editedmarker", "doc00000.md"))
        delete = timed_change(kb, reports, lambda: (folder / "new-0.md").unlink(),
                              lambda: found(kb, "watchmarker0x", None))
    finally:
        watcher.stop()
    (folder / "baseline.md").write_text(markdown_file("Baseline", ["A baselinemarker line."]))
    t0 = time.perf_counter()
    kb.refresh()
    refresh_ms = (time.perf_counter() - t0) * 1000
    assert found(kb, "baselinemarker", "baseline.md")
    return {"chunks": kb.index.chunk_count, "files": kb.index.document_count, "build_s": build_s,
            "add_p50_ms": statistics.median(adds), "add_max_ms": max(adds),
            "update_p50_ms": statistics.median(updates), "quiet_ms": settings.knowledge_watch_quiet_ms,
            "cache_written_p50_ms": statistics.median(cache_ms), "edit_ms": edit["searchable_ms"],
            "delete_ms": delete["searchable_ms"], "full_refresh_ms": refresh_ms}


def row(result: dict[str, float]) -> str:
    return (f"{result['chunks']:>7} chunks ({result['files']} files, built in {result['build_s']:.1f} s): "
            f"write->searchable p50 {result['add_p50_ms']:.0f} ms, max {result['add_max_ms']:.0f} ms "
            f"(quiet period {result['quiet_ms']} ms + update p50 {result['update_p50_ms']:.0f} ms); "
            f"edit {result['edit_ms']:.0f} ms, delete {result['delete_ms']:.0f} ms; "
            f"cache on disk after {result['cache_written_p50_ms']:.0f} ms; "
            f"baseline full refresh {result['full_refresh_ms']:.0f} ms "
            f"(= {result['full_refresh_ms'] / result['update_p50_ms']:.0f}x the update)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print a JSON object keyed by chunk count last")
    args = parser.parse_args(argv)
    results = {}
    with tempfile.TemporaryDirectory(prefix="ragstage-watch-bench-") as work:
        for size in args.sizes:
            results[str(size)] = bench_size(size, args.repeats, Path(work))
            print(row(results[str(size)]), flush=True)
    if args.json:
        print(json.dumps({k: {m: round(v, 1) for m, v in r.items()} for k, r in results.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
