"""Sentence-level attribution: every answer sentence linked to the passages that support it."""

from __future__ import annotations

import pytest

from ragstage.answer.attribution import attribute, content_terms, split_sentences

PASSAGES = [
    # [1]
    "Levi's Stadium hosted Super Bowl 50. The stadium opened in 2014 and cost $1.2 billion. "
    "It is in Santa Clara, California.",
    # [2]
    "The Denver Broncos defeated the Carolina Panthers 24-10. Von Miller was named the most "
    "valuable player of the game.",
    # [3]
    "Time to first token measures prefill: the model reads the whole prompt before it writes. "
    "Decode speed counts the tokens generated per second after the first one.",
]


def test_sentences_keep_offsets_into_the_text_and_survive_decimals_and_abbreviations():
    text = "Qwen2.5 runs at 1.5 tok/s, e.g. on a laptop. It cost $1.2 billion [1]. Done!"
    spans = split_sentences(text)
    assert [s.text for s in spans] == [
        "Qwen2.5 runs at 1.5 tok/s, e.g. on a laptop.",
        "It cost $1.2 billion [1].",
        "Done!",
    ]
    assert all(text[s.start:s.end] == s.text for s in spans)


def test_citation_marks_after_a_full_stop_stay_with_their_sentence():
    text = "The Broncos won. [2] Von Miller was the MVP. [2][3]\n[1]\n- Levi's Stadium hosted it.\n"
    spans = split_sentences(text)
    assert [s.text for s in spans] == [
        "The Broncos won. [2]",
        "Von Miller was the MVP. [2][3]\n[1]",  # a line of marks only joins the sentence before it
        "Levi's Stadium hosted it.",  # the list marker is not part of the sentence
    ]
    assert all(text[s.start:s.end] == s.text for s in spans)


def test_chinese_sentences_split_at_full_width_stops():
    assert [s.text for s in split_sentences("第一句。第二句！")] == ["第一句。", "第二句！"]


def test_a_sentence_without_citation_gets_a_computed_one_to_the_passage_that_supports_it():
    result = attribute("The Denver Broncos defeated the Carolina Panthers.", PASSAGES)
    (sentence,) = result.sentences
    assert sentence.supported and sentence.written == () and sentence.rejected == ()
    assert [(c.n, c.origin) for c in sentence.citations] == [(2, "computed")]
    assert result.cited() == (2,) and result.cited("computed") == (2,) and result.cited("model") == ()


def test_a_right_model_citation_is_kept_as_the_models():
    result = attribute("Levi's Stadium opened in 2014 [1].", PASSAGES)
    (sentence,) = result.sentences
    assert [(c.n, c.origin) for c in sentence.citations] == [(1, "model")]
    assert not sentence.corrected and result.cited("model") == (1,)


def test_a_wrong_model_citation_is_rejected_and_corrected():
    result = attribute("Von Miller was the most valuable player [1].", PASSAGES)
    (sentence,) = result.sentences
    assert sentence.written == (1,) and sentence.rejected == (1,)
    assert [(c.n, c.origin) for c in sentence.citations] == [(2, "computed")]
    assert sentence.corrected


def test_unsupported_sentences_are_flagged_and_their_citations_rejected():
    answer = (
        "Time to first token is the prefill of the prompt [3]. "
        "It can vary greatly depending on server load and network latency [3]. "
        "The answer is in the manual [7]."
    )
    result = attribute(answer, PASSAGES)
    first, second, third = result.sentences
    assert first.supported and [c.n for c in first.citations] == [3]
    assert not second.supported and second.citations == () and second.rejected == (3,)
    assert not third.supported and third.rejected == (7,)  # out of range: no passage 7
    assert [s.span.text for s in result.unsupported] == [second.span.text, third.span.text]
    assert result.support_score == pytest.approx(1 / 3)


def test_each_citation_names_the_passage_sentences_that_support_it():
    result = attribute("Super Bowl 50 was played at Levi's Stadium in Santa Clara.", PASSAGES)
    (citation,) = result.sentences[0].citations
    passage = PASSAGES[citation.n - 1]
    assert [s.text for s in citation.sentences] == [
        "Levi's Stadium hosted Super Bowl 50.",
        "It is in Santa Clara, California.",
    ]
    assert all(passage[s.start:s.end] == s.text for s in citation.sentences)
    assert citation.coverage == pytest.approx(7 / 8)  # "played" is not in the passage


def test_a_sentence_combining_two_passages_is_supported_by_both():
    result = attribute("Levi's Stadium opened in 2014; the Denver Broncos defeated the Panthers there.", PASSAGES)
    (sentence,) = result.sentences
    assert sentence.supported and {c.n for c in sentence.citations} == {1, 2}


def test_support_uses_the_knowledge_analyzer_so_word_forms_match():
    assert content_terms("Decoding counts generated tokens [3]") == content_terms("decode count generate token")
    result = attribute("Decoding counts generated tokens per second.", PASSAGES)
    assert result.cited() == (3,)


def test_sentences_without_content_words_are_not_claims():
    result = attribute("It is. [1]", PASSAGES)
    (sentence,) = result.sentences
    assert not sentence.is_claim and sentence.citations == () and result.support_score is None
    assert attribute("", PASSAGES).sentences == () and attribute("", PASSAGES).support_score is None


def test_one_shared_word_is_not_evidence():
    result = attribute("Panthers fans enjoy pizza, tacos and fireworks.", PASSAGES)
    assert result.sentences[0].is_claim and not result.sentences[0].supported


def test_no_passages_means_nothing_is_supported_and_every_citation_is_rejected():
    result = attribute("The Broncos won [1].", [])
    assert result.support_score == 0.0 and result.sentences[0].rejected == (1,)


def test_words_that_refer_to_the_prompt_are_neither_evidence_nor_a_gap():
    result = attribute("According to the information provided in the sources, Levi's Stadium opened in 2014.", PASSAGES)
    assert result.sentences[0].supported and result.cited() == (1,)


def test_a_sentence_stating_a_number_no_passage_holds_is_unsupported():
    result = attribute("Levi's Stadium opened in 2016 and cost $1.2 billion [1].", PASSAGES)
    (sentence,) = result.sentences
    assert not sentence.supported and sentence.rejected == (1,)


def test_the_question_restated_in_the_answer_is_not_an_unsupported_claim():
    answer = "In the 2015 season the Broncos defeated the Panthers [2]."
    assert not attribute(answer, PASSAGES).sentences[0].supported  # "2015" is in no passage
    result = attribute(answer, PASSAGES, question="Who won in the 2015 season?")
    assert result.sentences[0].supported and result.cited("model") == (2,)


def test_sources_named_in_words_are_not_numbers_the_sentence_claims():
    result = attribute("According to sources 1 and 3, decode speed counts tokens per second.", PASSAGES)
    assert result.sentences[0].supported and result.cited() == (3,)
