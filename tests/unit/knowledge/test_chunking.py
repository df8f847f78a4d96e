"""Chunks respect the token budget, never cut words, keep headings/pages and exact spans."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from knowledge_factories import text_document

from ragstage.knowledge import Document, PageSpan, chunk_document
from ragstage.tokens import count_tokens, encoding

LONG_TEXT = " ".join(f"Sentence {i} explains latency, tokens and the prefill of café models." for i in range(300))


def test_spans_match_text_and_ids_are_ordinal():
    doc = text_document(LONG_TEXT)
    chunks = chunk_document(doc, size_tokens=64, overlap_tokens=8)
    assert len(chunks) > 10
    for ordinal, chunk in enumerate(chunks):
        assert doc.text[chunk.start_char:chunk.end_char] == chunk.text
        assert chunk.chunk_id == f"doc.txt#{ordinal:04d}"
        assert chunk.token_count == count_tokens(chunk.text)


@pytest.mark.parametrize(("size", "overlap"), [(32, 0), (64, 8), (256, 32), (100, 99)])
def test_chunks_stay_within_budget_and_never_cut_a_word(size: int, overlap: int):
    doc = text_document(LONG_TEXT)
    chunks = chunk_document(doc, size_tokens=size, overlap_tokens=overlap)
    for chunk in chunks:
        assert chunk.token_count <= size + 1  # +1: a chunk re-tokenized alone may merge differently
        assert chunk.start_char == 0 or doc.text[chunk.start_char - 1].isspace()
        assert chunk.end_char == len(doc.text) or doc.text[chunk.end_char].isspace()


@pytest.mark.parametrize(("size", "overlap"), [(48, 0), (48, 12)])
def test_no_word_is_lost_and_overlap_is_bounded(size: int, overlap: int):
    doc = text_document(LONG_TEXT)
    chunks = chunk_document(doc, size_tokens=size, overlap_tokens=overlap)
    covered = [False] * len(doc.text)
    for chunk in chunks:
        covered[chunk.start_char:chunk.end_char] = [True] * (chunk.end_char - chunk.start_char)
    assert all(covered[m.start()] for m in re.finditer(r"\S+", doc.text)), "some word is in no chunk"
    for before, after in zip(chunks, chunks[1:]):
        assert after.start_char > before.start_char
        shared = doc.text[after.start_char:before.end_char] if after.start_char < before.end_char else ""
        assert len(encoding().encode(shared)) <= overlap + 2  # moved to a word start: at most a word more
        if overlap == 0:
            assert shared == ""


def test_markdown_chunks_carry_their_heading_path():
    text = ("# Guide\n\nIntro words here.\n\n## Setup\n\nInstall the thing.\n\n### Linux\n\nUse apt.\n\n"
            "## Usage\n\n```\n# not a heading, code\n```\nRun it.")
    chunks = chunk_document(text_document(text, "guide.md", "md"), size_tokens=256, overlap_tokens=0)
    assert [c.heading for c in chunks] == ["Guide", "Guide > Setup", "Guide > Setup > Linux", "Guide > Usage"]
    assert chunks[-1].text.endswith("Run it.") and "# not a heading" in chunks[-1].text


def test_heading_without_body_joins_the_next_section():
    text = "# Title\n\n## First\n\nBody of first."
    chunks = chunk_document(text_document(text, "t.md", "md"), size_tokens=256, overlap_tokens=0)
    assert len(chunks) == 1
    assert chunks[0].heading == "Title > First" and chunks[0].text == text


def test_pdf_chunks_record_the_page_they_start_on():
    page1, page2 = "alpha " * 200, "omega " * 200
    text = page1.strip() + "\n\n" + page2.strip()
    split = len(page1.strip())
    doc = Document("r.pdf", "R", text, "pdf", "0" * 64, (PageSpan(1, 0, split), PageSpan(2, split + 2, len(text))))
    chunks = chunk_document(doc, size_tokens=64, overlap_tokens=0)
    assert chunks[0].page == 1 and chunks[-1].page == 2
    assert all(c.page == (1 if c.start_char < split else 2) for c in chunks)


def test_a_single_huge_word_is_split_rather_than_overflowing():
    doc = text_document("x" * 5000 + " tail")
    chunks = chunk_document(doc, size_tokens=50, overlap_tokens=0)
    assert all(c.token_count <= 51 for c in chunks)
    assert "".join(c.text for c in chunks).replace(" ", "") == doc.text.replace(" ", "")


def test_invalid_sizes_are_rejected():
    with pytest.raises(ValueError):
        chunk_document(text_document("a b c"), size_tokens=10, overlap_tokens=10)


@pytest.mark.parametrize("text", ["# Only a heading", "# Title\n## Sub", "intro\n# Last heading"])
def test_headings_without_any_body_still_give_a_chunk(text: str):
    chunks = chunk_document(text_document(text, "h.md", "md"), size_tokens=64, overlap_tokens=0)
    assert chunks and "".join(c.text for c in chunks).replace("\n", "") == text.replace("\n", "")


MARKDOWNISH = st.lists(
    st.one_of(st.sampled_from(["# ", "## ", "### ", "```", "\n", "\n\n", " ", "\t", "—", "👋", "东京"]),
              st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=30)),
    max_size=60,
).map("".join)


@settings(max_examples=120, deadline=None)
@given(text=MARKDOWNISH, kind=st.sampled_from(["md", "txt"]), size=st.integers(8, 80))
def test_any_text_chunks_into_exact_spans_covering_every_word(text: str, kind: str, size: int):
    doc = text_document(text, "f.md", kind)
    chunks = chunk_document(doc, size_tokens=size, overlap_tokens=size // 4)
    covered = [False] * len(text)
    for chunk in chunks:
        assert text[chunk.start_char:chunk.end_char] == chunk.text and chunk.text.strip() == chunk.text
        covered[chunk.start_char:chunk.end_char] = [True] * len(chunk.text)
    assert all(covered[i] for i, ch in enumerate(text) if not ch.isspace())
