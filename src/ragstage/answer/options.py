"""What a person chooses for one answer: mode, retrieval depth, budget, escalation policy.

Values only; built from `Settings` once and overridden per chat (the settings panel, the CLI
flags), so the answer pipeline never reads global configuration itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from ragstage.answer.prompt import DEFAULT_PROMPT_STYLE, PromptStyle
from ragstage.metrics import Price
from ragstage.models import GenerationParams
from ragstage.models.roles import Role, default_prices, role_configs
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
    prices: Mapping[Role, Price] = field(default_factory=default_prices)  # role -> emulated price
    compare_concurrently: bool = _default("compare_concurrently")
    escalation_min_support: float = _default("escalation_min_support")
    escalation_strong_score: float = _default("escalation_strong_score")
    prompt_style: PromptStyle = DEFAULT_PROMPT_STYLE  # measured wording and layout (not a setting)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> AnswerOptions:
        """Each option from the setting of the same name; `mode` from `default_mode`."""
        values = {item.name: getattr(settings, item.name) for item in fields(cls) if item.name in _DEFAULTS}
        values["mode"] = settings.default_mode
        values["prices"] = {role: config.price for role, config in role_configs(settings).items()}
        return cls(**values | overrides)

    def price(self, role: Role) -> Price:
        """Hypothetical cloud price of a role, for the emulated cost."""
        return self.prices[role]

    def generation_params(self) -> GenerationParams:
        """What each model call of this answer is asked for."""
        return GenerationParams(
            max_tokens=self.max_answer_tokens,
            temperature=self.temperature,
            first_token_timeout_s=self.first_token_timeout_s,
            retries=self.request_retries,
        )
