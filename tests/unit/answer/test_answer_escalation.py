"""Hybrid mode's escalation policy: when the SLM draft goes to the LLM, and why.

`auto` reads the draft's support score (share of its sentences the sources support), whether it
declines although retrieval found a strong passage, and its length; the reason names the
number that decided, so the Draft step can show it."""

from __future__ import annotations

import pytest

from ragstage.answer import DraftSignals, decide_escalation

GOOD = "The embedded model is SmolLM2-135M-Instruct and llama.cpp serves it locally [1]."
DECLINES = "The sources do not contain the answer to this question, sorry."


def _signals(text: str, support: float | None = 1.0, top_score: float = 12.0) -> DraftSignals:
    return DraftSignals(text, support_score=support, source_count=2, top_score=top_score)


@pytest.mark.parametrize(
    ("policy", "signals", "escalated", "reason_part"),
    [
        ("always", _signals(GOOD), True, "always"),
        ("never", _signals("", None), False, "never"),
        ("never", _signals("I do not know.", 0.0), False, "never"),
        ("auto", _signals(GOOD, 1.0), False, "100% of the draft's sentences are supported by the sources (>= 75%)"),
        ("auto", _signals(GOOD.replace(" [1]", ""), 0.8), False, "80% of the draft's sentences are supported"),
        ("auto", _signals(GOOD, 0.5), True, "only 50% of the draft's sentences are supported by the sources (< 75%)"),
        ("auto", _signals(GOOD, None), True, "states nothing the sources could support"),
        ("auto", _signals(DECLINES, None, top_score=12.0), True, "declines although retrieval found a strong passage (BM25 12.0 >= 8)"),
        ("auto", _signals(DECLINES, None, top_score=3.2), False, "no passage is strong (best BM25 3.2 < 8)"),
        ("auto", _signals("It is SmolLM2 [1].", 1.0), True, "short (4 < 6 words)"),
        ("auto", _signals("", None), True, "empty"),
    ],
)
def test_escalation_policy_table(policy, signals, escalated, reason_part, make_options) -> None:
    options = make_options(mode="hybrid", escalation_policy=policy, escalation_min_draft_words=6,
                           escalation_min_support=0.75, escalation_strong_score=8.0)
    decision = decide_escalation(signals, options)
    assert decision.escalated is escalated
    assert reason_part in decision.reason
    assert decision.support_score == signals.support_score


def test_the_support_threshold_is_inclusive(make_options) -> None:
    options = make_options(mode="hybrid", escalation_min_support=0.75, escalation_min_draft_words=0)
    assert not decide_escalation(_signals(GOOD, 0.75), options).escalated
    assert decide_escalation(_signals(GOOD, 0.74), options).escalated


def test_an_unknown_policy_names_the_valid_ones(make_options) -> None:
    with pytest.raises(ValueError, match="auto, always, never|always, never, auto"):
        decide_escalation(_signals(GOOD), make_options(escalation_policy="sometimes"))
