"""Recorded values of what an answer cost: durations, tokens and an emulated cloud price.

These are plain frozen values so that the CLI, the chat UI, the benchmarks and the browser
page all report the same numbers computed the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

UsageSource = Literal["reported", "counted"]
JSON_DIGITS = 2  # durations and rates in JSON: rounded to 0.01 (ms, tokens/s)


def _rounded(value: float) -> float:
    return round(value, JSON_DIGITS)


@dataclass(frozen=True)
class TokenUsage:
    prompt_tokens: int
    completion_tokens: int
    source: UsageSource  # "reported" by the server, or "counted" by us with tiktoken

    def __add__(self, other: TokenUsage) -> TokenUsage:
        source: UsageSource = "reported" if self.source == other.source == "reported" else "counted"
        return TokenUsage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            source,
        )

    def to_json(self) -> dict[str, object]:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens, "source": self.source}


@dataclass(frozen=True)
class CallTimings:
    """One model call. `ttft_ms` runs from sending the request to the first content token;
    `decode_ms` from the first token to the end of the stream."""

    ttft_ms: float
    decode_ms: float
    total_ms: float


def decode_tokens_per_s(completion_tokens: int, decode_ms: float) -> float:
    """Honest decode speed: tokens after the first one, over the time spent producing them.

    The first token's time belongs to TTFT (prefill), so it is not counted here.
    """
    produced = max(completion_tokens - 1, 0)
    if produced == 0 or decode_ms <= 0:
        return 0.0
    return produced / (decode_ms / 1000.0)


@dataclass(frozen=True)
class Price:
    """Hypothetical cloud price of a role, USD per million tokens."""

    input_usd_per_mtok: float
    output_usd_per_mtok: float

    def cost_usd(self, usage: TokenUsage) -> float:
        return (
            usage.prompt_tokens * self.input_usd_per_mtok
            + usage.completion_tokens * self.output_usd_per_mtok
        ) / 1_000_000


@dataclass(frozen=True)
class StageMetrics:
    """What one stage of an answer (a draft, a refine, a single answer) cost."""

    stage: str  # "answer", "draft", "refine", "slm", "llm"
    role: str  # "slm" or "llm"
    model_label: str  # what is shown to people, e.g. "SmolLM2-135M-Instruct (embedded)"
    prep_ms: float
    retrieval_ms: float
    timings: CallTimings
    usage: TokenUsage
    cost_usd: float
    finish_reason: str | None = None
    model_id: str = ""  # the id requested from the server
    backend: str = ""  # "remote" | "embedded"
    engine: str = ""  # embedded: "llama.cpp" | "onnxruntime"; "" for a remote server

    @property
    def decode_tokens_per_s(self) -> float:
        return decode_tokens_per_s(self.usage.completion_tokens, self.timings.decode_ms)

    def to_json(self) -> dict[str, object]:
        """The one JSON shape of a stage (CLI `ask --json`, the page's events, bench reports)."""
        timings = self.timings
        return {
            "stage": self.stage,
            "role": self.role,
            "model": self.model_label,
            "model_id": self.model_id,
            "backend": self.backend,
            "engine": self.engine,
            "prep_ms": _rounded(self.prep_ms),
            "retrieval_ms": _rounded(self.retrieval_ms),
            "ttft_ms": _rounded(timings.ttft_ms),
            "decode_ms": _rounded(timings.decode_ms),
            "total_ms": _rounded(timings.total_ms),
            "decode_tokens_per_s": _rounded(self.decode_tokens_per_s),
            "prompt_tokens": self.usage.prompt_tokens,
            "completion_tokens": self.usage.completion_tokens,
            "usage_source": self.usage.source,
            "cost_usd": self.cost_usd,
            "finish_reason": self.finish_reason,
        }


@dataclass(frozen=True)
class TurnMetrics:
    """A whole answer: retrieval once, then one or more model stages."""

    retrieval_ms: float
    stages: tuple[StageMetrics, ...] = field(default_factory=tuple)
    total_ms: float = 0.0
    # Stages ran at the same time on shared cores (compare mode, when asked to): each stage's
    # timings then include the other's contention.
    stages_concurrent: bool = False

    @property
    def ttft_ms(self) -> float:
        """Time until the user saw the first token of the answer."""
        return self.stages[0].timings.ttft_ms if self.stages else 0.0

    @property
    def usage(self) -> TokenUsage:
        total = TokenUsage(0, 0, "reported")
        for stage in self.stages:
            total = total + stage.usage
        return total

    @property
    def cost_usd(self) -> float:
        return sum(stage.cost_usd for stage in self.stages)

    @property
    def decode_ms(self) -> float:
        return sum(stage.timings.decode_ms for stage in self.stages)

    def to_json(self) -> dict[str, object]:
        timings = {"retrieval_ms": self.retrieval_ms, "ttft_ms": self.ttft_ms, "decode_ms": self.decode_ms,
                   "total_ms": self.total_ms}  # fmt: skip
        return {
            "timings": {name: _rounded(value) for name, value in timings.items()},
            "usage": self.usage.to_json(),
            "cost_usd": self.cost_usd,
            "stages": [stage.to_json() for stage in self.stages],
        }
