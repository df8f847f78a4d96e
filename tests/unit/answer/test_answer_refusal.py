import pytest

from ragstage.answer import NOT_COVERED
from ragstage.answer import is_refusal

REFUSALS = [
    "The sources do not contain this information.",
    "I don\u2019t know.",
    "I dont know based on these sources.",
    "The provided context doesn't mention the price.",
    "I can't find that in the sources.",
    "I cannot answer this from the given documents.",
    "There is no information about Mars in the sources.",
    "This is not covered in the provided documents.",
    "Sorry, none of the sources answer that.",
    "Unfortunately, the documents do not specify a release date.",
    "I am unable to answer this question based on the given sources.",
    "The answer is not available in the sources.",
    "There is not enough information to answer.",
    "THE SOURCES DO NOT SAY.",
    "Based on the sources provided, I'm not able to determine the answer.",
    "The question cannot be answered from the numbered sources.",
    "It is not possible to determine this from the context.",
    "I'm sorry, but I can’t help with that based on these documents.",
    NOT_COVERED,
]
ANSWERS = [
    "",
    "BM25 ranks passages by term frequency [2].",
    "No data is sent to the cloud [1].",
    "No information leaves the machine when the embedded model runs.",
    "Ollama listens on port 11434 [1]. The default can be changed with OLLAMA_HOST.",
    "The draft is refined. Escalation fires for short drafts. It does not cover long drafts.",
]


@pytest.mark.parametrize("text", REFUSALS)
def test_refusal_phrasings_are_recognised(text):
    assert is_refusal(text)


@pytest.mark.parametrize("text", ANSWERS)
def test_real_answers_are_not_refusals(text):
    assert not is_refusal(text)


def test_refusal_in_the_second_sentence_counts():
    assert is_refusal("Good question. The sources do not mention it.")


def test_a_negation_after_the_opening_is_not_a_refusal():
    text = "Hybrid mode drafts with the SLM [1]. The LLM refines it [1]. Latency is not mentioned in the sources."
    assert not is_refusal(text)


def test_escalation_and_evaluation_judge_a_refusal_the_same_way(make_options):
    """One detector: a draft evaluation counts as declined is a draft hybrid mode refines."""
    from ragstage.answer import DraftSignals, decide_escalation

    options = make_options(mode="hybrid", escalation_policy="auto", escalation_min_draft_words=0)

    def signals(text: str) -> DraftSignals:  # fully supported, and retrieval found a strong passage
        return DraftSignals(text, support_score=1.0, source_count=2, top_score=options.escalation_strong_score)

    for text in REFUSALS:
        assert decide_escalation(signals(text + " [1]"), options).escalated, text
    assert not decide_escalation(signals("No data is sent to the cloud [1]."), options).escalated
