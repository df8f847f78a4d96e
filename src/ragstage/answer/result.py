"""The values an answer produces: the streamed events and the final result.

Streaming first: a caller renders `Token` events as they arrive and gets everything else
(citations, per-stage metrics, the escalation decision) from the `AnswerResult` in `Done`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

from ragstage.answer.options import Mode
from ragstage.metrics import StageMetrics, TurnMetrics

if TYPE_CHECKING:
    from ragstage.knowledge import Chunk, Hit
    from ragstage.models import ModelEndpoint, ModelError


@dataclass(frozen=True)
class Citation:
    n: int  # the [n] used in the text
    chunk: Chunk
    score: float


@dataclass(frozen=True)
class Escalation:
    escalated: bool
    reason: str


@dataclass(frozen=True)
class AnswerResult:
    question: str
    mode: Mode
    text: str
    hits: tuple[Hit, ...]  # what retrieval returned; numbered sources are hits[i] -> [i + 1]
    citations: tuple[Citation, ...]  # the [n] the text actually uses
    metrics: TurnMetrics
    escalation: Escalation | None  # hybrid only
    answered_by_model: bool  # False when nothing relevant was found and no model was called
    compared: tuple[AnswerResult, ...] = ()  # compare mode: one result per role
    error: str | None = None  # readable error if a stage failed (partial text kept)
    role: str | None = None  # compare mode: which role produced this result


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
class Done:
    result: AnswerResult


AnswerEvent = Union[Retrieved, StageStarted, Token, StageFinished, StageFailed, Done]
