"""Hybrid mode's choice: does the SLM draft go to the LLM for refinement?

`auto` escalates on what a draft shows once it is written, with thresholds measured on the
tuning set (docs/ANSWER-QUALITY.md): the share of its sentences that the sources support
(sentence attribution), a refusal although retrieval found a strong passage, and its length.
Citing no `[n]` is no longer a reason: the small model rarely writes them, and attribution
finds the evidence anyway, so that rule escalated every draft and made `auto` mean `always`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ragstage.answer.options import AnswerOptions
from ragstage.answer.refusal import is_refusal
from ragstage.answer.result import Escalation


@dataclass(frozen=True)
class DraftSignals:
    """What escalation reads of a finished draft."""

    text: str
    support_score: float | None  # share of its claim sentences that the sources support; None: no claim
    source_count: int  # passages in the draft's prompt
    top_score: float  # best BM25 score among those passages


def _declines(signals: DraftSignals, options: AnswerOptions) -> Escalation:
    strong = signals.top_score >= options.escalation_strong_score
    if strong:
        return Escalation(True, f"the draft declines although retrieval found a strong passage (BM25 "
                                f"{signals.top_score:.1f} >= {options.escalation_strong_score:g})", signals.support_score)
    return Escalation(False, f"the draft declines and no passage is strong (best BM25 {signals.top_score:.1f} < "
                             f"{options.escalation_strong_score:g}): the sources likely lack the answer", signals.support_score)


def _auto(signals: DraftSignals, options: AnswerOptions) -> Escalation:
    words = len(signals.text.split())
    score = signals.support_score
    if not signals.text.strip():
        return Escalation(True, "the draft is empty", score)
    if is_refusal(signals.text):
        return _declines(signals, options)
    if score is None:
        return Escalation(True, "the draft states nothing the sources could support", score)
    if score < options.escalation_min_support:
        return Escalation(True, f"only {score:.0%} of the draft's sentences are supported by the sources "
                                f"(< {options.escalation_min_support:.0%})", score)
    if words < options.escalation_min_draft_words:
        return Escalation(True, f"the draft is short ({words} < {options.escalation_min_draft_words} words)", score)
    return Escalation(False, f"{score:.0%} of the draft's sentences are supported by the sources "
                             f"(>= {options.escalation_min_support:.0%}) and it has {words} words", score)


_POLICIES: dict[str, Callable[[DraftSignals, AnswerOptions], Escalation]] = {
    "always": lambda signals, _options: Escalation(True, "policy is always", signals.support_score),
    "never": lambda signals, _options: Escalation(False, "policy is never", signals.support_score),
    "auto": _auto,
}


def decide_escalation(signals: DraftSignals, options: AnswerOptions) -> Escalation:
    """Whether to refine the draft, why, and its support score (shown to people next to the answer)."""
    try:
        policy = _POLICIES[options.escalation_policy]
    except KeyError:
        raise ValueError(
            f"unknown escalation policy {options.escalation_policy!r}; choose one of {', '.join(_POLICIES)}"
        ) from None
    return policy(signals, options)
