"""The values an answer produces: the streamed events and the final result.

Streaming first: a caller renders `Token` events as they arrive and gets everything else
(citations, per-stage metrics, the escalation decision) from the `AnswerResult` in `Done`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

from ragstage.answer.options import Mode
from ragstage.metrics import StageMetrics, TurnMetrics

if TYPE_CHECKING:
    from ragstage.answer.attribution import Attribution
    from ragstage.knowledge import Chunk, Hit
    from ragstage.models import ModelEndpoint, ModelError


SCORE_DIGITS = 3


def passage_json(n: int, chunk: Chunk, score: float) -> dict[str, object]:
    """A numbered passage in JSON: where it comes from, not its text."""
    return {"n": n, "chunk_id": chunk.chunk_id, "source": chunk.source, "title": chunk.title,
            "heading": chunk.heading, "page": chunk.page, "score": round(score, SCORE_DIGITS)}  # fmt: skip


def numbered_json(hits: Sequence[Hit]) -> list[dict[str, object]]:
    """Passages as a prompt numbers them: [1] is the first."""
    return [passage_json(n, hit.chunk, hit.score) for n, hit in enumerate(hits, start=1)]


@dataclass(frozen=True)
class Citation:
    n: int  # the prompt's [n]: prompt_sources[n - 1]
    chunk: Chunk
    score: float
    # "model": the model wrote [n] and the passage supports the sentence (or the sentence states
    # nothing to check); "computed": sentence attribution found the passage supporting a sentence
    # that the model left uncited or cited wrongly.
    origin: str = "model"

    def to_json(self) -> dict[str, object]:
        return passage_json(self.n, self.chunk, self.score) | {"text": self.chunk.text, "origin": self.origin}


@dataclass(frozen=True)
class Escalation:
    escalated: bool
    reason: str
    support_score: float | None = None  # the draft's share of supported sentences, when measured

    def to_json(self) -> dict[str, object]:
        score = None if self.support_score is None else round(self.support_score, SCORE_DIGITS)
        return {"escalated": self.escalated, "reason": self.reason, "support_score": score}


@dataclass(frozen=True)
class AnswerResult:
    question: str
    mode: Mode
    text: str
    hits: tuple[Hit, ...]  # everything retrieval returned, in rank order
    citations: tuple[Citation, ...]  # the passages the text cites: model-written or computed
    metrics: TurnMetrics
    escalation: Escalation | None  # hybrid only
    answered_by_model: bool  # False when nothing relevant was found and no model was called
    compared: tuple[AnswerResult, ...] = ()  # compare mode: one result per role
    error: str | None = None  # readable error if a stage failed (partial text kept)
    role: str | None = None  # compare mode: which role produced this result
    # Exactly the passages in the prompt the text was written from, after relevance and the
    # token budget: [n] in the text is prompt_sources[n - 1]. Empty when no prompt was sent.
    prompt_sources: tuple[Hit, ...] = ()
    # Each answer sentence linked to the prompt passages supporting it (None: no model text,
    # or a comparison, whose parts carry their own).
    attribution: Attribution | None = None

    def to_json(self) -> dict[str, object]:
        """The one JSON shape of an answer (docs/ARCHITECTURE.md): `ragstage ask --json`, the
        page's `done` event and the eval report all write this."""
        return {
            "question": self.question,
            "mode": self.mode,
            "role": self.role,
            "text": self.text,
            "answered_by_model": self.answered_by_model,
            "error": self.error,
            "citations": [citation.to_json() for citation in self.citations],
            "prompt_sources": numbered_json(self.prompt_sources),
            "hits": [passage_json(hit.rank, hit.chunk, hit.score) for hit in self.hits],
            "escalation": self.escalation.to_json() if self.escalation else None,
            "attribution": self.attribution.to_json() if self.attribution else None,
            **self.metrics.to_json(),  # timings, usage, cost_usd, stages
            "compared": [result.to_json() for result in self.compared],
        }


@dataclass(frozen=True)
class Retrieved:
    hits: tuple[Hit, ...]
    retrieval_ms: float


@dataclass(frozen=True)
class StageStarted:
    stage: str  # "answer" | "draft" | "refine" | "slm" | "llm"
    endpoint: ModelEndpoint


@dataclass(frozen=True)
class Token:
    stage: str
    text: str


@dataclass(frozen=True)
class StageFinished:
    stage: str
    metrics: StageMetrics
    text: str


@dataclass(frozen=True)
class StageFailed:
    """A stage's model call failed. Not preceded by `StageStarted` when no endpoint could be
    resolved at all (e.g. a forced remote server that is down)."""

    stage: str
    error: ModelError


@dataclass(frozen=True)
class EscalationDecided:
    """Hybrid: whether the draft goes to the LLM, and why (between the draft and the refine)."""

    escalation: Escalation


@dataclass(frozen=True)
class Done:
    result: AnswerResult


AnswerEvent = Union[Retrieved, StageStarted, Token, StageFinished, StageFailed, EscalationDecided, Done]
