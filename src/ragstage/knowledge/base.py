"""KnowledgeBase: a folder of documents, its index, and the cache that makes restarts instant.

A restart with unchanged files reads no document (size and mtime match the cache manifest; a
touched file is hashed and reused when its content is the same). Files that cannot be indexed
are reported with a reason and the rest carries on; a damaged cache is rebuilt, an unwritable
one is skipped with a warning: the knowledge base itself never fails to open.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragstage.knowledge.cache import CacheUnusable, FileRecord, FolderCache, cache_root
from ragstage.knowledge.index import ChunkIndex
from ragstage.knowledge.loaders import is_supported, load_file_bytes, read_file, unsupported_reason
from ragstage.knowledge.records import Document, DocumentError

if TYPE_CHECKING:
    from ragstage.settings import Settings

log = logging.getLogger(__name__)

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

    listed: list[tuple[str, Path]] = field(default_factory=list)  # the files looked at
    records: dict[str, FileRecord] = field(default_factory=dict)
    to_parse: list[tuple[str, Path, bytes, os.stat_result]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _folder_files(folder: Path, under: Path | None = None) -> list[tuple[str, Path]]:
    """Visible regular files under `folder` (or its sub-folder `under`), never following links
    out of it; names are relative to `folder`."""
    root = folder.resolve()
    found = []
    for path in (under or folder).rglob("*"):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if path.is_symlink() and not path.resolve().is_relative_to(root):
            continue
        found.append((rel.as_posix(), path))
    return sorted(found)


def _visible_rel(folder: Path, path: Path) -> str | None:
    """`path` relative to `folder` (posix; "" for the folder itself), or None when it is outside
    the folder or hidden."""
    try:
        rel = Path(path).absolute().relative_to(folder.absolute())
    except ValueError:
        try:  # the watcher reports resolved paths; the folder may have been given through a link
            rel = Path(path).absolute().relative_to(folder.resolve())
        except ValueError:
            return None
    if any(part.startswith(".") for part in rel.parts):
        return None
    return "" if not rel.parts else rel.as_posix()


class KnowledgeBase:
    def __init__(self, folder: Path, settings: Settings, index: ChunkIndex, cache: FolderCache | None) -> None:
        self.folder = Path(folder)
        self.settings = settings
        self.index = index
        self._cache = cache
        self._files: dict[str, FileRecord] = {}
        self._problems: dict[str, str] = {}  # path -> why it is not (or no longer) indexed as it is
        self._lock = threading.Lock()
        self._save_lock = threading.Lock()  # cache writes happen in snapshot order
        self._unsaved = False
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

    def update(self, paths: Iterable[Path]) -> IngestReport:
        """Apply what happened to `paths` (files or folders: created, changed, deleted, renamed)
        without rescanning the rest of the folder: what the folder watcher calls. The cache is
        not written here (see `save_cache`), so a change is searchable as soon as it is indexed."""
        return self._update(list(paths), None, time.perf_counter(), [], self._cache is not None)

    def save_cache(self) -> list[str]:
        """Write the cache if the index changed since the last write; returns warnings (if any)."""
        with self._save_lock:
            with self._lock:
                if not self._unsaved or self._cache is None:
                    return []
                cache, snapshot, files, self._unsaved = self._cache, self.index.fork(), dict(self._files), False
            try:
                cache.save(snapshot, files)
            except OSError as err:
                self._cache = None
                return [f"cache directory {cache.root} is not writable ({err.strerror or err}): "
                        "running without a cache, the next start re-reads every file"]
            return []

    def _refresh(self, progress: Progress | None, started: float, warnings: list[str], cache_used: bool) -> IngestReport:
        report = self._update([self.folder], progress, started, warnings, cache_used)
        warnings += self.save_cache()
        return replace(report, warnings=tuple(warnings), cache_used=report.cache_used and self._cache is not None)

    def _update(self, paths: list[Path], progress: Progress | None, started: float, warnings: list[str],
                cache_used: bool) -> IngestReport:
        with self._lock:
            if not self.folder.is_dir():  # unmounted or renamed while running: keep what we have
                warnings.append(f"knowledge folder {self.folder} is missing: kept the current index")
                return IngestReport(self.index.document_count, self.index.chunk_count, self.report.skipped,
                                    time.perf_counter() - started, False, tuple(warnings))
            scope, files = self._scope(paths)
            self.report = self._apply(self._scan(files), scope, progress, started, warnings, cache_used)
            return self.report  # set under the lock: a slower, older update never overwrites it

    def _scope(self, paths: Iterable[Path]) -> tuple[set[str], list[tuple[str, Path]]]:
        """Every file name a change to `paths` may concern (a renamed folder concerns all the
        files it held; the folder itself concerns everything), and the files there now."""
        known = set(self.index.sources) | set(self._files) | set(self._problems)
        scope: set[str] = set()
        files: dict[str, Path] = {}
        for path in paths:
            rel = _visible_rel(self.folder, Path(path))
            if rel is None:
                continue
            scope.update(name for name in known if not rel or name == rel or name.startswith(rel + "/"))
            path = self.folder / rel
            if path.is_dir():
                files.update(_folder_files(self.folder, path))
            elif path.is_file() and (not path.is_symlink() or path.resolve().is_relative_to(self.folder.resolve())):
                files[rel] = path
        scope.update(files)
        return scope, sorted(files.items())

    def _apply(self, found: _Pass, scope: set[str], progress: Progress | None, started: float,
               warnings: list[str], cache_used: bool) -> IngestReport:
        """Index what `found` parsed and forget what vanished within `scope`. A file that is
        there but cannot be indexed keeps its previous version in the index, if it had one."""
        documents = self._parse(found, progress)
        listed = {rel for rel, *_ in found.listed}
        gone = [s for s in self.index.sources if s in scope and s not in listed]
        if documents:
            self.index.add_many(documents)
        for source in gone:
            self.index.remove(source)
        files = {rel: record for rel, record in self._files.items() if rel not in scope} | found.records
        self._unsaved = self._unsaved or bool(documents or gone) or files != self._files
        self._files = files
        for rel, reason in found.skipped:
            if self._problems.get(rel) != reason:
                kept = " (its previous version stays searchable)" if self.index.chunks_of(rel) else ""
                log.warning("knowledge file %s not indexed: %s%s", rel, reason, kept)
        self._problems = {rel: why for rel, why in self._problems.items() if rel not in scope} | dict(found.skipped)
        return IngestReport(
            self.index.document_count, self.index.chunk_count, tuple(sorted(self._problems.items())),
            time.perf_counter() - started, cache_used and self._cache is not None, tuple(warnings),
            parsed=len(found.to_parse), removed=len(gone),
        )

    def _scan(self, files: list[tuple[str, Path]]) -> _Pass:
        """Decide per file: reuse (unchanged), parse (new or changed) or skip (with reason)."""
        found = _Pass(listed=files)
        indexed = set(self.index.sources)
        for rel, path in files:
            if not is_supported(path):
                found.skipped.append((rel, unsupported_reason(path.suffix.lower())))
                continue
            old = self._files.get(rel)
            try:
                stat = path.stat()
                if old and (old.size, old.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
                    self._keep(found, rel, old)
                    continue
                data = read_file(path)
            except (OSError, DocumentError) as err:
                found.skipped.append((rel, getattr(err, "reason", None) or f"cannot read file ({err})"))
                if old:  # unreadable for now (e.g. mid-copy): remember what is indexed
                    found.records[rel] = old
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
