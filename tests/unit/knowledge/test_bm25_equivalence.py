"""The index's scores equal a full rank_bm25.BM25Okapi rebuild, whatever sequence of updates led to it."""

from __future__ import annotations

import random

import pytest
from knowledge_factories import text_document
from rank_bm25 import BM25Okapi

from ragstage.knowledge import ChunkIndex, analyze
from ragstage.knowledge.index import index_terms

VOCAB = [f"term{i}" for i in range(300)] + ["common", "shared", "frequent"]


def random_text(rng: random.Random) -> str:
    words = [rng.choice(VOCAB[:30]) if rng.random() < 0.5 else rng.choice(VOCAB) for _ in range(rng.randint(3, 40))]
    return " ".join(words + ["common"] * rng.randint(0, 2))  # "common" in most docs: negative idf path


def assert_scores_match_full_rebuild(index: ChunkIndex, queries: list[str]) -> None:
    chunks = [chunk for source in index.sources for chunk in index.chunks_of(source)]
    reference = BM25Okapi([index_terms(chunk) for chunk in chunks])
    for query in queries:
        terms = analyze(query)
        expected = {c.chunk_id: s for c, s in zip(chunks, reference.get_scores(terms)) if set(terms) & set(index_terms(c))}
        got = {hit.chunk.chunk_id: hit.score for hit in index.search(query, k=len(chunks))}
        assert got.keys() == expected.keys(), query
        for chunk_id, score in expected.items():
            assert got[chunk_id] == pytest.approx(score, rel=1e-12, abs=1e-12), (query, chunk_id)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_scores_equal_rank_bm25_after_adds_removes_and_compaction(seed: int, monkeypatch: pytest.MonkeyPatch):
    import ragstage.knowledge.index as index_module

    monkeypatch.setattr(index_module, "COMPACT_MIN_CHUNKS", 40)
    rng = random.Random(seed)
    queries = ["common term1 term2", "term5 term5 term250", "shared frequent", "term299 common term17"]
    index = ChunkIndex(size_tokens=64, overlap_tokens=0)
    index.add_many(text_document(random_text(rng), f"base{i}.txt") for i in range(120))
    assert_scores_match_full_rebuild(index, queries)  # one base segment
    for i in range(30):
        index.add(text_document(random_text(rng), f"new{i}.txt"))
    for i in range(0, 120, 7):
        index.remove(f"base{i}.txt")
    index.remove("new3.txt")
    index.add(text_document(random_text(rng), "base14.txt"))  # re-add a removed source
    assert index._state.delta.size > 0 and index._state.base_alive is not None
    assert_scores_match_full_rebuild(index, queries)  # base with holes + delta
    for i in range(60):
        index.add(text_document(random_text(rng), f"late{i}.txt"))  # compacts in the background
    assert_scores_match_full_rebuild(index, queries)
    index.wait_for_compaction()
    index.compact()
    assert index._state.delta.size == 0 and index._state.base_alive is None
    assert_scores_match_full_rebuild(index, queries)
