"""`ragstage bench --engines llama.cpp,onnxruntime`: one model, several embedded engines, one run.

For each role and engine, in turn (never two servers at once: they would share the cores), a
fresh catalog starts the role's embedded server on that engine with the same GGUF (or its
conversion), threads and context. Measured: load time (start, health check and warm-up prompt),
per answer TTFT, prefill and decode speed, the server's peak RSS, and, on a gold QA folder,
how many answers contain a gold answer and cite the gold passage.

Token counts are ours (o200k_base) for both engines: the two servers count tokens with
different tokenizers (llama.cpp reports none when streaming), and a rate compares engines only
if both use the same yardstick. Both see exactly the same prompts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ragstage.answer import AnswerOptions, AnswerResult, Done, answer_stream, ground
from ragstage.evaluation.gold_questions import GoldQuestion, contains_gold
from ragstage.evaluation.memory import PeakRssSampler
from ragstage.evaluation.stats import distribution, mean
from ragstage.evaluation.suites import BenchPrompt
from ragstage.metrics import decode_tokens_per_s
from ragstage.models import ModelCatalog, ModelError
from ragstage.tokens import count_tokens

if TYPE_CHECKING:
    from ragstage.knowledge import ChunkIndex
    from ragstage.settings import Settings

QUALITY_TOLERANCE = 0.03  # an engine may be chosen for speed only if it answers this nearly as well


@dataclass(frozen=True)
class EngineSample:
    ok: bool
    ttft_ms: float
    decode_ms: float
    total_ms: float
    prompt_tokens: int  # o200k_base, same count for every engine
    completion_tokens: int

    @property
    def prefill_tokens_per_s(self) -> float | None:
        return self.prompt_tokens / (self.ttft_ms / 1000) if self.ok and self.ttft_ms > 0 else None

    @property
    def decode_tokens_per_s(self) -> float | None:
        return decode_tokens_per_s(self.completion_tokens, self.decode_ms) if self.ok else None


@dataclass(frozen=True)
class EngineQuality:
    questions: int
    contains_gold: float  # share of questions whose answer contains a gold answer
    gold_cited: float  # share citing the gold passage
    errors: int


@dataclass(frozen=True)
class EngineRun:
    role: str
    engine: str
    model: str
    status: str  # "ok" | "failed"
    error: str | None = None
    load_s: float | None = None
    peak_rss_mb: float | None = None
    samples: tuple[EngineSample, ...] = ()
    quality: EngineQuality | None = None


@dataclass(frozen=True)
class EngineBenchPlan:
    roles: tuple[str, ...]
    engines: tuple[str, ...]
    prompts: tuple[BenchPrompt, ...]
    rounds: int
    max_tokens: int
    quality_index: ChunkIndex | None = None
    quality_questions: tuple[GoldQuestion, ...] = ()
    quality_max_tokens: int = 64
    progress: Callable[[str], None] = field(default=lambda _text: None)


async def _answer(question: str, index: ChunkIndex, catalog: ModelCatalog, options: AnswerOptions) -> AnswerResult:
    async with aclosing(answer_stream(question, index=index, catalog=catalog, options=options)) as events:
        async for event in events:
            if isinstance(event, Done):
                return event.result
    raise RuntimeError("answer_stream ended without a Done event")


def _sample(result: AnswerResult, prompt_tokens: int) -> EngineSample:
    stages = result.metrics.stages
    if result.error or not stages:
        return EngineSample(False, 0.0, 0.0, result.metrics.total_ms, prompt_tokens, 0)
    timings = stages[0].timings
    return EngineSample(True, timings.ttft_ms, timings.decode_ms, timings.total_ms, prompt_tokens,
                        count_tokens(result.text))  # fmt: skip


async def _speed(plan: EngineBenchPlan, index: ChunkIndex, catalog: ModelCatalog, options: AnswerOptions) -> list[EngineSample]:
    """One warm-up answer (not kept), then `rounds` passes over the prompts."""
    schedule = [(0, plan.prompts[0])] + [(r, p) for r in range(1, plan.rounds + 1) for p in plan.prompts]
    samples = []
    for round_no, prompt in schedule:
        grounding = ground(prompt.question, index, options)
        prompt_tokens = grounding.prompt.prompt_tokens if grounding.prompt else 0
        result = await _answer(prompt.question, index, catalog, options)
        if round_no:
            samples.append(_sample(result, prompt_tokens))
    return samples


async def _quality(plan: EngineBenchPlan, catalog: ModelCatalog, options: AnswerOptions) -> EngineQuality | None:
    if plan.quality_index is None or not plan.quality_questions:
        return None
    found = cited = errors = 0
    for number, question in enumerate(plan.quality_questions, start=1):
        result = await _answer(question.question, plan.quality_index, catalog, options)
        errors += bool(result.error)
        found += contains_gold(result.text, question.answers) and result.answered_by_model
        cited += any(c.chunk.source == question.passage_id for c in result.citations)
        if number % 10 == 0:
            plan.progress(f"  quality {number}/{len(plan.quality_questions)}")
    total = len(plan.quality_questions)
    return EngineQuality(total, found / total, cited / total, errors)


async def bench_engine(settings: Settings, knowledge: ChunkIndex, role: str, engine: str,
                       plan: EngineBenchPlan) -> EngineRun:  # fmt: skip
    """Start the role's server on `engine`, measure it, stop it."""
    engine_settings = settings.model_copy(update={f"{role}_engine": engine, "backend": "embedded"})
    catalog = ModelCatalog(engine_settings)
    started = time.perf_counter()
    try:
        endpoint = await catalog.resolve(role)
    except ModelError as err:
        await catalog.aclose()
        return EngineRun(role, engine, "", "failed", str(err))
    load_s = time.perf_counter() - started
    server = catalog.embedded_server(role)
    speed = AnswerOptions.from_settings(engine_settings, mode=role, temperature=0.0,
                                        max_answer_tokens=plan.max_tokens, answer_anyway=True)  # fmt: skip
    graded = AnswerOptions.from_settings(engine_settings, mode=role, temperature=0.0,
                                         max_answer_tokens=plan.quality_max_tokens)  # fmt: skip
    try:
        with PeakRssSampler({"server": server.pid if server else None}) as sampler:
            samples = await _speed(plan, knowledge, catalog, speed)
            quality = await _quality(plan, catalog, graded)
    finally:
        await catalog.aclose()
    return EngineRun(role, engine, endpoint.display_name, "ok", None, load_s, sampler.peak_mb().get("server"),
                     tuple(samples), quality)  # fmt: skip


async def run_engine_bench(settings: Settings, knowledge: ChunkIndex, plan: EngineBenchPlan) -> list[EngineRun]:
    runs = []
    for role in plan.roles:
        for engine in plan.engines:
            plan.progress(f"{role} on {engine}")
            runs.append(await bench_engine(settings, knowledge, role, engine, plan))
    return runs


def summary_row(run: EngineRun) -> dict[str, Any]:
    """One table row: the numbers a person compares engines by (None where not measured)."""
    ok = [s for s in run.samples if s.ok]
    ttft, total = distribution(s.ttft_ms for s in ok), distribution(s.total_ms for s in ok)
    prefill, decode = distribution(s.prefill_tokens_per_s for s in ok), distribution(s.decode_tokens_per_s for s in ok)
    quality = run.quality
    return {
        "role": run.role, "engine": run.engine, "model": run.model, "status": run.status, "error": run.error,
        "load_s": run.load_s, "answers": len(run.samples), "failed_answers": len(run.samples) - len(ok),
        "ttft_ms_p50": ttft.p50 if ttft else None, "ttft_ms_p95": ttft.p95 if ttft else None,
        "total_ms_p50": total.p50 if total else None,
        "prefill_tokens_per_s_p50": prefill.p50 if prefill else None,
        "decode_tokens_per_s_p50": decode.p50 if decode else None,
        "decode_tokens_per_s_mean": mean(s.decode_tokens_per_s for s in ok),
        "peak_rss_mb": run.peak_rss_mb,
        "quality_questions": quality.questions if quality else None,
        "contains_gold": quality.contains_gold if quality else None,
        "gold_cited": quality.gold_cited if quality else None,
        "quality_errors": quality.errors if quality else None,
    }  # fmt: skip


def choose_engines(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per role: the faster engine (median total answer time) if its quality is within
    QUALITY_TOLERANCE of the best measured, else the best-quality one; with the reason."""
    choices: dict[str, dict[str, Any]] = {}
    for role in dict.fromkeys(row["role"] for row in rows):
        measured = [r for r in rows if r["role"] == role and r["status"] == "ok" and r["total_ms_p50"]]
        if not measured:
            continue
        best_quality = max((r["contains_gold"] or 0.0) for r in measured)
        eligible = [r for r in measured if (r["contains_gold"] or 0.0) >= best_quality - QUALITY_TOLERANCE]
        fastest = min(eligible, key=lambda r: r["total_ms_p50"])
        choices[role] = {"engine": fastest["engine"], "reason": (
            f"fastest median answer ({fastest['total_ms_p50'] / 1000:.1f} s) with contains-gold "
            f"{fastest['contains_gold'] or 0:.2f} within {QUALITY_TOLERANCE} of the best ({best_quality:.2f})")}
    return choices
