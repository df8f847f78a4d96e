"""Retrieval on a real test collection (Cranfield: 1,400 abstracts, 225 judged queries).

Our index (analyzer + BM25Okapi over segments) must rank at least as well as a plain
rank_bm25.BM25Okapi with a lowercase whitespace tokenizer, both measured here in the same run,
and its scores must equal rank_bm25's (and rank_bm25_rs's) on the same terms.
"""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import rank_bm25
import rank_bm25_rs

from ragstage.knowledge import ChunkIndex, Document, analyze
from ragstage.knowledge.index import index_terms

CRANFIELD = Path(__file__).resolve().parents[3] / ".." / "shared" / "datasets" / "cranfield"
pytestmark = pytest.mark.skipif(not (CRANFIELD / "corpus.jsonl").is_file(),
                                reason=f"Cranfield collection not found at {CRANFIELD} (see ../shared/datasets)")


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def collection() -> tuple[list[dict], list[dict], dict[str, set[str]]]:
    corpus = read_jsonl(CRANFIELD / "corpus.jsonl")
    queries = read_jsonl(CRANFIELD / "queries.jsonl")
    qrels: dict[str, set[str]] = defaultdict(set)
    with open(CRANFIELD / "qrels.tsv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if int(row["relevance"]) > 0:
                qrels[row["query-id"]].add(row["doc-id"])
    return corpus, [q for q in queries if q["id"] in qrels], qrels


@pytest.fixture(scope="module")
def index(collection) -> ChunkIndex:
    corpus, _, _ = collection
    index = ChunkIndex(size_tokens=2048, overlap_tokens=0)  # one chunk per abstract: doc-level judgments
    index.add_many(Document(doc["id"], doc["title"], doc["text"] or doc["title"], "txt", "0" * 64) for doc in corpus)
    assert index.chunk_count == sum(1 for doc in corpus if (doc["text"] or doc["title"]).strip())  # 2 are empty
    return index


def ndcg_and_recall_at_10(ranked: list[str], relevant: set[str]) -> tuple[float, float]:
    top = ranked[:10]
    dcg = sum(1 / math.log2(rank + 2) for rank, doc in enumerate(top) if doc in relevant)
    ideal = sum(1 / math.log2(rank + 2) for rank in range(min(len(relevant), 10)))
    return dcg / ideal, len(set(top) & relevant) / len(relevant)


def mean_metrics(rankings: dict[str, list[str]], qrels: dict[str, set[str]]) -> tuple[float, float]:
    pairs = [ndcg_and_recall_at_10(rankings[qid], qrels[qid]) for qid in rankings]
    return float(np.mean([p[0] for p in pairs])), float(np.mean([p[1] for p in pairs]))


def test_our_index_ranks_at_least_as_well_as_plain_rank_bm25(collection, index: ChunkIndex):
    corpus, queries, qrels = collection
    ids = [doc["id"] for doc in corpus]
    baseline = rank_bm25.BM25Okapi([(doc["text"] or doc["title"]).lower().split() for doc in corpus])
    baseline_rankings = {}
    for query in queries:
        scores = baseline.get_scores(query["text"].lower().split())
        order = sorted(range(len(ids)), key=lambda i: (-scores[i], ids[i]))
        baseline_rankings[query["id"]] = [ids[i] for i in order[:10]]
    ours = {q["id"]: [hit.chunk.source for hit in index.search(q["text"], 10)] for q in queries}
    base_ndcg, base_recall = mean_metrics(baseline_rankings, qrels)
    our_ndcg, our_recall = mean_metrics(ours, qrels)
    print(f"\nCranfield nDCG@10 ours {our_ndcg:.4f} vs rank_bm25 {base_ndcg:.4f}; "
          f"Recall@10 ours {our_recall:.4f} vs rank_bm25 {base_recall:.4f}")
    assert base_ndcg > 0.3  # the baseline itself is sane (README of the collection: ~0.49)
    assert our_ndcg >= base_ndcg
    assert our_recall >= base_recall


def test_index_scores_equal_rank_bm25_on_cranfield(collection, index: ChunkIndex):
    corpus, queries, _ = collection
    chunks = [chunk for doc in corpus for chunk in index.chunks_of(doc["id"])]
    reference = rank_bm25.BM25Okapi([index_terms(chunk) for chunk in chunks])
    for query in queries[:80]:
        terms = analyze(query["text"])
        expected = reference.get_scores(terms)
        got = {hit.chunk.chunk_id: hit.score for hit in index.search(query["text"], len(chunks))}
        for chunk, score in zip(chunks, expected):
            if chunk.chunk_id in got:
                assert got[chunk.chunk_id] == pytest.approx(score, rel=1e-12), (query["id"], chunk.chunk_id)
            else:
                assert score == 0.0 or not set(terms) & set(index_terms(chunk))


def test_rank_bm25_rs_scores_equal_rank_bm25_on_cranfield(collection):
    corpus, queries, _ = collection
    tokenized = [analyze(doc["text"] or doc["title"]) for doc in corpus]
    reference, fast = rank_bm25.BM25Okapi(tokenized), rank_bm25_rs.BM25Okapi(tokenized)
    assert fast.average_idf == reference.average_idf and fast.avgdl == reference.avgdl
    for query in queries:
        terms = analyze(query["text"])
        assert np.array_equal(fast.get_scores(terms), reference.get_scores(terms)), query["id"]
