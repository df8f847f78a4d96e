"""What a person chooses for one answer: mode, retrieval depth, budget, escalation policy.

Values only; built from `Settings` once and overridden per chat (the settings panel, the CLI
flags), so the answer pipeline never reads global configuration itself.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from ragstage.metrics import Price
from ragstage.settings import Settings

Mode = Literal["slm", "llm", "hybrid", "compare"]
EscalationPolicy = Literal["auto", "always", "never"]

# Defaults mirror Settings so that options built by hand behave like the app's.
_DEFAULTS = Settings.model_fields


def _default(name: str) -> Any:
    return _DEFAULTS[name].default


@dataclass(frozen=True)
class AnswerOptions:
    mode: Mode
    top_k: int
    context_budget_tokens: int
    max_answer_tokens: int
    temperature: float
    answer_anyway: bool
    escalation_policy: EscalationPolicy
    escalation_min_draft_words: int
    score_floor: float
    # Additions to the contract (all defaulted, so older call sites keep working):
    history_turns: int = _default("history_turns")
    first_token_timeout_s: float = _default("first_token_timeout_s")
    request_retries: int = _default("request_retries")
    slm_price: Price = Price(_default("slm_input_usd_per_mtok"), _default("slm_output_usd_per_mtok"))
    llm_price: Price = Price(_default("llm_input_usd_per_mtok"), _default("llm_output_usd_per_mtok"))
    compare_concurrently: bool = _default("compare_concurrently")

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> AnswerOptions:
        options = cls(
            mode=settings.default_mode,
            top_k=settings.top_k,
            context_budget_tokens=settings.context_budget_tokens,
            max_answer_tokens=settings.max_answer_tokens,
            temperature=settings.temperature,
            answer_anyway=settings.answer_anyway,
            escalation_policy=settings.escalation_policy,
            escalation_min_draft_words=settings.escalation_min_draft_words,
            score_floor=settings.score_floor,
            history_turns=settings.history_turns,
            first_token_timeout_s=settings.first_token_timeout_s,
            request_retries=settings.request_retries,
            slm_price=Price(settings.slm_input_usd_per_mtok, settings.slm_output_usd_per_mtok),
            llm_price=Price(settings.llm_input_usd_per_mtok, settings.llm_output_usd_per_mtok),
            compare_concurrently=settings.compare_concurrently,
        )
        return replace(options, **overrides)

    def price(self, role: str) -> Price:
        """Hypothetical cloud price of a role, for the emulated cost."""
        return self.llm_price if role == "llm" else self.slm_price
