"""`ragstage bench`: run a fixed prompt set through each target, recording every measurement.

Each answer goes through the real pipeline (retrieval, budgeted prompt, streamed model call),
so the numbers are the ones a person in the chat sees. Per target: the role(s) are resolved
first (this starts an embedded server: the model-load part of the cold start), one warm-up
answer follows (the first-request part; not counted), then `rounds` passes over the prompts.
A target whose server cannot be reached is recorded as failed and the run moves on.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ragstage.answer import AnswerOptions, AnswerResult, Done, Token, answer_stream
from ragstage.evaluation.memory import PeakRssSampler, listening_pid
from ragstage.evaluation.suites import BenchPrompt
from ragstage.evaluation.targets import BenchTarget
from ragstage.metrics import StageMetrics, TurnMetrics, decode_tokens_per_s
from ragstage.models import ModelError

if TYPE_CHECKING:
    from ragstage.runtime import Runtime

MAX_CONSECUTIVE_FAILURES = 2  # then the target is abandoned: a dead server must not stall the run


@dataclass(frozen=True)
class BenchConfig:
    prompts: tuple[BenchPrompt, ...]
    rounds: int = 3
    max_tokens: int = 128
    warmup_answers: int = 1


@dataclass(frozen=True)
class BenchHooks:
    """How the CLI watches a run: one call per finished answer, and streamed text if wanted."""

    answer_done: Callable[[str], None] = lambda _target: None
    token: Callable[[str], None] | None = None
    answer_started: Callable[[str, str, int], None] = lambda _target, _question, _round: None


@dataclass(frozen=True)
class AnswerSample:
    target: str
    round: int  # 0 = warm-up (not counted)
    prompt_id: str
    ok: bool
    error: str | None
    total_ms: float
    ttft_ms: float  # first stage: when the reader sees the first token
    retrieval_ms: float
    prep_ms: float  # all stages
    model_ttft_ms: float  # all stages: request to first token
    decode_ms: float  # all stages
    other_ms: float  # total minus the four parts above (event handling, escalation decision)
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    decode_tokens_per_s: float
    escalated: bool | None
    escalation_reason: str | None
    answer_words: int
    stages: tuple[StageMetrics, ...] = ()  # in the report: StageMetrics.to_json()


@dataclass(frozen=True)
class TargetRun:
    target: str
    mode: str
    status: str  # "ok" | "partial" (some answers failed) | "failed" (nothing measured)
    error: str | None
    endpoints: dict[str, dict[str, Any]]
    resolve_s: float | None  # finding / starting the server(s)
    first_answer_s: float | None  # the warm-up answer
    peak_rss_mb: dict[str, float | None]
    samples: tuple[AnswerSample, ...] = field(default_factory=tuple)
    load_average_1m: float | None = None  # when the target started: other work skews latency

    @property
    def cold_start_s(self) -> float | None:
        if self.resolve_s is None or self.first_answer_s is None:
            return None
        return self.resolve_s + self.first_answer_s

    @property
    def measured(self) -> tuple[AnswerSample, ...]:
        return tuple(s for s in self.samples if s.round > 0)


def turn_decode_tokens_per_s(stages: tuple[StageMetrics, ...]) -> float:
    """Decode speed over all stages: each stage's first token belongs to its TTFT."""
    produced = sum(max(s.usage.completion_tokens - 1, 0) for s in stages)
    decode_ms = sum(s.timings.decode_ms for s in stages)
    return decode_tokens_per_s(produced + 1, decode_ms) if produced else 0.0


def answer_sample(target: str, round_no: int, prompt_id: str, result: AnswerResult, wall_ms: float) -> AnswerSample:
    metrics: TurnMetrics = result.metrics
    stages = metrics.stages
    prep = sum(s.prep_ms for s in stages)
    model_ttft = sum(s.timings.ttft_ms for s in stages)
    total = metrics.total_ms or wall_ms
    usage = metrics.usage
    error = result.error or (None if result.answered_by_model else "no model was called (nothing retrieved)")
    return AnswerSample(
        target=target,
        round=round_no,
        prompt_id=prompt_id,
        ok=error is None and bool(stages),
        error=error,
        total_ms=total,
        ttft_ms=metrics.ttft_ms,
        retrieval_ms=metrics.retrieval_ms,
        prep_ms=prep,
        model_ttft_ms=model_ttft,
        decode_ms=metrics.decode_ms,
        other_ms=total - (metrics.retrieval_ms + prep + model_ttft + metrics.decode_ms),
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cost_usd=metrics.cost_usd,
        decode_tokens_per_s=turn_decode_tokens_per_s(stages),
        escalated=result.escalation.escalated if result.escalation else None,
        escalation_reason=result.escalation.reason if result.escalation else None,
        answer_words=len(result.text.split()),
        stages=stages,
    )


def bench_options(runtime: Runtime, target: BenchTarget, config: BenchConfig) -> AnswerOptions:
    """Deterministic, equal work for every target: temperature 0, the same token cap, and the
    model always called (a prompt that retrieves nothing still measures the model)."""
    return runtime.options(
        mode=target.mode, temperature=0.0, max_answer_tokens=config.max_tokens, answer_anyway=True
    )


async def _answer_once(
    runtime: Runtime, catalog: Any, target: BenchTarget, options: AnswerOptions,
    prompt: BenchPrompt, round_no: int, hooks: BenchHooks,
) -> AnswerSample:
    hooks.answer_started(target.name, prompt.question, round_no)
    started = time.perf_counter()
    result: AnswerResult | None = None
    stream = answer_stream(prompt.question, index=runtime.knowledge.index, catalog=catalog, options=options)
    async with aclosing(stream) as events:
        async for event in events:
            if isinstance(event, Token) and hooks.token is not None:
                hooks.token(event.text)
            elif isinstance(event, Done):
                result = event.result
    wall_ms = (time.perf_counter() - started) * 1000
    hooks.answer_done(target.name)
    if result is None:  # answer_stream always ends with Done; guard against a broken contract
        raise RuntimeError("answer_stream ended without a Done event")
    return answer_sample(target.name, round_no, prompt.prompt_id, result, wall_ms)


def server_pid(catalog: Any, role: str, base_url: str) -> int | None:
    """The embedded server's pid from the catalog, else whatever local process serves the URL."""
    embedded_server = getattr(catalog, "embedded_server", None)
    server = embedded_server(role) if callable(embedded_server) else None
    pid = getattr(server, "pid", None)
    return pid if isinstance(pid, int) else listening_pid(base_url)


def _endpoint_info(endpoint: Any, pid: int | None) -> dict[str, Any]:
    return {
        "model_id": endpoint.model_id,
        "label": endpoint.label(),
        "display_name": endpoint.display_name,
        "backend": endpoint.backend,
        "base_url": endpoint.base_url,
        "server_pid": pid,
    }


async def _measure(runtime: Runtime, catalog: Any, target: BenchTarget, config: BenchConfig,
                   hooks: BenchHooks) -> TargetRun:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    started = time.perf_counter()
    try:
        endpoints = {role: await catalog.resolve(role) for role in target.roles}
    except ModelError as err:
        return TargetRun(target.name, target.mode, "failed", str(err), {}, None, None, {}, load_average_1m=load)
    resolve_s = time.perf_counter() - started
    pids = {role: server_pid(catalog, role, endpoint.base_url) for role, endpoint in endpoints.items()}
    options = bench_options(runtime, target, config)
    samples: list[AnswerSample] = []
    schedule = [(0, p) for p in config.prompts[: config.warmup_answers]]
    schedule += [(r, p) for r in range(1, config.rounds + 1) for p in config.prompts]
    failures_in_a_row = 0
    with PeakRssSampler(pids) as sampler:
        for round_no, prompt in schedule:
            sample = await _answer_once(runtime, catalog, target, options, prompt, round_no, hooks)
            samples.append(sample)
            failures_in_a_row = 0 if sample.ok else failures_in_a_row + 1
            if failures_in_a_row >= MAX_CONSECUTIVE_FAILURES or (round_no == 0 and not sample.ok):
                break
    warm = [s for s in samples if s.round == 0]
    measured = [s for s in samples if s.round > 0]
    errors = [s.error for s in samples if s.error]
    status = "ok" if measured and not errors else ("partial" if any(s.ok for s in measured) else "failed")
    return TargetRun(
        target=target.name,
        mode=target.mode,
        status=status,
        error=errors[-1] if errors else None,
        endpoints={role: _endpoint_info(ep, pids[role]) for role, ep in endpoints.items()},
        resolve_s=resolve_s,
        first_answer_s=warm[0].total_ms / 1000 if warm and warm[0].ok else None,
        peak_rss_mb=sampler.peak_mb(),
        samples=tuple(samples),
        load_average_1m=load,
    )


async def bench_target(runtime: Runtime, target: BenchTarget, config: BenchConfig,
                       hooks: BenchHooks = BenchHooks()) -> TargetRun:
    if target.model_override is None:
        return await _measure(runtime, runtime.catalog, target, config, hooks)
    from ragstage.models import ModelCatalog

    catalog = ModelCatalog(target.settings_for(runtime.settings))
    try:
        return await _measure(runtime, catalog, target, config, hooks)
    finally:
        await catalog.aclose()


async def run_bench(runtime: Runtime, targets: list[BenchTarget], config: BenchConfig,
                    hooks: BenchHooks = BenchHooks()) -> list[TargetRun]:
    """Targets one after another: two models measured at once would share 2 cores and both lose."""
    return [await bench_target(runtime, target, config, hooks) for target in targets]
