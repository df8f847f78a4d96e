"""Scoring answers against a gold suite: was the gold passage retrieved, is a gold answer in the
text, is the gold passage cited, how long did it take. Per mode, like `ragstage eval`.

"Cited" counts the answer's citations after sentence attribution (what a reader sees); the
model's own [n] are scored beside them, so every run measures attribution before and after.
Each record also keeps the passages the model was shown (numbered as in the prompt), so that
citations can be recomputed offline from eval.json alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ragstage.answer import AnswerResult, cited_numbers
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
    cited_sources: tuple[str, ...]  # of the answer's citations after attribution, in [n] order
    model_cited_sources: tuple[str, ...]  # of the model's own valid [n], in [n] order
    contains_gold: bool
    gold_cited: bool  # after attribution
    gold_cited_by_model: bool  # by one of the model's own [n]
    support_score: float | None  # share of the answer's claim sentences the passages support
    escalated: bool | None  # hybrid: the draft went to the LLM
    ttft_ms: float
    total_ms: float
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


def _model_cited(result: AnswerResult, shown: Sequence[Hit]) -> tuple[str, ...]:
    numbers = [n for n in cited_numbers(result.text) if 1 <= n <= len(shown)]
    return tuple(dict.fromkeys(shown[n - 1].chunk.source for n in numbers))


def gold_record(mode: str, case: GoldQuestion, result: AnswerResult, lang: str,
                top5_sources: Sequence[str] = ()) -> GoldRecord:
    shown = result.prompt_sources
    retrieved = tuple(hit.chunk.source for hit in result.hits)
    rank = next((hit.rank for hit in result.hits if hit.chunk.source == case.source), None)
    cited = tuple(dict.fromkeys(c.chunk.source for c in result.citations))
    model_cited = _model_cited(result, shown)
    metrics = result.metrics
    return GoldRecord(
        mode=mode, lang=lang, question_id=case.question_id, question=case.question, gold_answers=case.answers,
        gold_source=case.source, answer=result.text, error=result.error,
        answered_by_model=result.answered_by_model, retrieved_sources=retrieved, gold_rank=rank,
        gold_in_top5=case.source in top5_sources,
        shown=tuple(ShownPassage(n, h.chunk.chunk_id, h.chunk.source, h.chunk.text) for n, h in enumerate(shown, 1)),
        cited_sources=cited, model_cited_sources=model_cited,
        contains_gold=result.answered_by_model and contains_gold(result.text, case.answers, lang),
        gold_cited=case.source in cited, gold_cited_by_model=case.source in model_cited,
        support_score=result.attribution.support_score if result.attribution else None,
        escalated=result.escalation.escalated if result.escalation else None,
        ttft_ms=metrics.ttft_ms, total_ms=metrics.total_ms, prompt_tokens=metrics.usage.prompt_tokens,
        completion_tokens=metrics.usage.completion_tokens, cost_usd=metrics.cost_usd,
    )  # fmt: skip


async def run_gold_eval(runtime: Runtime, modes: Sequence[str], questions: Sequence[GoldQuestion], max_tokens: int,
                        lang: str, answer_done: Callable[[str], None] = lambda _mode: None) -> list[ModeRun]:
    """Every question in every mode, one answer at a time (2 cores: no overlap)."""

    def make_record(mode: str, case: GoldQuestion, result: AnswerResult) -> GoldRecord:
        top5 = [hit.chunk.source for hit in runtime.knowledge.index.search(case.question, HIT_AT)]
        return gold_record(mode, case, result, lang, top5)

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
    gold_cited: float | None  # a citation (after attribution) points at the gold passage
    gold_citation_precision: float | None  # share of cited passages that are the gold one
    no_citation: float | None  # answers citing nothing (after attribution)
    gold_cited_by_model: float | None  # the same three for the model's own [n] alone
    model_citation_precision: float | None
    no_model_citation: float | None
    support_score: float | None  # mean share of supported claim sentences
    escalation_rate: float | None  # hybrid: drafts sent to the LLM
    ttft_ms: Distribution | None
    total_ms: Distribution | None
    cost_per_answer_usd: float | None


def _precision(cited: Sequence[str], gold: str) -> float | None:
    return sum(source == gold for source in cited) / len(cited) if cited else None


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
        gold_citation_precision=mean(_precision(r.cited_sources, r.gold_source) for r in records),
        no_citation=mean(not r.cited_sources for r in records if r.answered_by_model),
        gold_cited_by_model=mean(r.gold_cited_by_model for r in records),
        model_citation_precision=mean(_precision(r.model_cited_sources, r.gold_source) for r in records),
        no_model_citation=mean(not r.model_cited_sources for r in records if r.answered_by_model),
        support_score=mean(r.support_score for r in records),
        escalation_rate=mean(r.escalated for r in records if r.escalated is not None),
        ttft_ms=distribution(r.ttft_ms for r in done if r.ttft_ms > 0),
        total_ms=distribution(r.total_ms for r in done),
        cost_per_answer_usd=mean(r.cost_usd for r in done),
    )  # fmt: skip
