"""One page request through the answer pipeline, as server-sent events, cancelled on disconnect.

Text pasted into the page's "reference documents" box becomes the sources: each part (parts
are separated by a line of `---`) is loaded as a Markdown document into a throw-away
`ChunkIndex`, so the page gets the same chunking, retrieval, prompt and citations as the chat.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import suppress
from dataclasses import replace
from typing import Any

from ragstage.answer import AnswerOptions
from ragstage.knowledge import ChunkIndex, Document, DocumentError, load_bytes
from ragstage.models import ModelError
from ragstage.settings import Settings
from ragstage.web.events import render, sse
from ragstage.web.request import RequestRejected, StreamRequest

log = logging.getLogger(__name__)

DISCONNECT_POLL_S = 0.25
_PART_SEPARATOR = re.compile(r"^\s*-{3,}\s*$", re.MULTILINE)


def reference_documents(text: str) -> list[Document]:
    """Raises `RequestRejected` when a part cannot be read as a Markdown document."""
    parts = [part.strip() for part in _PART_SEPARATOR.split(text) if part.strip()]
    documents = []
    for n, part in enumerate(parts, start=1):
        try:
            documents.append(load_bytes(f"reference-{n}.md", part.encode("utf-8"), source=f"page:reference-{n}"))
        except DocumentError as err:
            raise RequestRejected(422, f"context: reference document {n} is not readable text ({err.reason})") from None
    return documents


def reference_index(text: str, settings: Settings) -> ChunkIndex:
    """A throw-away index over the page's pasted text, chunked like the knowledge base."""
    index = ChunkIndex(settings.chunk_size_tokens, settings.chunk_overlap_tokens)
    for document in reference_documents(text):
        index.add(document)
    return index


def page_options(request: StreamRequest, settings: Settings) -> AnswerOptions:
    """The app's answer options, with the page's mode and a shorter answer if it asks.

    Text the presenter pasted is relevant by choice, so no score floor applies to it: any
    passage sharing a word with the question is a source (BM25 scores a one-document corpus
    below zero, so the floor must go, not merely drop to zero). A plain question (no text, no
    knowledge base) is answered without sources rather than refused.
    """
    ceiling = settings.max_answer_tokens
    options = AnswerOptions.from_settings(
        settings, mode=request.mode, max_answer_tokens=min(request.max_tokens or ceiling, ceiling)
    )
    if request.use_knowledge_base:
        return options
    return replace(options, score_floor=-math.inf, answer_anyway=options.answer_anyway or request.plain)


async def _next_or_disconnect(
    iterator: AsyncIterator[Any], is_disconnected: Callable[[], Awaitable[bool]]
) -> tuple[bool, Any]:
    """(True, event) for the next event, (False, None) at the end or when the client left.

    A long prefill sends nothing for seconds, so the client's departure is polled for rather
    than discovered at the next write.
    """
    step = asyncio.ensure_future(anext(iterator))
    try:
        while not (await asyncio.wait({step}, timeout=DISCONNECT_POLL_S))[0]:
            if await is_disconnected():
                return False, None
        return True, step.result()
    except StopAsyncIteration:
        return False, None
    finally:
        if not step.done():
            step.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await step


async def sse_stream(
    events: AsyncIterator[Any], is_disconnected: Callable[[], Awaitable[bool]]
) -> AsyncIterator[str]:
    """Render answer events as SSE frames; a failure becomes a readable `error` event."""
    try:
        while True:
            more, event = await _next_or_disconnect(events, is_disconnected)
            if not more:
                return
            yield render(event)
    except ModelError as err:
        yield sse("error", {"message": str(err)})
    except Exception as err:  # the page must get a reason, never a silently dropped stream
        log.exception("browser page stream failed")
        yield sse("error", {"message": f"the answer failed unexpectedly ({type(err).__name__}: {err})"})
    finally:
        with suppress(Exception):
            await events.aclose()  # type: ignore[attr-defined]
