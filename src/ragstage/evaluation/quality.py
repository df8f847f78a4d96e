"""Per-answer quality metrics and the 1-5 rubric derived from them.

Each metric is a plain function of plain values (an answer's text, what was retrieved, what it
cited), so it is checked on hand-made cases. `None` means "does not apply" (no citations to be
precise about, no facts for an unanswerable question) and is left out of averages rather than
counted as zero.

Rubric (each 1-5, `1 + 4 x component`, component in 0..1):
- factuality: answerable -> (2 x fact_recall + groundedness + citation_precision) / 4, a missing
  groundedness or citation precision counting 0 (an uncited answer is not shown to be grounded);
  unanswerable -> 1 when the answer declines, else 0.
- coherence: share of four checks passed: has words (not only [n] marks); finished (no error, not cut at the token
  limit); not repetitive (distinct word trigrams >= 60%); every [n] points at a shown source.
- concision: the conciseness score (empty answer -> 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ragstage.evaluation.matching import any_fact_present, content_terms, fact_present, word_count
from ragstage.answer import is_refusal
from ragstage.evaluation.suites import EvalCase

CONCISE_WORDS = 80  # an answer up to this long is fully concise; longer ones score target/length
REPETITION_MIN_DISTINCT = 0.6


@dataclass(frozen=True)
class ObservedAnswer:
    """What an answer showed, reduced to what the metrics need."""

    text: str
    retrieved_sources: tuple[str, ...]  # source of each retrieved passage, in rank order
    cited_passages: tuple[str | None, ...]  # text of each cited passage; None for an invalid [n]
    answered_by_model: bool = True
    finish_reason: str | None = "stop"
    error: str | None = None


@dataclass(frozen=True)
class AnswerScores:
    hit_at_k: bool | None
    fact_recall: float | None
    correct: bool  # answerable: every fact stated; unanswerable: declined
    refused: bool
    refusal_correct: bool | None  # unanswerable only
    citation_precision: float | None
    groundedness: float | None
    conciseness: float | None
    answer_words: int
    coherence: float  # 1-5
    factuality: float  # 1-5
    concision: float  # 1-5


def hit_at_k(retrieved_sources: Sequence[str], gold_source: str | None) -> bool | None:
    """Is the gold document among the retrieved passages? None when there is no gold source."""
    if gold_source is None:
        return None
    gold = gold_source.removeprefix("./")
    return any(source.removeprefix("./") == gold for source in retrieved_sources)


def fact_recall(facts: Sequence[str], text: str) -> float | None:
    if not facts:
        return None
    return sum(fact_present(fact, text) for fact in facts) / len(facts)


def citation_precision(cited_passages: Sequence[str | None], facts: Sequence[str]) -> float | None:
    """Share of citations whose passage holds at least one required fact (invalid [n] count as
    wrong). None when nothing is cited or there are no facts to support."""
    if not cited_passages or not facts:
        return None
    supported = sum(1 for passage in cited_passages if passage and any_fact_present(facts, passage))
    return supported / len(cited_passages)


def groundedness(text: str, cited_passages: Sequence[str | None]) -> float | None:
    """Share of the answer's (stemmed) content words that occur in the passages it cites.

    None for an answer without content words; 0 for an answer that cites nothing."""
    terms = content_terms(text)
    if not terms:
        return None
    cited = {term for passage in cited_passages if passage for term in content_terms(passage)}
    return sum(1 for term in terms if term in cited) / len(terms)


def conciseness(text: str) -> float | None:
    words = word_count(text)
    if words == 0:
        return None
    return min(1.0, CONCISE_WORDS / words)


def distinct_trigram_ratio(text: str) -> float:
    """1.0 for text that never repeats a word trigram; small models stuck in a loop score low."""
    words = text.casefold().split()
    trigrams = [tuple(words[i : i + 3]) for i in range(len(words) - 2)]
    return len(set(trigrams)) / len(trigrams) if trigrams else 1.0


def coherence_component(answer: ObservedAnswer) -> float:
    if word_count(answer.text) == 0:  # empty, or nothing but citation marks ("[1] [2]")
        return 0.0
    checks = (
        True,
        answer.error is None and answer.finish_reason != "length",
        distinct_trigram_ratio(answer.text) >= REPETITION_MIN_DISTINCT,
        all(passage is not None for passage in answer.cited_passages),
    )
    return sum(checks) / len(checks)


def factuality_component(case: EvalCase, scores_recall: float | None, refused: bool,
                         grounded: float | None, precision: float | None) -> float:
    if not case.answerable:
        return 1.0 if refused else 0.0
    return (2 * (scores_recall or 0.0) + (grounded or 0.0) + (precision or 0.0)) / 4


def rubric(component: float) -> float:
    """0..1 -> 1..5, rounded to two decimals."""
    return round(1 + 4 * min(max(component, 0.0), 1.0), 2)


def score_answer(case: EvalCase, answer: ObservedAnswer) -> AnswerScores:
    refused = (not answer.answered_by_model) or is_refusal(answer.text)
    recall = fact_recall(case.facts, answer.text) if case.answerable else None
    precision = citation_precision(answer.cited_passages, case.facts) if case.answerable else None
    grounded = None if refused else groundedness(answer.text, answer.cited_passages)
    concise = conciseness(answer.text)
    correct = (recall == 1.0) if case.answerable else refused
    return AnswerScores(
        hit_at_k=hit_at_k(answer.retrieved_sources, case.source) if case.answerable else None,
        fact_recall=recall,
        correct=correct,
        refused=refused,
        refusal_correct=None if case.answerable else refused,
        citation_precision=precision,
        groundedness=grounded,
        conciseness=concise,
        answer_words=word_count(answer.text),
        coherence=rubric(coherence_component(answer)),
        factuality=rubric(factuality_component(case, recall, refused, grounded, precision)),
        concision=rubric(concise or 0.0),
    )
