"""SessionIndex: a chat's uploads stay private while the chat keeps seeing the shared index change."""

from __future__ import annotations

import threading

from knowledge_factories import text_document

import ragstage.knowledge.index as index_module
from ragstage.knowledge import ChunkIndex, SessionIndex


def shared_index() -> ChunkIndex:
    index = ChunkIndex(size_tokens=64, overlap_tokens=0)
    index.add(text_document("BM25 ranks passages by term frequency.", "bm25.md", "md"))
    index.add(text_document("Foundry Local serves phi-4-mini on port 5273.", "foundry.md", "md"))
    index.add(text_document("llama.cpp runs GGUF models on the CPU.", "llama.md", "md"))
    return index


def sources(index: ChunkIndex, query: str) -> list[str]:
    return [hit.chunk.source for hit in index.search(query, 5)]


def test_uploads_are_seen_by_the_chat_only():
    shared = shared_index()
    chat = SessionIndex(shared)
    chunks = chat.add(text_document("The zeppelin protocol floats packets.", "upload:z.txt"))
    assert [c.source for c in chunks] == ["upload:z.txt"]
    assert sources(chat.current(), "zeppelin packets") == ["upload:z.txt"]
    assert sources(shared, "zeppelin packets") == [] and "upload:z.txt" not in shared.sources
    assert SessionIndex(shared).current().search("zeppelin", 3) == []  # another chat


def test_a_chat_with_uploads_sees_files_added_changed_and_removed_in_the_shared_index():
    shared = shared_index()
    chat = SessionIndex(shared)
    chat.add(text_document("The zeppelin protocol floats packets.", "upload:z.txt"))
    before = chat.current()

    shared.add(text_document("Quantization shrinks GGUF weights to four bits.", "quant.md", "md"))
    shared.add(text_document("Foundry Local moved to port 6000.", "foundry.md", "md"))
    shared.remove("llama.md")

    view = chat.current()
    assert view is not before
    assert sources(view, "quantization four bits") == ["quant.md"]
    assert "6000" in view.search("Foundry Local port", 1)[0].chunk.text
    assert "llama.md" not in view.sources
    assert sources(view, "zeppelin packets") == ["upload:z.txt"]  # the upload survived the refresh
    assert view.document_count == shared.document_count + 1


def test_scores_in_the_view_equal_a_fresh_index_of_the_same_documents():
    shared = shared_index()
    chat = SessionIndex(shared)
    upload = text_document("Packets float over BM25 term frequency fields.", "upload:p.txt")
    chat.add(upload)
    shared.add(text_document("Term frequency saturates with k1.", "k1.md", "md"))

    fresh = ChunkIndex(size_tokens=64, overlap_tokens=0)
    for source in shared.sources:
        chunk = shared.chunks_of(source)[0]
        fresh.add(text_document(chunk.text, source, "md"))
    fresh.add(upload)
    query = "term frequency packets"
    got = [(h.chunk.chunk_id, round(h.score, 9)) for h in chat.current().search(query, 5)]
    assert got == [(h.chunk.chunk_id, round(h.score, 9)) for h in fresh.search(query, 5)]


def test_unchanged_shared_index_reuses_the_view_and_uploads_are_analyzed_once(monkeypatch):
    shared = shared_index()
    chat = SessionIndex(shared)
    chat.add(text_document("The zeppelin protocol floats packets.", "upload:z.txt"))
    view = chat.current()
    assert chat.current() is view

    analyzed: list[str] = []
    real = index_module.analyzed_chunks

    def spy(chunks):
        chunks = list(chunks)
        analyzed.extend(chunk.source for chunk in chunks)
        return real(chunks)

    monkeypatch.setattr(index_module, "analyzed_chunks", spy)
    shared.add(text_document("Quantization shrinks weights.", "quant.md", "md"))
    chat.current().search("zeppelin", 1)
    assert analyzed == ["quant.md"]  # the upload was not chunked or analyzed again


def test_uploading_again_replaces_the_earlier_upload_of_the_same_name():
    chat = SessionIndex(shared_index())
    chat.add(text_document("Version one mentions walruses.", "upload:n.txt"))
    chat.add(text_document("Version two mentions narwhals.", "upload:n.txt"))
    view = chat.current()
    assert view.search("walruses", 1) == [] and sources(view, "narwhals") == ["upload:n.txt"]
    assert chat.upload_sources == ["upload:n.txt"]


def test_concurrent_uploads_and_shared_changes_lose_nothing():
    shared = shared_index()
    chat = SessionIndex(shared)

    def upload(n: int) -> None:
        chat.add(text_document(f"Upload {n} speaks of token{n}x.", f"upload:{n}.txt"))

    def change(n: int) -> None:
        shared.add(text_document(f"Folder file {n} speaks of folder{n}x.", f"f{n}.md", "md"))
        chat.current()

    threads = [threading.Thread(target=f, args=(n,)) for n in range(20) for f in (upload, change)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    view = chat.current()
    assert all(sources(view, f"token{n}x") == [f"upload:{n}.txt"] for n in range(20))
    assert all(sources(view, f"folder{n}x") == [f"f{n}.md"] for n in range(20))
