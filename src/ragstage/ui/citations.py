"""Numbered, clickable sources: one side-panel element per cited passage.

Chainlit turns an element's name into a chip wherever that exact name appears in the message
text, so the answer ends with a "Sources" line that spells out each name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import chainlit as cl

from ragstage.ui.escaping import escape_document_text, escape_inline
from ragstage.ui.locale import Locale, english

if TYPE_CHECKING:
    from ragstage.answer import AnswerResult
    from ragstage.knowledge import Chunk

_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9 ._-]+")
_MAX_NAME_CHARS = 48


@dataclass(frozen=True)
class SourceRef:
    """A numbered passage as the reader sees it: [n] in the text is the prompt's n-th source."""

    n: int
    chunk: Chunk
    score: float

    @property
    def element_name(self) -> str:
        return f"[{self.n}] {short_source_name(self.chunk.source)}"


def short_source_name(source: str) -> str:
    """File name only, reduced to characters that survive Markdown and Chainlit's name matching."""
    name = PurePosixPath(source.removeprefix("upload:")).name or source
    safe = _UNSAFE_NAME_CHARS.sub("_", name).strip() or "document"
    return safe if len(safe) <= _MAX_NAME_CHARS else safe[: _MAX_NAME_CHARS - 3] + "..."


def sources_to_show(result: AnswerResult) -> tuple[list[SourceRef], bool]:
    """The passages the answer cites; when it cites none, exactly the ones its prompt held.

    Returns the refs and whether they were actually cited (the footer says which).
    """
    if result.citations:
        refs = [SourceRef(c.n, c.chunk, c.score) for c in result.citations]
        return sorted(refs, key=lambda ref: ref.n), True
    return [SourceRef(n, hit.chunk, hit.score) for n, hit in enumerate(result.prompt_sources, start=1)], False


def passage_markdown(ref: SourceRef, locale: Locale | None = None) -> str:
    """What the side panel shows: where the passage comes from, then its text, all escaped."""
    t = (locale or english()).text
    chunk = ref.chunk
    facts = [f"**{t('passage.source')}:** {escape_inline(chunk.source)}"]
    if chunk.heading:
        facts.append(f"**{t('passage.section')}:** {escape_inline(chunk.heading)}")
    if chunk.page is not None:
        facts.append(f"**{t('passage.page')}:** {chunk.page}")
    if chunk.language:
        facts.append(f"**{t('passage.language')}:** {escape_inline(chunk.language)}")
    facts.append(f"**{t('passage.score')}:** {ref.score:.2f}")
    return "  \n".join(facts) + "\n\n---\n\n" + escape_document_text(chunk.text)


def citation_elements(refs: list[SourceRef], locale: Locale | None = None) -> list[cl.Text]:
    return [
        cl.Text(name=ref.element_name, content=passage_markdown(ref, locale), display="side")
        for ref in refs
    ]


def sources_footer(refs: list[SourceRef], cited: bool, locale: Locale | None = None) -> str:
    if not refs:
        return ""
    label = (locale or english()).text("answer.sources" if cited else "answer.sources_uncited")
    return f"\n\n**{label}:** " + " · ".join(ref.element_name for ref in refs)
