"""The chat-settings panel: mode (named after the models actually serving), policy, knobs.

Values are kept per session and turned into `AnswerOptions` for the next message. Labels are in
the reader's language (`ui/locale.py`); widget ids and values never change with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from chainlit.input_widget import InputWidget, Select, Slider, Switch

from ragstage.answer import modes as answer_modes
from ragstage.models.roles import role_configs
from ragstage.ui.locale import Locale, english

if TYPE_CHECKING:
    from ragstage.models import ModelEndpoint
    from ragstage.settings import Settings

MODES = tuple(answer_modes.MODES)  # "slm", "llm", "hybrid", "compare"
POLICIES = ("auto", "always", "never")
# widget id -> how to read its value; the ids are AnswerOptions field names
_CONVERTERS = {
    "mode": str,
    "escalation_policy": str,
    "temperature": float,
    "max_answer_tokens": int,
    "top_k": int,
    "context_budget_tokens": int,
    "answer_anyway": bool,
}


def _served(alias: str, role: str, endpoint: ModelEndpoint | None, locale: Locale) -> str:
    if endpoint is None:  # not resolved yet (started on first use) or unavailable: the chat says which
        return f"{alias} ({role.upper()})"
    if endpoint.display_name == alias:
        return locale.text("settings.mode_served", alias=alias, role=role.upper(), backend=endpoint.backend)
    return locale.text("settings.mode_stand_in", alias=alias, role=role.upper(), name=endpoint.display_name,
                       backend=endpoint.backend)


def _name(alias: str, endpoint: ModelEndpoint | None) -> str:
    """The model that really answers, once known (an embedded stand-in is not the alias)."""
    return endpoint.display_name if endpoint is not None else alias


def mode_labels(settings: Settings, endpoints: Mapping[str, ModelEndpoint | None],
                locale: Locale | None = None) -> dict[str, str]:
    """mode -> label people pick from, naming the model that really answers."""
    locale = locale or english()
    configs = role_configs(settings)
    labels = {role: _served(config.model, role, endpoints.get(role), locale) for role, config in configs.items()}
    small, large = (_name(configs[role].model, endpoints.get(role)) for role in ("slm", "llm"))
    order = locale.text("settings.compare_concurrent" if settings.compare_concurrently else "settings.compare_sequential")
    return labels | {
        "hybrid": locale.text("settings.mode_hybrid", small=small, large=large),
        "compare": locale.text("settings.mode_compare", small=small, large=large, order=order),
    }


def settings_widgets(
    settings: Settings, endpoints: Mapping[str, ModelEndpoint | None], values: Mapping[str, Any],
    locale: Locale | None = None,
) -> list[InputWidget]:
    locale = locale or english()
    t = locale.text
    labels = mode_labels(settings, endpoints, locale)
    policy_labels = {
        "auto": t("settings.policy_auto", words=settings.escalation_min_draft_words),
        "always": t("settings.policy_always"),
        "never": t("settings.policy_never"),
    }
    return [
        Select(id="mode", label=t("settings.mode"), items={labels[m]: m for m in MODES}, initial_value=values["mode"]),
        Select(id="escalation_policy", label=t("settings.escalation_policy"),
               items={policy_labels[p]: p for p in POLICIES}, initial_value=values["escalation_policy"]),
        Slider(id="temperature", label=t("settings.temperature"), initial=values["temperature"], min=0, max=2, step=0.1),
        Slider(id="max_answer_tokens", label=t("settings.max_answer_tokens"), initial=values["max_answer_tokens"],
               min=16, max=1024, step=16),
        Slider(id="top_k", label=t("settings.top_k"), initial=values["top_k"], min=1, max=20, step=1),
        Slider(id="context_budget_tokens", label=t("settings.context_budget_tokens"),
               initial=values["context_budget_tokens"], min=128, max=max(settings.embedded_ctx_tokens, 1024), step=64),
        Switch(id="answer_anyway", label=t("settings.answer_anyway"), initial=values["answer_anyway"]),
    ]


def default_values(settings: Settings) -> dict[str, Any]:
    """The panel's starting values come from Settings (RAGSTAGE_* / .env)."""
    values = {key: getattr(settings, key) for key in _CONVERTERS if key != "mode"}
    values["mode"] = settings.default_mode
    return values


def parse_values(current: Mapping[str, Any], submitted: Mapping[str, Any]) -> dict[str, Any]:
    """Merge what the panel sent into the session's values; unknown keys and bad values are ignored."""
    merged = dict(current)
    for key, convert in _CONVERTERS.items():
        if key not in submitted or submitted[key] is None:
            continue
        try:
            merged[key] = convert(submitted[key])
        except (TypeError, ValueError):
            continue
    if merged["mode"] not in MODES:
        merged["mode"] = current["mode"]
    if merged["escalation_policy"] not in POLICIES:
        merged["escalation_policy"] = current["escalation_policy"]
    return merged
