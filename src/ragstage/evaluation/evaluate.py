"""`ragstage eval`: answer a QA suite in each mode and score every answer.

Temperature 0 and the shipped suite make a rerun on the same machine give the same scores.
A mode whose model cannot be reached is recorded as failed; the other modes still run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ragstage.answer import MODE_ROLES, AnswerResult, cited_numbers
from ragstage.evaluation.quality import AnswerScores, ObservedAnswer, score_answer
from ragstage.evaluation.stats import Distribution, distribution, mean
from ragstage.evaluation.suites import EvalCase
from ragstage.models import ModelError

if TYPE_CHECKING:
    from ragstage.runtime import Runtime

MAX_CONSECUTIVE_FAILURES = 2


@dataclass(frozen=True)
class EvalRecord:
    mode: str
    case_id: str
    question: str
    answerable: bool
    retrieved_sources: tuple[str, ...]
    cited_sources: tuple[str | None, ...]  # per [n] in the answer; None for a number with no source
    scores: AnswerScores
    result: AnswerResult  # in the report: AnswerResult.to_json(), the one answer schema

    @property
    def answer(self) -> str:
        return self.result.text

    @property
    def error(self) -> str | None:
        return self.result.error

    @property
    def ttft_ms(self) -> float:
        return self.result.metrics.ttft_ms

    @property
    def total_ms(self) -> float:
        return self.result.metrics.total_ms

    @property
    def cost_usd(self) -> float:
        return self.result.metrics.cost_usd


@dataclass(frozen=True)
class ModeRun:
    mode: str
    status: str  # "ok" | "partial" | "failed"
    error: str | None
    models: dict[str, str]
    records: tuple[Any, ...]  # EvalRecord; GoldRecord for a gold suite (evaluation.gold_eval)


# (mode, case, result) -> the record kept for that answer; it must have an `error` attribute.
RecordFn = Callable[[str, Any, AnswerResult], Any]


def observe(result: AnswerResult) -> ObservedAnswer:
    """What the metrics see of an answer: its text, the retrieved sources, the cited passages."""
    by_number = {c.n: c.chunk for c in result.citations}
    numbers = cited_numbers(result.text)
    stages = result.metrics.stages
    return ObservedAnswer(
        text=result.text,
        retrieved_sources=tuple(hit.chunk.source for hit in result.hits),
        cited_passages=tuple(by_number[n].text if n in by_number else None for n in numbers),
        answered_by_model=result.answered_by_model,
        finish_reason=stages[-1].finish_reason if stages else None,
        error=result.error,
    )


def eval_record(mode: str, case: EvalCase, result: AnswerResult) -> EvalRecord:
    observed = observe(result)
    by_number = {c.n: c.chunk.source for c in result.citations}
    return EvalRecord(
        mode=mode,
        case_id=case.case_id,
        question=case.question,
        answerable=case.answerable,
        retrieved_sources=observed.retrieved_sources,
        cited_sources=tuple(by_number.get(n) for n in cited_numbers(result.text)),
        scores=score_answer(case, observed),
        result=result,
    )


async def evaluate_mode(runtime: Runtime, mode: str, cases: Sequence[Any], max_tokens: int,
                        answer_done: Callable[[str], None] = lambda _mode: None,
                        make_record: RecordFn = eval_record) -> ModeRun:
    """Every case answered in one mode; stops early when the model fails twice in a row."""
    try:
        endpoints = {role: await runtime.catalog.resolve(role) for role in MODE_ROLES[mode]}
    except ModelError as err:
        return ModeRun(mode, "failed", str(err), {}, ())
    options = runtime.options(mode=mode, temperature=0.0, max_answer_tokens=max_tokens)
    records: list[EvalRecord] = []
    failures_in_a_row = 0
    for case in cases:
        result = await runtime.answer(case.question, options)
        answer_done(mode)
        records.append(make_record(mode, case, result))
        failures_in_a_row = failures_in_a_row + 1 if result.error else 0
        if failures_in_a_row >= MAX_CONSECUTIVE_FAILURES:
            break
    errors = [r.error for r in records if r.error]
    complete = len(records) == len(cases) and not errors
    status = "ok" if complete else ("partial" if any(not r.error for r in records) else "failed")
    models = {role: endpoint.label() for role, endpoint in endpoints.items()}
    return ModeRun(mode, status, errors[-1] if errors else None, models, tuple(records))


async def run_eval(runtime: Runtime, modes: Sequence[str], cases: Sequence[Any], max_tokens: int,
                   answer_done: Callable[[str], None] = lambda _mode: None,
                   make_record: RecordFn = eval_record) -> list[ModeRun]:
    return [await evaluate_mode(runtime, mode, cases, max_tokens, answer_done, make_record) for mode in modes]


@dataclass(frozen=True)
class ModeSummary:
    mode: str
    status: str
    error: str | None
    models: dict[str, str]
    questions: int
    answerable: int
    unanswerable: int
    errors: int
    hit_at_k: float | None
    fact_recall: float | None
    answer_correctness: float | None  # answerable questions with every fact stated
    refusal_correctness: float | None  # unanswerable questions declined
    false_refusal_rate: float | None  # answerable questions declined
    citation_precision: float | None
    groundedness: float | None
    conciseness: float | None
    answer_words_mean: float | None
    rubric: dict[str, float | None]  # coherence / factuality / concision, 1-5
    quality: float | None  # share of all questions handled right (correct or rightly declined)
    ttft_ms: Distribution | None
    total_ms: Distribution | None
    cost_per_answer_usd: float | None
    cost_per_1k_answers_usd: float | None


def _scores(records: Sequence[EvalRecord], name: str, answerable: bool | None = None) -> list[Any]:
    return [getattr(r.scores, name) for r in records if answerable is None or r.answerable == answerable]


def summarize_mode(run: ModeRun) -> ModeSummary:
    done = [r for r in run.records if not r.error]
    cost = mean(r.cost_usd for r in done)
    return ModeSummary(
        mode=run.mode, status=run.status, error=run.error, models=run.models,
        questions=len(run.records),
        answerable=sum(r.answerable for r in run.records),
        unanswerable=sum(not r.answerable for r in run.records),
        errors=len(run.records) - len(done),
        hit_at_k=mean(_scores(run.records, "hit_at_k", True)),
        fact_recall=mean(_scores(run.records, "fact_recall", True)),
        answer_correctness=mean(_scores(run.records, "correct", True)),
        refusal_correctness=mean(_scores(run.records, "refusal_correct", False)),
        false_refusal_rate=mean(_scores(run.records, "refused", True)),
        citation_precision=mean(_scores(run.records, "citation_precision")),
        groundedness=mean(_scores(run.records, "groundedness")),
        conciseness=mean(_scores(run.records, "conciseness")),
        answer_words_mean=mean(_scores(run.records, "answer_words")),
        rubric={name: mean(_scores(run.records, name)) for name in ("coherence", "factuality", "concision")},
        quality=mean(_scores(run.records, "correct")),
        ttft_ms=distribution(r.ttft_ms for r in done if r.ttft_ms > 0),
        total_ms=distribution(r.total_ms for r in done),
        cost_per_answer_usd=cost,
        cost_per_1k_answers_usd=cost * 1000 if cost is not None else None,
    )
