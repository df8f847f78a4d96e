"""The chat-start message: who answers (which model serves each role, and why), what it knows,
and a few demo questions one click away, in the reader's language (`ui/locale.py`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

import chainlit as cl

from ragstage.models.roles import ROLE_TABLE, ROLES, role_configs
from ragstage.ui.escaping import escape_inline
from ragstage.ui.folder_notices import problems_markdown
from ragstage.ui.locale import Locale, StarterQuestion, english

if TYPE_CHECKING:
    from ragstage.models import ModelEndpoint
    from ragstage.runtime import Runtime

STARTER_ACTION = "ask_starter"
MAX_STARTERS = 4


def starters(locale: Locale | None = None) -> list[StarterQuestion]:
    """The demo questions of the reader's language (each locale file has its own)."""
    return list((locale or english()).starters[:MAX_STARTERS])


def known_endpoints(runtime: Runtime, locale: Locale | None = None) -> dict[str, ModelEndpoint | str]:
    """role -> the endpoint serving it, or why there is none yet (no I/O: the chat opens at once)."""
    described = runtime.catalog.describe()
    errors = getattr(runtime, "launch_errors", {})
    found: dict[str, ModelEndpoint | str] = {}
    for role in ROLES:
        endpoint = described.get(role)
        later = (locale or english()).text("welcome.starts_later")
        found[role] = endpoint if endpoint is not None else errors.get(role, later)
    return found


def _role_title(role: str, locale: Locale) -> str:
    return locale.text(f"role.{role}") if f"role.{role}" in english().texts else ROLE_TABLE[role].title


def start_markdown(runtime: Runtime, endpoints: Mapping[str, ModelEndpoint | str], locale: Locale | None = None) -> str:
    locale = locale or english()
    t = locale.text
    settings = runtime.settings
    lines = [f"### {t('welcome.title')}", "", f"| {t('welcome.role')} | {t('welcome.serving_model')} |", "|---|---|"]
    for role, config in role_configs(settings).items():
        endpoint = endpoints.get(role)
        shown = endpoint if isinstance(endpoint, str) else endpoint.label()
        title = _role_title(role, locale)
        lines.append(f"| **{role.upper()}**, {title} ({escape_inline(config.model)}) | {escape_inline(shown)} |")
    index = runtime.knowledge.index
    knowledge = t("welcome.knowledge", documents=index.document_count, passages=index.chunk_count,
                  folder=escape_inline(str(settings.knowledge_dir)))
    lines += ["", knowledge, "", t("welcome.hint")]
    report = runtime.knowledge.report
    if report.skipped:
        lines.append(problems_markdown(runtime.knowledge, locale))
    lines += ["\n" + t("welcome.note", warning=escape_inline(warning)) for warning in report.warnings]
    return "\n".join(lines)


def starter_actions(starters: list[StarterQuestion]) -> list[cl.Action]:
    return [
        cl.Action(name=STARTER_ACTION, payload={"message": s.message}, label=s.label,
                  tooltip=s.message, icon="message-circle-question")
        for s in starters
    ]
