"""A chat's own view of the knowledge: the shared folder index as it is NOW, plus its uploads.

A plain fork freezes the shared index at the moment of the first upload, so a chat with uploads
would never see a file added to the knowledge folder afterwards. This view re-forks the shared
index whenever it has changed since the last question and re-applies the chat's uploads from
their prepared (already chunked and analyzed) batches: O(1) fork plus one small merge, done
lazily, only by chats that ask again. Uploads never reach the shared index.
"""

from __future__ import annotations

import threading

from ragstage.knowledge.index import ChunkIndex, PreparedBatch
from ragstage.knowledge.records import Chunk, Document


class SessionIndex:
    def __init__(self, shared: ChunkIndex) -> None:
        self._shared = shared
        self._uploads: dict[str, PreparedBatch] = {}  # source -> its batch, in upload order
        self._view: ChunkIndex | None = None
        self._view_of: object = None  # the shared index's version the view was built from
        self._lock = threading.Lock()

    @property
    def upload_sources(self) -> list[str]:
        return list(self._uploads)

    def add(self, document: Document) -> list[Chunk]:
        """Index an upload for this chat only (replacing an earlier upload with the same source)."""
        batch = self._shared.prepare([document])
        with self._lock:
            self._uploads.pop(document.source, None)
            self._uploads[document.source] = batch
            if self._view is not None and self._view_of is self._shared.version:
                self._view.apply(batch)
            else:
                self._view = None  # rebuilt, with this upload, at the next `current()`
        return list(batch.chunks_by_source[document.source])

    def current(self) -> ChunkIndex:
        """The index to answer from: today's shared index plus this chat's uploads."""
        with self._lock:
            version = self._shared.version
            if self._view is None or self._view_of is not version:
                view = self._shared.fork()
                for batch in self._uploads.values():
                    view.apply(batch)
                self._view, self._view_of = view, version
            return self._view
