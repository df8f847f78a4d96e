import pytest

from ragstage.evaluation.quality import (
    CONCISE_WORDS,
    ObservedAnswer,
    citation_precision,
    conciseness,
    distinct_trigram_ratio,
    fact_recall,
    groundedness,
    hit_at_k,
    score_answer,
)
from ragstage.evaluation.suites import EvalCase

BM25 = EvalCase("q1", "What are k1 and b?", True, ("1.5", "0.75"), "bm25-explained.md")
MARS = EvalCase("q2", "Who lives on Mars?", False, (), None)
PASSAGE = "BM25Okapi in rank_bm25 uses k1 = 1.5 and b = 0.75 by default."
OTHER = "Ollama listens on port 11434."


def observed(text, cited=(PASSAGE,), retrieved=("bm25-explained.md",), **kwargs):
    return ObservedAnswer(text=text, retrieved_sources=tuple(retrieved), cited_passages=tuple(cited), **kwargs)


def test_hit_at_k_finds_the_gold_source_among_retrieved():
    assert hit_at_k(["a.md", "bm25-explained.md"], "bm25-explained.md") is True
    assert hit_at_k(["a.md"], "bm25-explained.md") is False
    assert hit_at_k([], "bm25-explained.md") is False
    assert hit_at_k(["a.md"], None) is None
    assert hit_at_k(["./docs/x.md"], "docs/x.md") is True


def test_fact_recall_counts_each_required_fact():
    assert fact_recall(BM25.facts, "k1 is 1.5 and b is 0.75") == 1.0
    assert fact_recall(BM25.facts, "k1 is 1.5") == 0.5
    assert fact_recall(BM25.facts, "") == 0.0
    assert fact_recall((), "anything") is None


def test_citation_precision_is_share_of_cited_passages_holding_a_fact():
    assert citation_precision([PASSAGE], BM25.facts) == 1.0
    assert citation_precision([PASSAGE, OTHER], BM25.facts) == 0.5
    assert citation_precision([OTHER], BM25.facts) == 0.0


def test_citation_of_a_source_that_does_not_exist_counts_as_wrong():
    assert citation_precision([PASSAGE, None], BM25.facts) == 0.5


def test_citation_precision_does_not_apply_without_citations_or_facts():
    assert citation_precision([], BM25.facts) is None
    assert citation_precision([PASSAGE], ()) is None


def test_groundedness_is_share_of_answer_content_words_in_cited_passages():
    assert groundedness("BM25Okapi uses k1 1.5 [1].", [PASSAGE]) == 1.0
    half = groundedness("BM25Okapi uses bananas [1].", [PASSAGE])  # bm25okapi, use found; banana not
    assert half == pytest.approx(2 / 3)


def test_groundedness_matches_inflected_words_through_stemming():
    assert groundedness("The default listening ports [1]", ["Ollama listens on its default port."]) == 1.0


def test_uncited_answer_is_not_grounded_and_empty_answer_is_not_scored():
    assert groundedness("k1 is 1.5", []) == 0.0
    assert groundedness("k1 is 1.5", [None]) == 0.0
    assert groundedness("", [PASSAGE]) is None
    assert groundedness("[1]", [PASSAGE]) is None


def test_conciseness_is_full_up_to_the_target_then_falls_with_length():
    assert conciseness("short answer [1]") == 1.0
    assert conciseness(" ".join(["word"] * (2 * CONCISE_WORDS))) == pytest.approx(0.5)
    assert conciseness("") is None


def test_a_looping_answer_has_few_distinct_trigrams():
    assert distinct_trigram_ratio("the model the model the model the model the model") < 0.6
    assert distinct_trigram_ratio("BM25 ranks passages by term frequency") == 1.0
    assert distinct_trigram_ratio("") == 1.0


def test_right_cited_answer_scores_top_marks():
    scores = score_answer(BM25, observed("BM25Okapi uses k1 = 1.5 and b = 0.75 [1]."))
    assert scores.correct and scores.hit_at_k and not scores.refused
    assert (scores.fact_recall, scores.citation_precision, scores.groundedness) == (1.0, 1.0, 1.0)
    assert (scores.factuality, scores.coherence, scores.concision) == (5.0, 5.0, 5.0)


def test_empty_answer_is_wrong_and_gets_the_lowest_rubric():
    scores = score_answer(BM25, observed("", cited=()))
    assert not scores.correct and scores.fact_recall == 0.0
    assert scores.citation_precision is None and scores.groundedness is None and scores.conciseness is None
    assert (scores.factuality, scores.coherence, scores.concision) == (1.0, 1.0, 1.0)
    assert scores.answer_words == 0


def test_uncited_right_answer_loses_factuality_for_not_showing_its_source():
    scores = score_answer(BM25, observed("k1 is 1.5 and b is 0.75.", cited=()))
    assert scores.correct and scores.citation_precision is None and scores.groundedness == 0.0
    assert scores.factuality == 3.0  # 1 + 4 x (2 x 1 + 0 + 0) / 4


def test_declining_an_unanswerable_question_is_right():
    scores = score_answer(MARS, observed("The sources don't say who lives on Mars.", cited=(), retrieved=()))
    assert scores.correct and scores.refused and scores.refusal_correct
    assert scores.factuality == 5.0 and scores.hit_at_k is None and scores.groundedness is None


def test_answering_an_unanswerable_question_is_wrong():
    scores = score_answer(MARS, observed("Elon Musk lives on Mars [1].", cited=(OTHER,)))
    assert not scores.correct and scores.refusal_correct is False and scores.factuality == 1.0


def test_no_model_called_counts_as_declining():
    scores = score_answer(MARS, observed("Nothing relevant.", cited=(), answered_by_model=False))
    assert scores.refused and scores.correct


def test_declining_an_answerable_question_is_a_false_refusal():
    scores = score_answer(BM25, observed("The sources do not contain the values.", cited=()))
    assert scores.refused and not scores.correct and scores.refusal_correct is None


def test_answer_cut_at_the_token_limit_loses_coherence():
    scores = score_answer(BM25, observed("BM25Okapi uses k1 = 1.5 and b = 0.75 [1]", finish_reason="length"))
    assert scores.coherence == 4.0  # 3 of 4 checks


def test_failed_stage_and_invented_citation_lose_coherence():
    scores = score_answer(BM25, observed("k1 = 1.5 [1][7]", cited=(PASSAGE, None), error="refine failed"))
    assert scores.coherence == 3.0  # not finished, citation [7] points nowhere
    assert scores.citation_precision == 0.5


def test_an_answer_of_only_citation_marks_counts_as_empty():
    scores = score_answer(BM25, observed("[1] [2]", cited=(PASSAGE, OTHER)))
    assert scores.answer_words == 0 and not scores.correct
    assert (scores.coherence, scores.concision) == (1.0, 1.0)
    assert scores.groundedness is None and scores.citation_precision == 0.5
