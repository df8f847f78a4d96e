"""From raw bench samples to the per-target numbers people compare.

Only measured rounds count (the warm-up is the cold start, reported on its own), and only
answers that succeeded: a failed answer has no honest latency. Costs use the emulated price
table, so "per 1,000 answers" is simply the mean cost of one answer times 1,000.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ragstage.evaluation.bench import AnswerSample, TargetRun
from ragstage.evaluation.stats import Distribution, distribution, mean
from ragstage.metrics import StageMetrics

DECOMPOSITION_PARTS = ("prep_ms", "retrieval_ms", "model_ttft_ms", "decode_ms", "other_ms")


@dataclass(frozen=True)
class StageSummary:
    stage: str
    role: str
    model_label: str
    runs: int  # answers in which this stage ran (hybrid refine runs only when escalated)
    ttft_ms: Distribution | None
    model_ms: Distribution | None
    decode_tokens_per_s_p50: float | None
    prompt_tokens_mean: float | None
    completion_tokens_mean: float | None
    cost_usd_total: float
    cost_per_run_usd: float | None


@dataclass(frozen=True)
class TargetSummary:
    target: str
    mode: str
    status: str
    error: str | None
    models: dict[str, str]  # role -> model name as shown to people
    answers: int  # measured answers that succeeded
    failed: int  # measured answers that failed
    cold_start_s: float | None
    resolve_s: float | None
    first_answer_s: float | None
    ttft_ms: Distribution | None
    total_ms: Distribution | None
    decode_tokens_per_s_p50: float | None
    prompt_tokens_mean: float | None
    completion_tokens_mean: float | None
    usage_source: str | None  # "reported" by the server, "counted" with tiktoken, or "mixed"
    cost_per_answer_usd: float | None
    cost_per_1k_answers_usd: float | None
    peak_rss_mb: dict[str, float | None]
    decomposition_ms: dict[str, float]  # mean of each part; the parts sum to the mean total
    stages: tuple[StageSummary, ...]
    escalation_rate: float | None  # hybrid: share of answers whose draft was refined
    load_average_1m: float | None = None  # machine load when the target started


def _stage_summary(stage_samples: Sequence[StageMetrics]) -> StageSummary:
    first = stage_samples[0]
    total_cost = sum(s.cost_usd for s in stage_samples)
    speeds = distribution(s.decode_tokens_per_s for s in stage_samples if s.usage.completion_tokens > 1)
    return StageSummary(
        stage=first.stage,
        role=first.role,
        model_label=first.model_label,
        runs=len(stage_samples),
        ttft_ms=distribution(s.timings.ttft_ms for s in stage_samples),
        model_ms=distribution(s.timings.ttft_ms + s.timings.decode_ms for s in stage_samples),
        decode_tokens_per_s_p50=speeds.p50 if speeds else None,
        prompt_tokens_mean=mean(s.usage.prompt_tokens for s in stage_samples),
        completion_tokens_mean=mean(s.usage.completion_tokens for s in stage_samples),
        cost_usd_total=total_cost,
        cost_per_run_usd=total_cost / len(stage_samples),
    )


def _stages(answers: Sequence[AnswerSample]) -> tuple[StageSummary, ...]:
    by_stage: dict[str, list[StageMetrics]] = {}
    for answer in answers:
        for stage in answer.stages:
            by_stage.setdefault(stage.stage, []).append(stage)
    return tuple(_stage_summary(samples) for samples in by_stage.values())


def _usage_source(answers: Sequence[AnswerSample]) -> str | None:
    sources = {stage.usage.source for answer in answers for stage in answer.stages}
    return None if not sources else (sources.pop() if len(sources) == 1 else "mixed")


def summarize_target(run: TargetRun) -> TargetSummary:
    answers = [s for s in run.measured if s.ok]
    cost = mean(s.cost_usd for s in answers)
    speeds = distribution(s.decode_tokens_per_s for s in answers if s.completion_tokens > 1)
    escalations = [s.escalated for s in answers if s.escalated is not None]
    return TargetSummary(
        target=run.target,
        mode=run.mode,
        status=run.status,
        error=run.error,
        models={role: info.get("display_name") or info["label"] for role, info in run.endpoints.items()},
        answers=len(answers),
        failed=sum(1 for s in run.measured if not s.ok),
        cold_start_s=run.cold_start_s,
        resolve_s=run.resolve_s,
        first_answer_s=run.first_answer_s,
        ttft_ms=distribution(s.ttft_ms for s in answers),
        total_ms=distribution(s.total_ms for s in answers),
        decode_tokens_per_s_p50=speeds.p50 if speeds else None,
        prompt_tokens_mean=mean(s.prompt_tokens for s in answers),
        completion_tokens_mean=mean(s.completion_tokens for s in answers),
        usage_source=_usage_source(answers),
        cost_per_answer_usd=cost,
        cost_per_1k_answers_usd=cost * 1000 if cost is not None else None,
        peak_rss_mb=run.peak_rss_mb,
        decomposition_ms={part: mean(getattr(s, part) for s in answers) or 0.0 for part in DECOMPOSITION_PARTS}
        if answers
        else {},
        stages=_stages(answers),
        escalation_rate=mean(escalations) if escalations else None,
        load_average_1m=run.load_average_1m,
    )
