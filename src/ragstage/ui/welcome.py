"""The chat-start message: who answers (which model serves each role, and why), what it knows,
and a few demo questions one click away."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Mapping

import chainlit as cl

from ragstage.models.roles import ROLE_TABLE, ROLES, role_configs
from ragstage.ui.escaping import escape_inline
from ragstage.ui.folder_notices import problems_markdown

if TYPE_CHECKING:
    from ragstage.models import ModelEndpoint
    from ragstage.runtime import Runtime

log = logging.getLogger(__name__)
STARTER_ACTION = "ask_starter"
MAX_STARTERS = 4


@dataclass(frozen=True)
class StarterQuestion:
    label: str
    message: str


def load_starters(text: str | None = None) -> list[StarterQuestion]:
    """Demo questions from ragstage/data/starters.json; none (not a crash) if it is absent or bad."""
    try:
        if text is None:
            text = resources.files("ragstage").joinpath("data/starters.json").read_text(encoding="utf-8")
        items = json.loads(text)
        starters = [StarterQuestion(str(i["label"]), str(i["message"])) for i in items]
    except (OSError, ValueError, TypeError, KeyError) as err:
        log.warning("no starter questions: %s", err)
        return []
    return [s for s in starters if s.label.strip() and s.message.strip()][:MAX_STARTERS]


def known_endpoints(runtime: Runtime) -> dict[str, ModelEndpoint | str]:
    """role -> the endpoint serving it, or why there is none yet (no I/O: the chat opens at once)."""
    described = runtime.catalog.describe()
    errors = getattr(runtime, "launch_errors", {})
    found: dict[str, ModelEndpoint | str] = {}
    for role in ROLES:
        endpoint = described.get(role)
        found[role] = endpoint if endpoint is not None else errors.get(role, "starts with the first question")
    return found


def start_markdown(runtime: Runtime, endpoints: Mapping[str, ModelEndpoint | str]) -> str:
    settings = runtime.settings
    lines = ["### ragstage is ready", "", "| role | serving model |", "|---|---|"]
    for role, config in role_configs(settings).items():
        endpoint = endpoints.get(role)
        shown = endpoint if isinstance(endpoint, str) else endpoint.label()
        title = ROLE_TABLE[role].title
        lines.append(f"| **{role.upper()}**, {title} ({escape_inline(config.model)}) | {escape_inline(shown)} |")
    index = runtime.knowledge.index
    lines += [
        "",
        f"**Knowledge base:** {index.document_count} documents, {index.chunk_count} passages "
        f"from {escape_inline(str(settings.knowledge_dir))}.",
        "",
        "Ask about them, or attach .md, .txt, .pdf, .docx or .html files to ask about yours "
        "(they stay in this chat). Open the settings panel to switch between the models, "
        "hybrid draft->refine and side-by-side comparison. "
        "The [browser page](/public/webgpu_demo.html) streams from the same models, "
        "or from one inside your browser tab.",
    ]
    report = runtime.knowledge.report
    if report.skipped:
        lines.append(problems_markdown(runtime.knowledge))
    lines += [f"\n**Note:** {escape_inline(warning)}" for warning in report.warnings]
    return "\n".join(lines)


def starter_actions(starters: list[StarterQuestion]) -> list[cl.Action]:
    return [
        cl.Action(name=STARTER_ACTION, payload={"message": s.message}, label=s.label,
                  tooltip=s.message, icon="message-circle-question")
        for s in starters
    ]
