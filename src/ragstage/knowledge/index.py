"""ChunkIndex: BM25 search over chunks that stays searchable while documents come and go.

Every change builds a complete new immutable `_State` and then swaps one reference, so a
search running in another thread sees the old index or the new one, never a half-built one.
Adding a document rebuilds only the small delta segment; the base segment is rebuilt
(compacted) only when the delta grows past a fraction of it.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ragstage.knowledge.analyzer import analyze, analyze_passage, analyze_query
from ragstage.knowledge.chunking import chunk_document
from ragstage.knowledge.records import Chunk, Document, Hit
from ragstage.knowledge.segments import (
    EMPTY,
    CorpusStats,
    Segment,
    build_segment,
    corpus_stats,
    length_norm,
    merge_segments,
    score_segment,
)

DEFAULT_SIZE_TOKENS = 256
DEFAULT_OVERLAP_TOKENS = 32
# The delta is folded into the base once it exceeds this many chunks or this share of the base.
COMPACT_MIN_CHUNKS = 5_000
COMPACT_BASE_FRACTION = 0.125


def _indexed_text(chunk: Chunk) -> str:
    """What a chunk is found by: its words plus its heading path (the section it belongs to)."""
    return f"{chunk.heading}\n{chunk.text}" if chunk.heading else chunk.text


def index_terms(chunk: Chunk) -> list[str]:
    """The terms of an indexed chunk (analysed in its recorded language)."""
    return analyze(_indexed_text(chunk), chunk.language or None)


def analyzed_chunks(chunks: Iterable[Chunk]) -> tuple[list[Chunk], list[list[str]]]:
    """Each chunk with its detected language recorded, and its terms."""
    labelled, term_lists = [], []
    for chunk in chunks:
        analysed = analyze_passage(_indexed_text(chunk))
        labelled.append(replace(chunk, language=analysed.language))
        term_lists.append(analysed.terms)
    return labelled, term_lists


@dataclass(frozen=True, eq=False)
class _State:
    """One consistent version of the index. Never mutated after construction."""

    base: Segment
    base_alive: np.ndarray | None  # None: every base chunk alive
    base_ids: tuple[str, ...]
    base_pos: Mapping[str, int]
    delta: Segment
    delta_ids: tuple[str, ...]
    chunks: Mapping[str, Chunk]
    by_source: Mapping[str, tuple[str, ...]]
    languages: Mapping[str, int]  # chunks per detected language: what a query is analysed against
    base_df: np.ndarray
    stats: CorpusStats
    base_norm: np.ndarray
    delta_norm: np.ndarray

    @classmethod
    def create(cls, base: Segment, base_alive: np.ndarray | None, base_ids: tuple[str, ...],
               base_pos: Mapping[str, int] | None, delta: Segment, delta_ids: tuple[str, ...],
               chunks: Mapping[str, Chunk], by_source: Mapping[str, tuple[str, ...]],
               base_df: np.ndarray | None = None, languages: Mapping[str, int] | None = None) -> _State:
        if base_alive is not None and base_alive.all():
            base_alive = None
        if base_pos is None:
            base_pos = {chunk_id: i for i, chunk_id in enumerate(base_ids)}
        if base_df is None:
            base_df = base.live_df(base_alive)
        if languages is None:
            languages = Counter(chunk.language for chunk in chunks.values())
        stats = corpus_stats(base, base_alive, base_df, delta)
        return cls(base, base_alive, base_ids, base_pos, delta, delta_ids, chunks, by_source, languages, base_df,
                   stats, length_norm(base, stats.avgdl), length_norm(delta, stats.avgdl))


@dataclass(frozen=True, eq=False)
class PreparedBatch:
    """Documents chunked and analyzed, ready to be applied to any index with the same chunking."""

    chunks_by_source: Mapping[str, tuple[Chunk, ...]]
    segment: Segment


def _empty_state() -> _State:
    return _State.create(EMPTY, None, (), {}, EMPTY, (), {}, {})


class ChunkIndex:
    """BM25Okapi search over chunks; ties are broken by chunk id so results are reproducible."""

    def __init__(self, size_tokens: int = DEFAULT_SIZE_TOKENS, overlap_tokens: int = DEFAULT_OVERLAP_TOKENS,
                 *, _state: _State | None = None) -> None:
        self.size_tokens = size_tokens
        self.overlap_tokens = overlap_tokens
        self._state = _state or _empty_state()
        self._write_lock = threading.Lock()
        self._compaction_lock = threading.Lock()  # held while a compaction runs

    # --- reading -------------------------------------------------------------------------
    @property
    def sources(self) -> list[str]:
        return sorted(self._state.by_source)

    @property
    def chunk_count(self) -> int:
        return len(self._state.chunks)

    @property
    def document_count(self) -> int:
        return len(self._state.by_source)

    @property
    def languages(self) -> dict[str, int]:
        """Chunks per detected language ("" for chunks too short or odd to tell)."""
        return dict(self._state.languages)

    def chunk(self, chunk_id: str) -> Chunk:
        return self._state.chunks[chunk_id]

    def chunks_of(self, source: str) -> list[Chunk]:
        state = self._state
        return [state.chunks[chunk_id] for chunk_id in state.by_source.get(source, ())]

    def search(self, query: str, k: int) -> list[Hit]:
        """Top `k` chunks containing a query term, best first (equal scores: by chunk id)."""
        state = self._state  # one read: the whole search uses this version
        if k <= 0 or state.stats.n_docs == 0:
            return []
        terms = analyze_query(query, state.languages)
        weighted = [(term, state.stats.idf(self._df(state, term))) for term in terms]
        candidates: list[tuple[float, str]] = []
        for seg, norm, alive, ids in ((state.base, state.base_norm, state.base_alive, state.base_ids),
                                      (state.delta, state.delta_norm, None, state.delta_ids)):
            found = score_segment(seg, norm, weighted, alive)
            if found is not None:
                candidates.extend(_top_candidates(*found, ids, k))
        candidates.sort(key=lambda item: (-item[0], item[1]))
        return [Hit(rank, score, state.chunks[chunk_id]) for rank, (score, chunk_id) in enumerate(candidates[:k], 1)]

    @staticmethod
    def _df(state: _State, term: str) -> int:
        df = 0
        tid = state.base.term_ids.get(term)
        if tid is not None:
            df += int(state.base_df[tid])
        tid = state.delta.term_ids.get(term)
        if tid is not None:
            df += int(state.delta.indptr[tid + 1] - state.delta.indptr[tid])
        return df

    # --- writing -------------------------------------------------------------------------
    def add(self, document: Document) -> list[Chunk]:
        """Index `document`, replacing an earlier version with the same source."""
        return self.add_many([document])[document.source]

    def add_many(self, documents: Iterable[Document]) -> dict[str, list[Chunk]]:
        """Index several documents in one swap (much faster than one `add` each for a folder)."""
        batch = self.prepare(documents)
        self.apply(batch)
        return {source: list(chunks) for source, chunks in batch.chunks_by_source.items()}

    def prepare(self, documents: Iterable[Document]) -> PreparedBatch:
        """Chunk and analyze `documents` once; the batch can then be applied to several indexes
        (a chat's view is rebuilt from its uploads' batches without analyzing them again)."""
        per_source = {doc.source: chunk_document(doc, self.size_tokens, self.overlap_tokens) for doc in documents}
        new_chunks, term_lists = analyzed_chunks(chunk for chunks in per_source.values() for chunk in chunks)
        labelled: dict[str, list[Chunk]] = {source: [] for source in per_source}
        for chunk in new_chunks:  # each chunk with its detected language
            labelled[chunk.source].append(chunk)
        grouped = {source: tuple(chunks) for source, chunks in labelled.items()}
        return PreparedBatch(grouped, build_segment(term_lists))

    def apply(self, batch: PreparedBatch) -> None:
        """Add a prepared batch in one swap, replacing earlier versions of its sources."""
        new_chunks = [chunk for group in batch.chunks_by_source.values() for chunk in group]
        with self._write_lock:
            self._state = _replaced_state(self._state, set(batch.chunks_by_source), new_chunks, batch.segment)
        self._maybe_compact()

    @property
    def version(self) -> object:
        """Changes (by identity) whenever the content may have: compare two readings with `is`."""
        return self._state

    def remove(self, source: str) -> bool:
        """Forget every chunk of `source`; False when it was not indexed."""
        with self._write_lock:
            if source not in self._state.by_source:
                return False
            self._state = _replaced_state(self._state, {source}, [], EMPTY)
            return True

    def compact(self) -> None:
        """Fold the delta into the base now (normally done in the background when it grows)."""
        with self._write_lock:
            self._state = _compacted_state(self._state)

    def wait_for_compaction(self) -> None:
        """Block until a background compaction, if any, has finished (tests, benchmarks)."""
        with self._compaction_lock:
            pass

    def _maybe_compact(self) -> None:
        """Keep the delta small without making `add` wait for a rebuild of the base.

        An empty base is "compacted" by renaming (O(1)), so a bulk load is folded at once;
        otherwise a background thread merges and swaps only if nobody wrote meanwhile (the
        next add retries). A delta four times over the limit is folded synchronously.
        """
        state = self._state
        limit = _delta_limit(state)
        if state.delta.size <= limit:
            return
        if _live_base_size(state) == 0 or state.delta.size > 4 * limit:
            with self._compaction_lock:
                self.compact()
        elif self._compaction_lock.acquire(blocking=False):
            threading.Thread(target=self._compact_in_background, args=(state,), daemon=True,
                             name="ragstage-index-compaction").start()

    def _compact_in_background(self, snapshot: _State) -> None:
        """Merge outside the write lock; swap only if no write happened meanwhile, else retry."""
        try:
            for _attempt in range(5):
                compacted = _compacted_state(snapshot)
                with self._write_lock:
                    if self._state is snapshot:
                        self._state = compacted
                        return
                    snapshot = self._state
                    if snapshot.delta.size <= _delta_limit(snapshot):
                        return
        finally:
            self._compaction_lock.release()

    def fork(self) -> ChunkIndex:
        """An independent index sharing today's (immutable) state: O(1), e.g. per chat session."""
        return ChunkIndex(self.size_tokens, self.overlap_tokens, _state=self._state)

    # --- persistence ---------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        """Plain JSON + .npy files (no pickle): safe to load, readable by other tools."""
        from ragstage.knowledge.index_files import save_state

        save_state(self._state, Path(folder), self.size_tokens, self.overlap_tokens)

    @classmethod
    def load(cls, folder: Path) -> ChunkIndex:
        """Raises IndexFormatError for a missing, truncated, foreign or outdated index."""
        from ragstage.knowledge.index_files import load_state

        state_parts, size_tokens, overlap_tokens = load_state(Path(folder))
        return cls(size_tokens, overlap_tokens, _state=_State.create(**state_parts))


def _replaced_state(state: _State, gone: set[str], new_chunks: Sequence[Chunk], new_segment: Segment) -> _State:
    """`state` without the chunks of `gone` sources, plus `new_chunks` in the delta. Base untouched."""
    gone_ids = {chunk_id for source in gone for chunk_id in state.by_source.get(source, ())}
    base_alive, base_df = state.base_alive, state.base_df
    base_hits = [state.base_pos[c] for c in gone_ids if c in state.base_pos]
    if base_hits:
        base_alive = np.ones(state.base.size, bool) if base_alive is None else base_alive.copy()
        base_alive[base_hits] = False
        base_df = None  # recomputed from the new mask
    delta_keep = np.fromiter((c not in gone_ids for c in state.delta_ids), bool, len(state.delta_ids))
    delta = merge_segments([(state.delta, delta_keep), (new_segment, None)])
    delta_ids = tuple(c for c, keep in zip(state.delta_ids, delta_keep.tolist()) if keep)
    delta_ids += tuple(chunk.chunk_id for chunk in new_chunks)
    chunks = {c: chunk for c, chunk in state.chunks.items() if c not in gone_ids} if gone_ids else dict(state.chunks)
    chunks.update((chunk.chunk_id, chunk) for chunk in new_chunks)
    by_source = {s: ids for s, ids in state.by_source.items() if s not in gone}
    grouped: dict[str, list[str]] = {}
    for chunk in new_chunks:
        grouped.setdefault(chunk.source, []).append(chunk.chunk_id)
    by_source.update((source, tuple(ids)) for source, ids in grouped.items())
    languages = Counter(state.languages)
    languages.subtract(state.chunks[c].language for c in gone_ids)
    languages.update(chunk.language for chunk in new_chunks)
    return _State.create(state.base, base_alive, state.base_ids, state.base_pos, delta, delta_ids, chunks,
                         by_source, base_df, {code: n for code, n in languages.items() if n > 0})


def _live_base_size(state: _State) -> int:
    return state.base.size if state.base_alive is None else int(state.base_alive.sum())


def _delta_limit(state: _State) -> float:
    """Chunks the delta may hold before it is folded into the base."""
    return max(COMPACT_MIN_CHUNKS, COMPACT_BASE_FRACTION * _live_base_size(state))


def _compacted_state(state: _State) -> _State:
    """The same content with the delta folded into a new base (no text is re-analyzed)."""
    base_alive = state.base_alive
    alive_ids = state.base_ids if base_alive is None else tuple(np.asarray(state.base_ids, object)[base_alive])
    base = merge_segments([(state.base, base_alive), (state.delta, None)])
    return _State.create(base, None, alive_ids + state.delta_ids, None, EMPTY, (), state.chunks, state.by_source,
                         languages=state.languages)


def _top_candidates(positions: np.ndarray, scores: np.ndarray, ids: Sequence[str], k: int) -> list[tuple[float, str]]:
    """The best `k` of one segment plus anything tied with the k-th (ties resolve by id later)."""
    if len(positions) > k:
        threshold = np.partition(scores, len(scores) - k)[len(scores) - k]
        keep = scores >= threshold
        positions, scores = positions[keep], scores[keep]
    return [(score, ids[pos]) for pos, score in zip(positions.tolist(), scores.tolist())]
