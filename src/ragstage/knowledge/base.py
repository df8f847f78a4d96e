"""KnowledgeBase: a folder of documents, its index, and the cache that makes restarts instant.

A restart with unchanged files reads no document (size and mtime match the cache manifest; a
touched file is hashed and reused when its content is the same). Files that cannot be indexed
are reported with a reason and the rest carries on; a damaged cache is rebuilt, an unwritable
one is skipped with a warning: the knowledge base itself never fails to open.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragstage.knowledge.cache import CacheUnusable, FileRecord, FolderCache, cache_root
from ragstage.knowledge.index import ChunkIndex
from ragstage.knowledge.loaders import is_supported, load_file_bytes, read_file, unsupported_reason
from ragstage.knowledge.records import Document, DocumentError

if TYPE_CHECKING:
    from ragstage.settings import Settings

# progress(done, total): called as files are parsed, e.g. to drive a progress bar.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class IngestReport:
    documents: int
    chunks: int
    skipped: tuple[tuple[str, str], ...]  # (path relative to the folder, reason)
    seconds: float
    cache_used: bool
    warnings: tuple[str, ...] = ()
    parsed: int = 0  # files read and chunked this time (0 on a warm restart)
    removed: int = 0  # documents dropped because their file disappeared or broke

    def to_json(self) -> dict[str, Any]:
        return {"documents": self.documents, "chunks": self.chunks,
                "skipped": [{"path": path, "reason": reason} for path, reason in self.skipped],
                "seconds": round(self.seconds, 3), "cache_used": self.cache_used,
                "warnings": list(self.warnings), "parsed": self.parsed, "removed": self.removed}


@dataclass
class _Pass:
    """What one refresh found, before it is applied to the index."""

    records: dict[str, FileRecord] = field(default_factory=dict)
    to_parse: list[tuple[str, Path, bytes, os.stat_result]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _folder_files(folder: Path) -> list[tuple[str, Path]]:
    """Visible regular files under `folder`, never following links out of it."""
    root = folder.resolve()
    found = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if path.is_symlink() and not path.resolve().is_relative_to(root):
            continue
        found.append((rel.as_posix(), path))
    return sorted(found)


class KnowledgeBase:
    def __init__(self, folder: Path, settings: Settings, index: ChunkIndex, cache: FolderCache | None) -> None:
        self.folder = Path(folder)
        self.settings = settings
        self.index = index
        self._cache = cache
        self._files: dict[str, FileRecord] = {}
        self._lock = threading.Lock()
        self.report = IngestReport(0, 0, (), 0.0, False)

    @classmethod
    def open(cls, folder: Path, settings: Settings, progress: Progress | None = None) -> KnowledgeBase:
        """Index `folder`, reusing the cache for every file whose content has not changed.

        Raises FileNotFoundError when `folder` does not exist; bad files and caches never raise.
        """
        started = time.perf_counter()
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"knowledge folder {folder} does not exist")
        size, overlap = settings.chunk_size_tokens, settings.chunk_overlap_tokens
        cache = FolderCache(cache_root(Path(settings.cache_dir), folder), folder)
        warnings: list[str] = []
        loaded = None
        try:
            loaded = cache.load(size, overlap)
        except CacheUnusable as err:
            warnings.append(f"cache at {cache.root} was not usable ({err}): rebuilt from the files")
        except OSError as err:
            warnings.append(f"cache at {cache.root} could not be read ({err.strerror or err}): rebuilt")
        base = cls(folder, settings, loaded[0] if loaded else ChunkIndex(size, overlap), cache)
        if loaded:
            base._files = loaded[1]
        base.report = base._refresh(progress, started, warnings, cache_used=loaded is not None)
        return base

    def refresh(self, progress: Progress | None = None) -> IngestReport:
        """Pick up changed, added and deleted files; searches keep working meanwhile."""
        self.report = self._refresh(progress, time.perf_counter(), [], cache_used=self._cache is not None)
        return self.report

    def _refresh(self, progress: Progress | None, started: float, warnings: list[str], cache_used: bool) -> IngestReport:
        with self._lock:
            if not self.folder.is_dir():  # unmounted or renamed while running: keep what we have
                warnings.append(f"knowledge folder {self.folder} is missing: kept the current index")
                return IngestReport(self.index.document_count, self.index.chunk_count, self.report.skipped,
                                    time.perf_counter() - started, False, tuple(warnings))
            found = self._scan()
            documents = self._parse(found, progress)
            gone = [s for s in self.index.sources if s not in found.records or found.records[s].skipped_reason]
            if documents:
                self.index.add_many(documents)
            for source in gone:
                self.index.remove(source)
            changed = bool(documents or gone or found.records != self._files)
            self._files = found.records
            if changed and self._cache is not None:
                self._save_cache(warnings)
            return IngestReport(
                self.index.document_count, self.index.chunk_count, tuple(sorted(found.skipped)),
                time.perf_counter() - started, cache_used and self._cache is not None, tuple(warnings),
                parsed=len(found.to_parse), removed=len(gone),
            )

    def _scan(self) -> _Pass:
        """Decide per file: reuse (unchanged), parse (new or changed) or skip (with reason)."""
        found = _Pass()
        indexed = set(self.index.sources)
        for rel, path in _folder_files(self.folder):
            if not is_supported(path):
                found.skipped.append((rel, unsupported_reason(path.suffix.lower())))
                continue
            try:
                stat = path.stat()
                old = self._files.get(rel)
                if old and (old.size, old.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
                    self._keep(found, rel, old)
                    continue
                data = read_file(path)
            except (OSError, DocumentError) as err:
                found.skipped.append((rel, getattr(err, "reason", None) or f"cannot read file ({err})"))
                continue
            sha = hashlib.sha256(data).hexdigest()
            if old and old.sha256 == sha and (old.skipped_reason or rel in indexed):
                self._keep(found, rel, FileRecord(sha, stat.st_size, stat.st_mtime_ns, old.skipped_reason))
            else:
                found.to_parse.append((rel, path, data, stat))
        return found

    def _keep(self, found: _Pass, rel: str, record: FileRecord) -> None:
        found.records[rel] = record
        if record.skipped_reason:
            found.skipped.append((rel, record.skipped_reason))

    def _parse(self, found: _Pass, progress: Progress | None) -> list[Document]:
        documents = []
        for done, (rel, path, data, stat) in enumerate(found.to_parse, start=1):
            sha = hashlib.sha256(data).hexdigest()
            try:
                documents.append(load_file_bytes(path, data, source=rel))
                found.records[rel] = FileRecord(sha, stat.st_size, stat.st_mtime_ns)
            except DocumentError as err:
                found.records[rel] = FileRecord(sha, stat.st_size, stat.st_mtime_ns, err.reason)
                found.skipped.append((rel, err.reason))
            if progress is not None:
                progress(done, len(found.to_parse))
        return documents

    def _save_cache(self, warnings: list[str]) -> None:
        assert self._cache is not None
        try:
            self._cache.save(self.index, self._files)
        except OSError as err:
            warnings.append(f"cache directory {self._cache.root} is not writable ({err.strerror or err}): "
                            "running without a cache, the next start re-reads every file")
            self._cache = None
