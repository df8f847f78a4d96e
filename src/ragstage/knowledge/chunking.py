"""Documents to token-sized chunks that keep their place: heading path, page and exact span.

Chunks are cut on o200k_base token counts (what the prompt budget is measured in), never inside
a word, and never across a Markdown heading, so every chunk can say which section it quotes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

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
        body = doc.text[start:end].partition("\n")[2] if heading else doc.text[start:end]
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


def _token_char_starts(text: str, tokens: list[int]) -> list[int]:
    """Character offset where each token starts (a token starting mid-character gets that
    character's offset, as tiktoken's decode_with_offsets does), vectorized for long texts."""
    utf8 = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    char_of_byte = np.cumsum((utf8 & 0xC0) != 0x80) - 1
    token_bytes = np.fromiter(map(len, encoding().decode_tokens_bytes(tokens)), np.int64, len(tokens))
    byte_starts = np.concatenate(([0], np.cumsum(token_bytes)[:-1]))
    return char_of_byte[byte_starts].tolist()


def _token_spans(text: str, size_tokens: int, overlap_tokens: int) -> Iterator[tuple[int, int, int | None]]:
    """(start, end, token count if known) spans of at most `size_tokens` tokens, between words if possible.

    A single "word" longer than the whole budget (a huge URL or base64 line) is the one case
    cut mid-word: the alternative is a chunk larger than any prompt can hold.
    """
    tokens = encoding().encode(text, disallowed_special=())
    count = len(tokens)
    if count <= size_tokens:  # the common case for short sections: no offsets needed
        yield 0, len(text), count
        return
    bounds = [*_token_char_starts(text, tokens), len(text)]
    first = 0
    while first < count:
        last = min(first + size_tokens, count)
        if last < count:
            last = next((k for k in range(last, first, -1) if _is_word_boundary(text, bounds[k])), last)
        yield bounds[first], bounds[last], None
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
        for rel_start, rel_end, known_count in _token_spans(section_text, size_tokens, overlap_tokens):
            span = (section.start_char + rel_start, section.start_char + rel_end)
            start, end = _stripped(doc.text, *span)
            if start >= end:
                continue
            text = doc.text[start:end]
            token_count = known_count if known_count is not None and (start, end) == span else count_tokens(text)
            chunks.append(Chunk(
                chunk_id=f"{doc.source}#{len(chunks):04d}", source=doc.source, title=doc.title,
                heading=section.heading, page=doc.page_at(start), start_char=start, end_char=end,
                text=text, token_count=token_count,
            ))
    return chunks
