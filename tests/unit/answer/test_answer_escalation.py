"""Hybrid mode's escalation policy: when the SLM draft goes to the LLM, and why."""

from __future__ import annotations

import pytest

from ragstage.answer import decide_escalation

GOOD = "The embedded model is SmolLM2-135M-Instruct and llama.cpp serves it locally [1]."


@pytest.mark.parametrize(
    ("policy", "draft", "escalated", "reason_part"),
    [
        ("always", GOOD, True, "always"),
        ("never", "", False, "never"),
        ("never", "I do not know.", False, "never"),
        ("auto", GOOD, False, "cites its sources"),
        ("auto", "The embedded model is SmolLM2-135M-Instruct and llama.cpp serves it locally.", True, "cites no source"),
        ("auto", "The model is SmolLM2 [7] and it is served by llama.cpp on the machine.", True, "cites no source"),
        ("auto", "The sources do not contain the answer to this question, sorry [1].", True, "do not answer"),
        ("auto", "I cannot answer that from these passages about models and servers [2].", True, "do not answer"),
        ("auto", "It is SmolLM2 [1].", True, "short (4 < 6 words)"),
        ("auto", "", True, "cites no source"),
    ],
)
def test_escalation_policy_table(policy, draft, escalated, reason_part, make_options) -> None:
    options = make_options(mode="hybrid", escalation_policy=policy, escalation_min_draft_words=6)
    decision = decide_escalation(draft, 2, options)
    assert decision.escalated is escalated
    assert reason_part in decision.reason


def test_an_unknown_policy_names_the_valid_ones(make_options) -> None:
    with pytest.raises(ValueError, match="auto, always, never|always, never, auto"):
        decide_escalation(GOOD, 2, make_options(escalation_policy="sometimes"))
