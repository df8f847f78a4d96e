"""Scoring answers against a gold suite: was the gold passage retrieved, is a gold answer in the
text, is the gold passage cited, how long did it take. Per mode, like `ragstage eval`.

Each record also keeps the passages the model was shown (numbered as in the prompt), so that
citations can be recomputed offline, e.g. by sentence attribution, from eval.json alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ragstage.answer import AnswerResult, build_prompt, relevant_hits
from ragstage.evaluation.evaluate import ModeRun, run_eval
from ragstage.evaluation.gold_suite import GoldQuestion, contains_gold
from ragstage.evaluation.stats import Distribution, distribution, mean

if TYPE_CHECKING:
    from ragstage.knowledge import Hit
    from ragstage.runtime import Runtime


@dataclass(frozen=True)
class ShownPassage:
    n: int  # its [n] in the prompt
    chunk_id: str
    source: str
    text: str


HIT_AT = 5  # retrieval is also scored at a fixed depth, whatever top-k the prompt used


@dataclass(frozen=True)
class GoldRecord:
    mode: str
    lang: str  # the suite's language
    question_id: str
    question: str
    gold_answers: tuple[str, ...]
    gold_source: str
    answer: str
    error: str | None
    answered_by_model: bool
    retrieved_sources: tuple[str, ...]  # in rank order
    gold_rank: int | None  # rank of the gold passage's first chunk among the top-k, if retrieved
    gold_in_top5: bool  # the gold passage is among the top HIT_AT hits (retrieval alone)
    shown: tuple[ShownPassage, ...]  # what the model was given, [1] first
    cited_sources: tuple[str, ...]  # of the model's valid [n], in [n] order
    contains_gold: bool
    gold_cited: bool
    ttft_ms: float
    total_ms: float
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


def shown_passages(runtime: Runtime, question: str, result: AnswerResult) -> tuple[Hit, ...]:
    """The passages the prompt numbered [1]..[n], rebuilt with the pipeline's own functions (the
    prompt is deterministic). Exact for the slm and llm modes; a hybrid refine prompt, which also
    holds the draft, may fit fewer. To be replaced by the prompt passages on AnswerResult."""
    if not result.answered_by_model:
        return ()
    options = runtime.options()
    relevant = relevant_hits(question, result.hits, runtime.knowledge.index, options.score_floor)
    prompt = build_prompt(question, relevant or result.hits, budget_tokens=options.context_budget_tokens,
                          history_turns=0)
    return prompt.sources


def gold_record(mode: str, case: GoldQuestion, result: AnswerResult, shown: Sequence[Hit], lang: str,
                top5_sources: Sequence[str] = ()) -> GoldRecord:
    retrieved = tuple(hit.chunk.source for hit in result.hits)
    rank = next((hit.rank for hit in result.hits if hit.chunk.source == case.source), None)
    cited = tuple(dict.fromkeys(c.chunk.source for c in result.citations))
    metrics = result.metrics
    return GoldRecord(
        mode=mode, lang=lang, question_id=case.question_id, question=case.question, gold_answers=case.answers,
        gold_source=case.source, answer=result.text, error=result.error,
        answered_by_model=result.answered_by_model, retrieved_sources=retrieved, gold_rank=rank,
        gold_in_top5=case.source in top5_sources,
        shown=tuple(ShownPassage(n, h.chunk.chunk_id, h.chunk.source, h.chunk.text) for n, h in enumerate(shown, 1)),
        cited_sources=cited,
        contains_gold=result.answered_by_model and contains_gold(result.text, case.answers, lang),
        gold_cited=case.source in cited,
        ttft_ms=metrics.ttft_ms, total_ms=metrics.total_ms, prompt_tokens=metrics.usage.prompt_tokens,
        completion_tokens=metrics.usage.completion_tokens, cost_usd=metrics.cost_usd,
    )  # fmt: skip


async def run_gold_eval(runtime: Runtime, modes: Sequence[str], questions: Sequence[GoldQuestion], max_tokens: int,
                        lang: str, answer_done: Callable[[str], None] = lambda _mode: None) -> list[ModeRun]:
    """Every question in every mode, one answer at a time (2 cores: no overlap)."""

    def make_record(mode: str, case: GoldQuestion, result: AnswerResult) -> GoldRecord:
        top5 = [hit.chunk.source for hit in runtime.knowledge.index.search(case.question, HIT_AT)]
        return gold_record(mode, case, result, shown_passages(runtime, case.question, result), lang, top5)

    return await run_eval(runtime, modes, questions, max_tokens, answer_done, make_record)


@dataclass(frozen=True)
class GoldSummary:
    mode: str
    lang: str
    status: str
    error: str | None
    models: dict[str, str]
    questions: int
    errors: int
    hit_at_5: float | None  # gold passage among the top 5 hits (HIT_AT)
    hit_at_k: float | None  # gold passage among the retrieved top-k
    gold_shown: float | None  # gold passage among the passages in the prompt
    contains_gold: float | None
    gold_cited: float | None  # the model's own [n] point at the gold passage
    gold_citation_precision: float | None  # share of cited passages that are the gold one
    no_citation: float | None  # answers with no valid [n] at all
    ttft_ms: Distribution | None
    total_ms: Distribution | None
    cost_per_answer_usd: float | None


def _precision(record: GoldRecord) -> float | None:
    if not record.cited_sources:
        return None
    return sum(source == record.gold_source for source in record.cited_sources) / len(record.cited_sources)


def summarize_gold(run: ModeRun, lang: str = "en") -> GoldSummary:
    records: Sequence[GoldRecord] = run.records
    done = [r for r in records if not r.error]
    return GoldSummary(
        mode=run.mode, lang=lang, status=run.status, error=run.error,
        models=run.models, questions=len(records), errors=len(records) - len(done),
        hit_at_5=mean(r.gold_in_top5 for r in records),
        hit_at_k=mean(r.gold_rank is not None for r in records),
        gold_shown=mean(any(p.source == r.gold_source for p in r.shown) for r in records),
        contains_gold=mean(r.contains_gold for r in records),
        gold_cited=mean(r.gold_cited for r in records),
        gold_citation_precision=mean(_precision(r) for r in records),
        no_citation=mean(not r.cited_sources for r in records if r.answered_by_model),
        ttft_ms=distribution(r.ttft_ms for r in done if r.ttft_ms > 0),
        total_ms=distribution(r.total_ms for r in done),
        cost_per_answer_usd=mean(r.cost_usd for r in done),
    )  # fmt: skip
