"""Hybrid mode's choice: does the SLM draft go to the LLM for refinement?

`auto` follows the workshop's rule (escalate short or low-confidence drafts) with signals a
draft actually shows: it cites no source, it says the sources do not answer, or it is short.
"""

from __future__ import annotations

from collections.abc import Callable

from ragstage.answer.citations import cited_numbers
from ragstage.answer.options import AnswerOptions
from ragstage.answer.refusal import is_refusal
from ragstage.answer.result import Escalation

def _auto(draft: str, source_count: int, options: AnswerOptions) -> Escalation:
    words = len(draft.split())
    if not any(1 <= n <= source_count for n in cited_numbers(draft)):
        return Escalation(True, "the draft cites no source")
    if is_refusal(draft):
        return Escalation(True, "the draft says the sources do not answer")
    if words < options.escalation_min_draft_words:
        return Escalation(True, f"the draft is short ({words} < {options.escalation_min_draft_words} words)")
    return Escalation(False, f"the draft cites its sources and has {words} words")


_POLICIES: dict[str, Callable[[str, int, AnswerOptions], Escalation]] = {
    "always": lambda _draft, _count, _options: Escalation(True, "policy is always"),
    "never": lambda _draft, _count, _options: Escalation(False, "policy is never"),
    "auto": _auto,
}


def decide_escalation(draft: str, source_count: int, options: AnswerOptions) -> Escalation:
    """Whether to refine `draft`, and why (shown to people next to the answer)."""
    try:
        policy = _POLICIES[options.escalation_policy]
    except KeyError:
        raise ValueError(
            f"unknown escalation policy {options.escalation_policy!r}; choose one of {', '.join(_POLICIES)}"
        ) from None
    return policy(draft, source_count, options)
