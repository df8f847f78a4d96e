"""Fixtures of the answer unit tests: a scripted model, a small fake index, options."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from answer_fakes import FakeIndex, ScriptedModel, make_hit

from ragstage.answer import AnswerOptions


@pytest.fixture
def model() -> ScriptedModel:
    return ScriptedModel()


@pytest.fixture
def index() -> FakeIndex:
    return FakeIndex(
        [
            make_hit(1, "The embedded SLM is SmolLM2-135M-Instruct, served by llama.cpp.", 9.0, heading="Models"),
            make_hit(2, "Hybrid mode drafts with the SLM and refines with the LLM.", 6.0),
            make_hit(3, "BM25 ranks passages by term frequency.", 0.4),
        ]
    )


@pytest.fixture
def make_options() -> Callable[..., AnswerOptions]:
    def build(**overrides: object) -> AnswerOptions:
        base: dict[str, object] = dict(
            mode="slm", top_k=4, context_budget_tokens=900, max_answer_tokens=64, temperature=0.0,
            answer_anyway=False, escalation_policy="auto", escalation_min_draft_words=5, score_floor=1.0,
        )
        base.update(overrides)
        return AnswerOptions(**base)  # type: ignore[arg-type]

    return build
