"""`ragstage index` and `ragstage search`: the knowledge base from a terminal or a script.

Both take `--knowledge DIR` (default: the RAGSTAGE_KNOWLEDGE_DIR setting); each folder gets its
own cache, so indexing one folder never disturbs another. `--json` output is for scripts and
evaluation: one object for `index`, a list of hits (or one line per query) for `search`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ragstage.cli import UsageError
from ragstage.knowledge import Hit, KnowledgeBase
from ragstage.settings import Settings

PROGRESS_BAR_MIN_FILES = 20  # below this a bar only flickers


def register(subparsers: argparse._SubParsersAction) -> None:
    index = subparsers.add_parser("index", help="index the knowledge folder (cached by content hash)")
    _add_common(index)
    index.set_defaults(handler=run_index)
    search = subparsers.add_parser("search", help="BM25 search over the knowledge folder")
    search.add_argument("query", nargs="?", help="what to search for")
    search.add_argument("-k", type=int, default=None, help="hits per query (default: the top_k setting)")
    search.add_argument("--queries", type=Path, metavar="FILE.jsonl",
                        help='batch mode: lines {"id", "text"}; prints one {"id", "hits"} line each')
    _add_common(search)
    search.set_defaults(handler=run_search)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--knowledge", type=Path, metavar="DIR", help="folder to index (default: setting)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


class _ProgressBar:
    """A tqdm bar on a terminal, created only once a folder turns out to be large."""

    def __init__(self) -> None:
        self._bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            if total < PROGRESS_BAR_MIN_FILES or not sys.stderr.isatty():
                return
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="file", desc="indexing", file=sys.stderr)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _open_knowledge(args: argparse.Namespace, progress: _ProgressBar | None = None) -> KnowledgeBase:
    settings = Settings()
    folder = args.knowledge if args.knowledge is not None else settings.knowledge_dir
    if not folder.is_dir():
        raise UsageError(f"knowledge folder not found: {folder}")
    try:
        return KnowledgeBase.open(folder, settings, progress=progress)
    finally:
        if progress is not None:
            progress.close()


def run_index(args: argparse.Namespace) -> int:
    knowledge = _open_knowledge(args, _ProgressBar())
    report = knowledge.report
    for warning in report.warnings:
        print(f"ragstage: warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
        return 0
    print(f"Indexed {report.documents} documents ({report.chunks} chunks) from {knowledge.folder} "
          f"in {report.seconds:.2f} s ({report.parsed} files read, the rest from the cache).")
    for path, reason in report.skipped:
        print(f"  skipped {path}: {reason}")
    return 0


def hit_json(hit: Hit) -> dict[str, Any]:
    chunk = hit.chunk
    return {"rank": hit.rank, "score": round(hit.score, 6), "source": chunk.source, "chunk_id": chunk.chunk_id,
            "title": chunk.title, "heading": chunk.heading, "page": chunk.page, "language": chunk.language,
            "start_char": chunk.start_char, "end_char": chunk.end_char, "text": chunk.text}


def _batch_queries(path: Path) -> Iterator[tuple[Any, str]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"cannot read queries file {path}: {err}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            query = json.loads(line)
            yield query["id"], str(query["text"])
        except (json.JSONDecodeError, KeyError, TypeError):
            raise UsageError(f'{path}:{number}: expected a JSON object with "id" and "text"') from None


def _check_search_args(args: argparse.Namespace) -> int:
    if (args.query is None) == (args.queries is None):
        raise UsageError("give either a QUERY or --queries FILE.jsonl")
    if args.queries is not None and not args.queries.is_file():
        raise UsageError(f"queries file not found: {args.queries}")
    k = args.k if args.k is not None else Settings().top_k
    if k < 1:
        raise UsageError(f"-k must be at least 1, got {k}")
    return k


def run_search(args: argparse.Namespace) -> int:
    k = _check_search_args(args)
    queries = list(_batch_queries(args.queries)) if args.queries is not None else None
    knowledge = _open_knowledge(args)
    for warning in knowledge.report.warnings:
        print(f"ragstage: warning: {warning}", file=sys.stderr)
    if queries is not None:
        for query_id, text in queries:
            hits = knowledge.index.search(text, k)
            print(json.dumps({"id": query_id, "hits": [hit_json(hit) for hit in hits]}, ensure_ascii=False))
        return 0
    hits = knowledge.index.search(args.query, k)
    if args.json:
        print(json.dumps([hit_json(hit) for hit in hits], ensure_ascii=False, indent=1))
        return 0
    if not hits:
        print("No passage matches that query.")
    for hit in hits:
        place = ", ".join(p for p in (hit.chunk.heading, f"p. {hit.chunk.page}" if hit.chunk.page else "") if p)
        language = f"  [{hit.chunk.language}]" if hit.chunk.language else ""
        print(f"[{hit.rank}] {hit.score:.3f}  {hit.chunk.source}{language}" + (f"  ({place})" if place else ""))
        print("    " + " ".join(hit.chunk.text.split())[:240])
    return 0
