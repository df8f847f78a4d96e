"""Citations are the [n] an answer actually uses, mapped to the numbered sources."""

from __future__ import annotations

from ragstage.answer import cited_numbers, citations_for

from answer_fakes import make_hit


def test_cited_numbers_reads_single_grouped_and_adjacent_marks() -> None:
    assert cited_numbers("A [2]. B [1, 3]. C [3][2]. No [x] or [] here.") == [1, 2, 3]


def test_citations_map_to_the_numbered_chunks_and_ignore_out_of_range_numbers() -> None:
    sources = [make_hit(1, "a", 9.0), make_hit(2, "b", 7.0, source="guide.md", heading="Setup")]
    citations = citations_for("Fact [2]. Invented [3]. Zero [0]. Again [2].", sources)
    assert [(c.n, c.chunk.chunk_id, c.chunk.source, c.chunk.heading, c.score) for c in citations] == [
        (2, "guide.md#0002", "guide.md", "Setup", 7.0)
    ]


def test_an_answer_without_marks_has_no_citations() -> None:
    assert citations_for("No marks at all.", [make_hit(1, "a")]) == ()
