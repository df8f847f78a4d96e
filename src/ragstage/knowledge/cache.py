"""The per-folder cache: which file (by content hash) produced what, plus the saved index.

Layout under `<cache_dir>/<sha256 of the folder's absolute path>[:16]/`:
`manifest.json` names the current generation folder (`gen-<id>/`, a saved ChunkIndex) and
records every file's size, mtime and sha256. A new generation is written completely before
the manifest is switched to it (one atomic rename), so a crash never leaves a half cache.

Several processes may share one cache folder (app instances on one machine or one shared
volume): a writer holds an exclusive lock on `<root>/lock` while it writes, switches and drops
old generations; a reader holds a shared lock while it reads the manifest and its generation, so
no reader ever sees a generation being written or deleted under it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ragstage.knowledge.analyzer import analyzer_version
from ragstage.knowledge.index import ChunkIndex
from ragstage.knowledge.index_files import IndexFormatError

CACHE_FORMAT = "ragstage-folder-cache"
CACHE_VERSION = 1
LOCK_FILE = "lock"

try:
    import fcntl
except ImportError:  # Windows: msvcrt has exclusive locks only, so readers take turns too
    fcntl = None  # type: ignore[assignment]


@dataclass(frozen=True)
class FileRecord:
    """What we know about one file of the folder without reading it again."""

    sha256: str
    size: int
    mtime_ns: int
    skipped_reason: str | None = None  # set when the file could not be indexed


class CacheUnusable(Exception):
    """The cache exists but cannot be trusted (corrupt, truncated, other version)."""


def cache_root(cache_dir: Path, folder: Path) -> Path:
    """One cache per knowledge folder, so `--knowledge DIR` never mixes two folders."""
    key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    return Path(cache_dir) / key


class FolderCache:
    def __init__(self, root: Path, folder: Path) -> None:
        self.root = root
        self.folder = folder.resolve()

    def load(self, size_tokens: int, overlap_tokens: int) -> tuple[ChunkIndex, dict[str, FileRecord]] | None:
        """The cached index and file records; None when there is no cache or it is for other settings.

        Raises CacheUnusable when a cache exists but is damaged or from another version.
        """
        manifest_path = self.root / "manifest.json"
        if not manifest_path.exists():
            return None
        with _locked(self.root, exclusive=False):
            return self._load_locked(manifest_path, size_tokens, overlap_tokens)

    def _load_locked(self, manifest_path: Path, size_tokens: int, overlap_tokens: int
                     ) -> tuple[ChunkIndex, dict[str, FileRecord]] | None:
        manifest = self._read_manifest(manifest_path)
        if (manifest["size_tokens"], manifest["overlap_tokens"]) != (size_tokens, overlap_tokens):
            return None  # chunking settings changed: every chunk would differ
        if manifest.get("analyzer") != analyzer_version():
            return None  # written by another analyzer (an upgrade): its terms would not match queries
        try:
            index = ChunkIndex.load(self.root / manifest["generation"])
            files = {rel: FileRecord(**record) for rel, record in manifest["files"].items()}
        except (IndexFormatError, TypeError, AttributeError) as err:
            raise CacheUnusable(str(err)) from None
        if (index.size_tokens, index.overlap_tokens) != (size_tokens, overlap_tokens):
            raise CacheUnusable("index and manifest disagree on chunk sizes")
        return index, files

    def _read_manifest(self, path: Path) -> dict[str, Any]:
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise CacheUnusable(f"manifest unreadable ({err})") from None
        if not isinstance(manifest, dict) or manifest.get("format") != CACHE_FORMAT:
            raise CacheUnusable("not a ragstage cache")
        if manifest.get("version") != CACHE_VERSION:
            raise CacheUnusable(f"cache version {manifest.get('version')}, this ragstage writes {CACHE_VERSION}")
        generation = manifest.get("generation")
        if not isinstance(generation, str) or not generation.startswith("gen-") or "/" in generation:
            raise CacheUnusable("manifest names no valid generation")
        if not isinstance(manifest.get("files"), dict):
            raise CacheUnusable("manifest has no file list")
        return manifest

    def save(self, index: ChunkIndex, files: dict[str, FileRecord]) -> None:
        """Write a new generation, switch the manifest to it, then drop older generations.

        Raises OSError (read-only or full disk): the caller runs on without a cache.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with _locked(self.root, exclusive=True):
            self._save_locked(index, files)

    def _save_locked(self, index: ChunkIndex, files: dict[str, FileRecord]) -> None:
        generation = f"gen-{uuid.uuid4().hex[:12]}"
        try:
            index.save(self.root / generation)
            manifest = {
                "format": CACHE_FORMAT, "version": CACHE_VERSION, "folder": str(self.folder),
                "analyzer": analyzer_version(),
                "size_tokens": index.size_tokens, "overlap_tokens": index.overlap_tokens,
                "generation": generation, "files": {rel: asdict(record) for rel, record in sorted(files.items())},
            }
            tmp = self.root / f"manifest.{generation}.tmp"
            tmp.write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self.root / "manifest.json")
        except OSError:
            shutil.rmtree(self.root / generation, ignore_errors=True)
            raise
        self._drop_old_generations(keep=generation)

    def _drop_old_generations(self, keep: str) -> None:
        for entry in self.root.iterdir():
            if entry.name != keep and (entry.name.startswith("gen-") or entry.name.endswith(".tmp")):
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)


@contextmanager
def _locked(root: Path, exclusive: bool) -> Iterator[None]:
    """Hold the cache folder's lock: shared for readers, exclusive for the writer.

    A cache on a read-only mount cannot be written by anyone, so reading it needs no lock.
    """
    try:
        handle = open(root / LOCK_FILE, "a+b")
    except OSError:
        if exclusive:
            raise
        yield
        return
    with handle:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        else:
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
        yield  # closing the file releases the lock
