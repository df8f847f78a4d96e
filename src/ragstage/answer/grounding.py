"""Grounding: what an answer may stand on. Retrieve, decide what counts as relevant, decide
whether the question is covered, and build the prompt within the token budget.

Every caller grounds through `ground()`: the answer pipeline (and so the chat, the CLI, the
benchmarks and the page's server engine) and the page's prompt for the in-tab engine. So the
passages a reader is told the model saw are always the ones that were in its prompt.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ragstage.answer.options import AnswerOptions
from ragstage.answer.prompt import Prompt, build_prompt
from ragstage.knowledge import analyze

if TYPE_CHECKING:
    from ragstage.knowledge import ChunkIndex, Hit

# BM25Okapi's IDF is positive only for a term found in fewer than half of the documents, so
# with fewer than this many documents every score is zero or negative and a floor means nothing.
MIN_DOCUMENTS_FOR_SCORE_FLOOR = 3


def relevant_hits(question: str, hits: Sequence[Hit], index: ChunkIndex, score_floor: float) -> tuple[Hit, ...]:
    """The hits worth answering from: above the score floor, or, in a folder too small for BM25
    scores to mean anything, sharing at least one query term."""
    if index.document_count >= MIN_DOCUMENTS_FOR_SCORE_FLOOR:
        return tuple(hit for hit in hits if hit.score >= score_floor)
    terms = set(analyze(question))
    return tuple(hit for hit in hits if terms & set(analyze(hit.chunk.text)))


@dataclass(frozen=True)
class Grounding:
    """One question's grounding. `prompt` is None when nothing is relevant and the options do
    not say to answer anyway: then no model is called."""

    question: str
    options: AnswerOptions
    history: tuple[tuple[str, str], ...]
    hits: tuple[Hit, ...]  # everything retrieved, in rank order
    relevant: tuple[Hit, ...]  # the hits that count as relevant
    retrieval_ms: float
    prompt: Prompt | None  # the answer prompt, within the token budget
    prompt_ms: float = 0.0  # building (tokenizing) the prompt

    @property
    def covered(self) -> bool:
        """Something relevant was found."""
        return bool(self.relevant)

    @property
    def offered(self) -> tuple[Hit, ...]:
        """The passages offered to the prompt builder: the relevant ones, or (answering anyway)
        every hit. The budget may keep fewer: see `prompt_sources`."""
        return self.relevant or self.hits

    @property
    def prompt_sources(self) -> tuple[Hit, ...]:
        """Exactly the passages in the prompt: [n] in the model's text is prompt_sources[n - 1]."""
        return self.prompt.sources if self.prompt is not None else ()

    def stage_prompt(self, draft: str | None = None) -> tuple[Prompt, float]:
        """The prompt a model stage sends and the ms spent building it: the answer prompt, or,
        with a draft, the refine prompt (the draft takes room, so it may hold fewer passages)."""
        if draft is None and self.prompt is not None:
            return self.prompt, self.prompt_ms
        return _timed_prompt(self.question, self.offered, self.history, self.options, draft)


def _timed_prompt(
    question: str, sources: Sequence[Hit], history: Sequence[tuple[str, str]], options: AnswerOptions,
    draft: str | None = None,
) -> tuple[Prompt, float]:
    started = time.perf_counter()
    prompt = build_prompt(
        question, sources, history,
        budget_tokens=options.context_budget_tokens, history_turns=options.history_turns, draft=draft,
        style=options.prompt_style,
    )  # fmt: skip
    return prompt, (time.perf_counter() - started) * 1000


def ground(
    question: str, index: ChunkIndex, options: AnswerOptions, history: Sequence[tuple[str, str]] = ()
) -> Grounding:
    """Retrieve, judge relevance, and build the answer prompt unless the question is not covered.

    Inline, not in a worker thread: BM25 over our indexes takes about a millisecond, and a
    thread hand-off cost more than that on a busy 2-core machine.
    """
    started = time.perf_counter()
    hits = tuple(index.search(question, options.top_k)) if question.strip() else ()
    retrieval_ms = (time.perf_counter() - started) * 1000
    relevant = relevant_hits(question, hits, index, options.score_floor)
    history = tuple(history)
    prompt, prompt_ms = None, 0.0
    if relevant or options.answer_anyway:
        prompt, prompt_ms = _timed_prompt(question, relevant or hits, history, options)
    return Grounding(question, options, history, hits, relevant, retrieval_ms, prompt, prompt_ms)
