"""Keep a KnowledgeBase in step with its folder while the app runs.

A file dropped into, edited in, renamed in or deleted from the knowledge folder is applied to
the shared index within about a second, without a restart. Editors save in several steps (write
a temporary file, rename, touch): changes are collected until the folder has been quiet for
`quiet_ms`, then applied together. Only the files concerned are read (`KnowledgeBase.update`);
the on-disk cache is written afterwards by a second thread, so a large index is searchable
before its cache is saved. On a network share, where file-system events from other machines do
not arrive, set `WATCHFILES_FORCE_POLLING=1` (watchfiles then polls the folder).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import watchfiles

if TYPE_CHECKING:
    from ragstage.knowledge.base import IngestReport, KnowledgeBase

log = logging.getLogger(__name__)
MAX_BATCH_MS = 5_000  # a change is applied at the latest this long after it happened, even mid-burst
RETRY_AFTER_S = 5.0
SAVE_QUIET_S = 1.0  # the cache is written once no change has been applied for this long  # the watch failed (folder gone, watch limit reached): try again after this


class FolderWatcher:
    """Applies changes in `knowledge.folder` to `knowledge` until `stop()`."""

    def __init__(self, knowledge: KnowledgeBase, quiet_ms: int = 300,
                 on_update: Callable[[IngestReport], None] | None = None) -> None:
        self.knowledge = knowledge
        self.quiet_ms = quiet_ms
        self.on_update = on_update
        self._stop = threading.Event()
        self._save_wanted = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> FolderWatcher:
        for target, name in ((self._watch_loop, "ragstage-knowledge-watch"), (self._save_loop, "ragstage-cache-save")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop watching; a cache write in progress is finished, a pending one is done now."""
        self._stop.set()
        self._save_wanted.set()
        for thread in self._threads:
            thread.join(timeout_s)
        self._threads.clear()

    def apply(self, paths: set[Path]) -> IngestReport:
        """Apply one batch of changed paths now (the watch thread calls this)."""
        report = self.knowledge.update(paths)
        self._save_wanted.set()
        log.info("knowledge folder: %d changed path(s) applied in %.0f ms (%d documents, %d passages)",
                 len(paths), report.seconds * 1000, report.documents, report.chunks)
        if self.on_update is not None:
            self.on_update(report)
        return report

    def _watch_loop(self) -> None:
        folder = self.knowledge.folder.resolve()
        while not self._stop.is_set():
            try:
                for changes in watchfiles.watch(folder, step=self.quiet_ms, debounce=max(MAX_BATCH_MS, self.quiet_ms),
                                                stop_event=self._stop, rust_timeout=1_000, raise_interrupt=False,
                                                watch_filter=None):  # the folder scan decides what counts
                    self._apply_logged({Path(path) for _, path in changes})
                return
            except Exception as err:  # the watch itself failed: keep serving, try again later
                log.warning("watching %s failed (%s); retrying in %.0f s", folder, err, RETRY_AFTER_S)
                if self._stop.wait(RETRY_AFTER_S):
                    return
                self._resync()

    def _resync(self) -> None:
        """After a gap in watching, events may have been missed: compare the whole folder."""
        self._apply_logged({self.knowledge.folder})

    def _apply_logged(self, paths: set[Path]) -> None:
        try:
            self.apply(paths)
        except Exception:  # a bug reading one batch must not end the watching
            log.exception("applying changes in the knowledge folder failed: %s", sorted(map(str, paths))[:5])

    def _save_loop(self) -> None:
        """Write the cache once changes have stopped for SAVE_QUIET_S: a burst of copied files
        is saved once, and a large save (seconds at 100k chunks) rarely competes with an update."""
        while True:
            self._save_wanted.wait()
            self._save_wanted.clear()
            while not self._stop.is_set() and self._save_wanted.wait(SAVE_QUIET_S):
                self._save_wanted.clear()
            for warning in self.knowledge.save_cache():
                log.warning("%s", warning)
            if self._stop.is_set():
                return
