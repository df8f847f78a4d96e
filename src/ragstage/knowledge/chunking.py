"""Documents to token-sized chunks that keep their place: heading path, page and exact span.

Chunks are cut on o200k_base token counts (what the prompt budget is measured in), never inside
a word, and never across a Markdown heading, so every chunk can say which section it quotes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from ragstage.knowledge.records import Chunk, Document
from ragstage.tokens import count_tokens, encoding

# Kinds whose text carries Markdown headings (DOCX and HTML headings are rendered as Markdown).
HEADED_KINDS = frozenset({"md", "docx", "html"})
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^[ \t]*(```|~~~)")


class Section(NamedTuple):
    start_char: int
    end_char: int
    heading: str


def _heading_lines(text: str) -> Iterator[tuple[int, int, str]]:
    """(char offset, level, title) of each Markdown heading outside fenced code blocks."""
    offset = 0
    in_fence = False
    for line in text.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and (match := _HEADING.match(line)):
            yield offset, len(match.group(1)), match.group(2).strip()
        offset += len(line) + 1


def sections(doc: Document) -> list[Section]:
    """Heading-delimited sections; a heading with no body joins the section that follows it."""
    if doc.kind not in HEADED_KINDS:
        return [Section(0, len(doc.text), "")]
    stack: list[tuple[int, str]] = []
    starts: list[tuple[int, str]] = [(0, "")]
    for offset, level, title in _heading_lines(doc.text):
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
        starts.append((offset, " > ".join(name for _, name in stack)))
    result: list[Section] = []
    pending_start: int | None = None
    for (start, heading), (end, _) in zip(starts, starts[1:] + [(len(doc.text), "")]):
        body = doc.text[start:end].split("\n", 1)[1] if heading else doc.text[start:end]
        begin = start if pending_start is None else pending_start
        if not body.strip():
            pending_start = begin if doc.text[start:end].strip() else pending_start
            continue
        result.append(Section(begin, end, heading))
        pending_start = None
    if pending_start is not None:  # headings with nothing after them at the very end
        result.append(Section(pending_start, len(doc.text), starts[-1][1]))
    return result


def _is_word_boundary(text: str, char: int) -> bool:
    return char <= 0 or char >= len(text) or text[char - 1].isspace() or text[char].isspace()


def _token_spans(text: str, size_tokens: int, overlap_tokens: int) -> Iterator[tuple[int, int]]:
    """Character spans of at most `size_tokens` tokens, ending between words when possible.

    A single "word" longer than the whole budget (a huge URL or base64 line) is the one case
    cut mid-word: the alternative is a chunk larger than any prompt can hold.
    """
    tokens = encoding().encode(text, disallowed_special=())
    _, starts = encoding().decode_with_offsets(tokens)
    bounds = [*starts, len(text)]
    count = len(tokens)
    first = 0
    while first < count:
        last = min(first + size_tokens, count)
        if last < count:
            last = next((k for k in range(last, first, -1) if _is_word_boundary(text, bounds[k])), last)
        yield bounds[first], bounds[last]
        if last >= count:
            return
        wanted = max(last - overlap_tokens, first + 1)
        first = next((k for k in range(wanted, last) if _is_word_boundary(text, bounds[k])), last)


def _stripped(text: str, start: int, end: int) -> tuple[int, int]:
    piece = text[start:end]
    lead = len(piece) - len(piece.lstrip())
    trail = len(piece) - len(piece.rstrip())
    return start + lead, end - trail


def chunk_document(doc: Document, size_tokens: int, overlap_tokens: int) -> list[Chunk]:
    """Split `doc` into chunks with `doc.text[c.start_char:c.end_char] == c.text`."""
    if size_tokens < 1 or not 0 <= overlap_tokens < size_tokens:
        raise ValueError(f"need size_tokens >= 1 and 0 <= overlap_tokens < size_tokens, "
                         f"got {size_tokens}/{overlap_tokens}")
    chunks: list[Chunk] = []
    for section in sections(doc):
        section_text = doc.text[section.start_char:section.end_char]
        for rel_start, rel_end in _token_spans(section_text, size_tokens, overlap_tokens):
            start, end = _stripped(doc.text, section.start_char + rel_start, section.start_char + rel_end)
            if start >= end:
                continue
            text = doc.text[start:end]
            chunks.append(Chunk(
                chunk_id=f"{doc.source}#{len(chunks):04d}", source=doc.source, title=doc.title,
                heading=section.heading, page=doc.page_at(start), start_char=start, end_char=end,
                text=text, token_count=count_tokens(text),
            ))
    return chunks
