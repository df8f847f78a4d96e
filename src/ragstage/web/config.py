"""What the page asks before it generates: the served model names, limits, engine availability,
and (for the in-tab engine) the exact grounded prompt the server engine would send.

The in-tab engine gets its prompt from here so that "server vs this browser" compares two
engines on the same prompt, built by the one prompt builder the whole app uses.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ragstage.answer import NOT_COVERED, AnswerOptions, ground
from ragstage.answer.result import numbered_json
from ragstage.models import ROLES, ModelError
from ragstage.web.assets import InTabEngine
from ragstage.web.request import MAX_CONTEXT_CHARS, MAX_QUESTION_CHARS, StreamRequest

if TYPE_CHECKING:
    from ragstage.knowledge import ChunkIndex
    from ragstage.runtime import Runtime


async def _describe_role(runtime: Runtime, role: str) -> dict[str, Any]:
    try:
        endpoint = await runtime.catalog.resolve(role)
    except ModelError as err:
        return {"available": False, "name": None, "label": None, "error": str(err)}
    return {
        "available": True,
        "name": endpoint.display_name,
        "label": endpoint.label(),
        "backend": endpoint.backend,
        "engine": endpoint.engine,
    }


async def page_config(runtime: Runtime, engine: InTabEngine) -> dict[str, Any]:
    described = await asyncio.gather(*(_describe_role(runtime, role) for role in ROLES))
    index = runtime.knowledge.index
    return {
        "models": dict(zip(ROLES, described, strict=True)),
        "knowledge_base": {"documents": index.document_count, "chunks": index.chunk_count},
        "limits": {
            "question_chars": MAX_QUESTION_CHARS,
            "context_chars": MAX_CONTEXT_CHARS,
            "max_answer_tokens": runtime.settings.max_answer_tokens,
        },
        "in_tab": engine.public_description(),
    }


def page_prompt(body: StreamRequest, index: ChunkIndex, options: AnswerOptions) -> dict[str, Any]:
    """The grounded prompt for the in-tab engine: `ground()`, exactly as the answer pipeline."""
    grounding = ground(body.question, index, options)
    if grounding.prompt is None:
        return {"covered": False, "message": NOT_COVERED, "messages": [], "sources": []}
    prompt = grounding.prompt
    return {
        "covered": True,
        "message": "",
        "messages": prompt.as_list(),
        "sources": numbered_json(prompt.sources),
        "prompt_tokens": prompt.prompt_tokens,
        "max_tokens": options.max_answer_tokens,
        "temperature": options.temperature,
    }
