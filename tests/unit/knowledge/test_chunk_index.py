"""ChunkIndex: add, replace, remove, search, fork, save/load, and consistency under concurrent updates."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from knowledge_factories import text_document

from ragstage.knowledge import ChunkIndex, IndexFormatError, chunk_document


def small_index() -> ChunkIndex:
    index = ChunkIndex(size_tokens=64, overlap_tokens=0)
    index.add(text_document("Foundry Local serves phi-4-mini on port 5273.", "foundry.md", "md"))
    index.add(text_document("llama.cpp runs GGUF models; SmolLM2 decodes fast on CPU.", "llama.md", "md"))
    index.add(text_document("BM25 ranks passages by term frequency and inverse document frequency.", "bm25.md", "md"))
    return index


def test_search_finds_the_document_that_answers():
    hits = small_index().search("Which port does Foundry Local use?", k=3)
    assert hits[0].chunk.source == "foundry.md"
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:]))


def test_search_returns_nothing_for_unknown_words_or_empty_index():
    assert small_index().search("zeppelin", k=5) == []
    assert ChunkIndex().search("anything", k=5) == []
    assert small_index().search("bm25", k=0) == []


def test_adding_a_source_again_replaces_the_old_version():
    index = small_index()
    index.add(text_document("Foundry Local moved to port 6000.", "foundry.md", "md"))
    assert index.document_count == 3
    assert index.search("5273", k=5) == []
    assert index.search("6000", k=5)[0].chunk.source == "foundry.md"


def test_remove_forgets_a_source():
    index = small_index()
    assert index.remove("llama.md") is True
    assert index.remove("llama.md") is False
    assert index.sources == ["bm25.md", "foundry.md"] and index.chunk_count == 2
    assert index.search("GGUF", k=5) == []


def test_equal_scores_are_ordered_by_chunk_id():
    index = ChunkIndex()
    for source in ("c.txt", "a.txt", "b.txt"):
        index.add(text_document("identical words about decoding speed", source))
    index.add(text_document("unrelated filler text", "z.txt"))
    hits = index.search("decoding speed", k=3)
    assert [h.chunk.chunk_id for h in hits] == ["a.txt#0000", "b.txt#0000", "c.txt#0000"]
    assert len({h.score for h in hits}) == 1


def test_fork_is_independent_of_the_original():
    index = small_index()
    fork = index.fork()
    fork.add(text_document("Session upload about zeppelins.", "upload:z.txt"))
    fork.remove("bm25.md")
    assert index.search("zeppelins", k=1) == [] and index.search("bm25", k=1)
    assert fork.search("zeppelins", k=1)[0].chunk.source == "upload:z.txt" and fork.search("bm25", k=1) == []


def test_save_and_load_round_trip_gives_identical_results(tmp_path: Path):
    index = small_index()
    index.remove("llama.md")  # a deleted base chunk must stay deleted after loading
    index.save(tmp_path / "ix")
    loaded = ChunkIndex.load(tmp_path / "ix")
    assert loaded.sources == index.sources and loaded.chunk_count == index.chunk_count
    for query in ("port", "frequency of terms", "GGUF models"):
        assert loaded.search(query, 5) == index.search(query, 5)
    assert {p.suffix for p in (tmp_path / "ix").iterdir()} == {".json", ".npy"}


@pytest.mark.parametrize("damage", ["truncate_json", "truncate_npy", "wrong_version", "missing"])
def test_damaged_saved_index_raises_index_format_error(tmp_path: Path, damage: str):
    folder = tmp_path / "ix"
    small_index().save(folder)
    if damage == "truncate_json":
        data = (folder / "index.json").read_bytes()
        (folder / "index.json").write_bytes(data[: len(data) // 2])
    elif damage == "truncate_npy":
        data = (folder / "base.postings_doc.npy").read_bytes()
        (folder / "base.postings_doc.npy").write_bytes(data[:-8])
    elif damage == "wrong_version":
        manifest = json.loads((folder / "index.json").read_text())
        (folder / "index.json").write_text(json.dumps(manifest | {"version": 0}))
    else:
        (folder / "base.doc_len.npy").unlink()
    with pytest.raises(IndexFormatError):
        ChunkIndex.load(folder)


def test_searches_during_updates_see_the_old_or_the_new_version_never_a_mix():
    index = ChunkIndex(size_tokens=32, overlap_tokens=0)
    index.add_many(text_document(f"background document {i} about assorted topics", f"bg{i}.txt") for i in range(300))
    docs = {v: text_document(" ".join(f"sentinel v{v}" for _ in range(n)), "live.txt") for v, n in ((1, 30), (2, 70))}
    expected = {f"v{v}": len(chunk_document(doc, 32, 0)) for v, doc in docs.items()}
    index.add(docs[1])
    stop = threading.Event()
    seen: list[tuple[str, int]] = []

    def writer() -> None:  # alternates versions until the reader has seen both (bounded)
        for turn in range(2000):
            index.add(docs[2 if turn % 2 == 0 else 1])
            if stop.is_set():
                return

    thread = threading.Thread(target=writer)
    thread.start()
    while thread.is_alive():
        hits = index.search("sentinel", k=50)
        versions = {word for h in hits for word in h.chunk.text.split() if word != "sentinel"}
        seen.append(("mixed" if len(versions) != 1 else versions.pop(), len(hits)))
        if len(seen) >= 200 and {"v1", "v2"} <= {v for v, _ in seen}:
            stop.set()
    thread.join()
    assert len({v for v, _ in seen}) == 2, "the reader never saw both versions"
    assert seen and all(version in expected and expected[version] == count for version, count in seen), seen[:5]


def test_many_adds_fold_the_delta_into_the_base(monkeypatch: pytest.MonkeyPatch):
    import ragstage.knowledge.index as index_module

    monkeypatch.setattr(index_module, "COMPACT_MIN_CHUNKS", 5)
    index = ChunkIndex(size_tokens=32, overlap_tokens=0)
    for i in range(40):
        index.add(text_document(f"note {i} mentions topic{i % 7} and shared words", f"n{i}.txt"))
    index.wait_for_compaction()
    state = index._state
    assert state.base.size >= 30 and state.delta.size <= 5
    assert {h.chunk.source for h in index.search("topic3", k=10)} == {f"n{i}.txt" for i in range(40) if i % 7 == 3}
    assert np.all(np.diff(state.base.indptr) >= 0)
