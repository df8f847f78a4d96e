"""Immutable inverted-index segments and the BM25Okapi arithmetic over them.

rank_bm25 and rank_bm25_rs can neither add a document to a built index nor score with
statistics from outside it, so a 100k-chunk index would have to be rebuilt (seconds) for every
upload. Instead the index is a big base segment plus a small delta segment, both plain numpy
arrays (CSR postings), scored with the statistics of the WHOLE live corpus: rankings equal a
full `rank_bm25.BM25Okapi` rebuild over the same terms (tests/unit/knowledge/test_bm25_equivalence.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

# rank_bm25.BM25Okapi defaults.
K1 = 1.5
B = 0.75
EPSILON = 0.25


@dataclass(frozen=True, eq=False)
class Segment:
    """Postings of one batch of chunks: for term id t, docs[indptr[t]:indptr[t+1]] with their tfs."""

    terms: tuple[str, ...]
    indptr: np.ndarray  # int64, len(terms) + 1
    postings_doc: np.ndarray  # int32, ascending within a term
    postings_tf: np.ndarray  # float64 (term counts; float so scoring needs no conversion)
    doc_len: np.ndarray  # int64, analyzed terms per chunk
    term_ids: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.term_ids and self.terms:
            object.__setattr__(self, "term_ids", {term: i for i, term in enumerate(self.terms)})

    @property
    def size(self) -> int:
        return len(self.doc_len)

    def posting_terms(self) -> np.ndarray:
        """Term id of every posting (the CSR row index spelled out)."""
        return np.repeat(np.arange(len(self.terms), dtype=np.int64), np.diff(self.indptr))

    def live_df(self, alive: np.ndarray | None) -> np.ndarray:
        """Document frequency per term, counting only chunks still alive."""
        if alive is None:
            return np.diff(self.indptr)
        return np.bincount(self.posting_terms()[alive[self.postings_doc]], minlength=len(self.terms))


EMPTY = Segment((), np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float64), np.zeros(0, np.int64))


def _from_triples(terms: Sequence[str], term: np.ndarray, doc: np.ndarray, tf: np.ndarray,
                  doc_len: np.ndarray) -> Segment:
    """A segment from unordered (term, doc, tf) postings; terms without postings are dropped."""
    used = np.bincount(term, minlength=len(terms)) > 0
    if not used.all():
        new_id = np.cumsum(used) - 1
        term = new_id[term]
        terms = [t for t, keep in zip(terms, used.tolist()) if keep]
    order = np.lexsort((doc, term))
    counts = np.bincount(term, minlength=len(terms))
    indptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    return Segment(tuple(terms), indptr, doc[order].astype(np.int32), tf[order].astype(np.float64),
                   doc_len.astype(np.int64))


def build_segment(term_lists: Sequence[Sequence[str]]) -> Segment:
    """Index analyzed chunks (one term list per chunk, in chunk order)."""
    if not term_lists:
        return EMPTY
    term_ids: dict[str, int] = {}
    flat = [term_ids.setdefault(t, len(term_ids)) for terms in term_lists for t in terms]
    lengths = np.fromiter((len(terms) for terms in term_lists), np.int64, len(term_lists))
    n_docs = len(term_lists)
    keys = np.asarray(flat, dtype=np.int64) * n_docs + np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    unique, tf = np.unique(keys, return_counts=True)
    return _from_triples(list(term_ids), unique // n_docs, unique % n_docs, tf, lengths)


def merge_segments(parts: Sequence[tuple[Segment, np.ndarray | None]]) -> Segment:
    """One segment holding the alive chunks of `parts`, in order, without re-analyzing any text."""
    nonempty = [(seg, alive) for seg, alive in parts if seg.size]
    if not nonempty:
        return EMPTY
    if len(nonempty) == 1 and (nonempty[0][1] is None or nonempty[0][1].all()):
        return nonempty[0][0]
    term_ids: dict[str, int] = {}
    terms_out, docs_out, tfs_out, lens_out = [], [], [], []
    offset = 0
    for seg, alive in nonempty:
        alive = np.ones(seg.size, bool) if alive is None else alive
        remap = np.fromiter((term_ids.setdefault(t, len(term_ids)) for t in seg.terms), np.int64, len(seg.terms))
        new_pos = np.cumsum(alive) - 1 + offset
        keep = alive[seg.postings_doc]
        terms_out.append(remap[seg.posting_terms()[keep]])
        docs_out.append(new_pos[seg.postings_doc[keep]])
        tfs_out.append(seg.postings_tf[keep])
        lens_out.append(seg.doc_len[alive])
        offset += int(alive.sum())
    return _from_triples(list(term_ids), np.concatenate(terms_out), np.concatenate(docs_out),
                         np.concatenate(tfs_out), np.concatenate(lens_out))


@dataclass(frozen=True, eq=False)
class CorpusStats:
    """What BM25Okapi reads from the whole corpus: size, average length, average idf."""

    n_docs: int
    avgdl: float
    average_idf: float

    def idf(self, df: int) -> float:
        """rank_bm25's idf, including its floor for terms in more than half the corpus."""
        value = math.log(self.n_docs - df + 0.5) - math.log(df + 0.5)
        return EPSILON * self.average_idf if value < 0 else value


def corpus_stats(base: Segment, base_alive: np.ndarray | None, base_df: np.ndarray, delta: Segment) -> CorpusStats:
    """Statistics of base (alive chunks) + delta as if they were one corpus."""
    n_docs = (base.size if base_alive is None else int(base_alive.sum())) + delta.size
    if n_docs == 0:
        return CorpusStats(0, 0.0, 0.0)
    base_len = base.doc_len if base_alive is None else base.doc_len[base_alive]
    avgdl = float(base_len.sum() + delta.doc_len.sum()) / n_docs
    df = base_df.astype(np.int64, copy=True)
    extra: list[int] = []
    for term, count in zip(delta.terms, np.diff(delta.indptr).tolist()):
        tid = base.term_ids.get(term)
        if tid is None:
            extra.append(count)
        else:
            df[tid] += count
    df = np.concatenate((df, np.asarray(extra, np.int64)))
    df = df[df > 0]
    idf = np.log(n_docs - df + 0.5) - np.log(df + 0.5)
    return CorpusStats(n_docs, avgdl, float(idf.sum()) / len(df) if len(df) else 0.0)


def length_norm(seg: Segment, avgdl: float) -> np.ndarray:
    """rank_bm25's k1 * (1 - b + b * doc_len / avgdl), in its operation order."""
    return K1 * (1 - B + B * seg.doc_len / avgdl) if seg.size else np.zeros(0)


def score_segment(seg: Segment, norm: np.ndarray, weighted_terms: Sequence[tuple[str, float]],
                  alive: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
    """(positions, scores) of the alive chunks containing any query term, or None."""
    found = [(seg.term_ids[term], idf) for term, idf in weighted_terms if term in seg.term_ids]
    if not found:
        return None
    scores = np.zeros(seg.size)
    # With only positive weights "score > 0" means "contains a query term"; otherwise (the
    # idf floor of tiny corpora can be <= 0) matches are tracked explicitly.
    matched = None if all(idf > 0 for _, idf in found) else np.zeros(seg.size, bool)
    for tid, idf in found:
        lo, hi = seg.indptr[tid], seg.indptr[tid + 1]
        docs = seg.postings_doc[lo:hi]
        tf = seg.postings_tf[lo:hi]
        scores[docs] += idf * (tf * (K1 + 1) / (tf + norm[docs]))
        if matched is not None:
            matched[docs] = True
    if matched is None:
        matched = scores > 0
    if alive is not None:
        matched &= alive
    positions = np.flatnonzero(matched)
    return positions, scores[positions]
