"""Numbered, clickable sources: one side-panel element per cited passage.

Chainlit turns an element's name into a chip wherever that exact name appears in the message
text, so the answer ends with a "Sources" line that spells out each name. Citations come from
sentence attribution: those the model wrote and its passage supports, and those ragstage computed
(the model wrote none, or a wrong one); the footer names them apart, the answer shows computed
marks in italics, a rejected mark struck through and a sentence no passage supports flagged, and
the side panel highlights the passage's supporting sentences. Everything from a document or a
model is escaped: the only Markdown is ours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import chainlit as cl

from ragstage.ui.escaping import escape_document_text, escape_inline, escape_model_text
from ragstage.ui.locale import Locale, english

if TYPE_CHECKING:
    from ragstage.answer import AnswerResult
    from ragstage.answer.attribution import Attribution, TextSpan
    from ragstage.knowledge import Chunk

_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9 ._-]+")
_MAX_NAME_CHARS = 48
_MARK_GROUP = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


@dataclass(frozen=True)
class SourceRef:
    """A numbered passage as the reader sees it: [n] in the text is the prompt's n-th source."""

    n: int
    chunk: Chunk
    score: float
    origin: str | None = None  # "model" | "computed"; None: given to the model, not cited
    highlights: tuple[TextSpan, ...] = ()  # the passage's sentences supporting the answer
    supports: tuple[str, ...] = ()  # the answer sentences this passage supports

    @property
    def element_name(self) -> str:
        return f"[{self.n}] {short_source_name(self.chunk.source)}"


def short_source_name(source: str) -> str:
    """File name only, reduced to characters that survive Markdown and Chainlit's name matching."""
    name = PurePosixPath(source.removeprefix("upload:")).name or source
    safe = _UNSAFE_NAME_CHARS.sub("_", name).strip() or "document"
    return safe if len(safe) <= _MAX_NAME_CHARS else safe[: _MAX_NAME_CHARS - 3] + "..."


def _evidence(attribution: Attribution | None, n: int) -> tuple[tuple[TextSpan, ...], tuple[str, ...]]:
    """Passage n's sentences that support the answer (in passage order), and the answer
    sentences it supports."""
    if attribution is None:
        return (), ()
    spans: dict[tuple[int, int], TextSpan] = {}
    supported: list[str] = []
    for sentence in attribution.sentences:
        for citation in (c for c in sentence.citations if c.n == n):
            spans.update({(span.start, span.end): span for span in citation.sentences})
            supported.append(sentence.span.text)
    return tuple(spans[key] for key in sorted(spans)), tuple(dict.fromkeys(supported))


def sources_to_show(result: AnswerResult) -> tuple[list[SourceRef], bool]:
    """The passages the answer cites (by the model or by attribution); when it cites none,
    exactly the ones its prompt held. Returns the refs and whether they were cited."""
    if result.citations:
        refs = [SourceRef(c.n, c.chunk, c.score, c.origin, *_evidence(result.attribution, c.n)) for c in result.citations]
        return sorted(refs, key=lambda ref: ref.n), True
    return [SourceRef(n, hit.chunk, hit.score) for n, hit in enumerate(result.prompt_sources, start=1)], False


def _bold_line(text: str, start: int, end: int) -> str:
    """One highlighted stretch of one line. Spaces are added where the text has none, because
    CommonMark reads `**` next to punctuation and a letter (Chinese "。" then a character) as text."""
    before = "" if start == 0 or text[start - 1].isspace() else " "
    after = "" if end >= len(text) or text[end].isspace() else " "
    return f"{before}**{escape_document_text(text[start:end])}**{after}"


def _line_runs(text: str, spans: tuple[TextSpan, ...]) -> list[tuple[int, int]]:
    """The spans cut at line breaks and trimmed (Markdown emphasis cannot cross a line), in order."""
    runs = []
    for span in sorted(spans, key=lambda s: s.start):
        offset = span.start
        for piece in text[span.start:span.end].split("\n"):
            lead = len(piece) - len(piece.lstrip())
            if piece.strip():
                runs.append((offset + lead, offset + lead + len(piece.strip())))
            offset += len(piece) + 1
    return runs


def highlighted_passage(text: str, spans: tuple[TextSpan, ...]) -> str:
    """The passage escaped as document text, its supporting sentences in bold (styled as a
    highlighter mark by public/ragstage.css): no HTML, and no Markdown but ours."""
    out, cursor = [], 0
    for start, end in _line_runs(text, spans):
        if start < cursor:
            continue  # overlapping spans: the first one wins
        out += [escape_document_text(text[cursor:start]), _bold_line(text, start, end)]
        cursor = end
    out.append(escape_document_text(text[cursor:]))
    return "".join(out)


def _quote(sentence: str) -> str:
    return f"“{escape_inline(sentence)}”"


def passage_markdown(ref: SourceRef, locale: Locale | None = None) -> str:
    """What the side panel shows: where the passage comes from, who cited it and for which
    answer sentences, then its text with the supporting sentences highlighted, all escaped."""
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
    if ref.origin is not None:
        facts.append(f"**{t('passage.cited_by')}:** {t('passage.origin_' + ref.origin)}")
    if ref.supports:
        facts.append(f"**{t('passage.supports')}:** " + " · ".join(_quote(sentence) for sentence in ref.supports))
    return "  \n".join(facts) + "\n\n---\n\n" + highlighted_passage(chunk.text, ref.highlights)


def citation_elements(refs: list[SourceRef], locale: Locale | None = None) -> list[cl.Text]:
    return [
        cl.Text(name=ref.element_name, content=passage_markdown(ref, locale), display="side")
        for ref in refs
    ]


def sources_footer(refs: list[SourceRef], cited: bool, locale: Locale | None = None) -> str:
    """The chips, under a label saying who cited them."""
    if not refs:
        return ""
    t = (locale or english()).text
    if not cited:
        return f"\n\n**{t('answer.sources_uncited')}:** " + " · ".join(ref.element_name for ref in refs)
    lines = []
    for origin, label in (("model", t("answer.sources_model")), ("computed", t("answer.sources_computed"))):
        names = [ref.element_name for ref in refs if ref.origin == origin]
        if names:
            lines.append(f"**{label}:** " + " · ".join(names))
    return "\n\n" + "  \n".join(lines)


def _struck_marks(text: str, rejected: tuple[int, ...]) -> str:
    """Escaped sentence text with each mark whose numbers were all rejected struck through."""
    out, cursor = [], 0
    for match in _MARK_GROUP.finditer(text):
        numbers = {int(n) for n in match.group(1).split(",")}
        if numbers <= set(rejected):
            out += [escape_model_text(text[cursor:match.start()]), f"~~{match.group(0)}~~"]
            cursor = match.end()
    return "".join(out) + escape_model_text(text[cursor:])


def annotated_answer(text: str, attribution: Attribution | None,
                     locale: Locale | None = None) -> tuple[str, tuple[str, ...]]:
    """The answer as the chat shows it when it is complete: escaped model text, computed marks
    added in italics after their sentence, rejected marks struck, unsupported sentences flagged.
    Returns the Markdown and the legend lines for the marks that appear."""
    if attribution is None:
        return escape_model_text(text), ()
    t = (locale or english()).text
    out, cursor, used = [], 0, set()
    for sentence in attribution.sentences:
        span = sentence.span
        out.append(escape_model_text(text[cursor:span.start]))
        out.append(_struck_marks(span.text, sentence.rejected) if sentence.rejected else escape_model_text(span.text))
        used |= {"answer.legend_rejected"} if sentence.rejected else set()
        computed = [c.n for c in sentence.citations if c.origin == "computed"]
        if computed:
            out.append(" *[" + ", ".join(str(n) for n in computed) + "]*")
            used.add("answer.legend_computed")
        if sentence.is_claim and not sentence.supported:
            out.append(f" {t('answer.unsupported_mark')}")
            used.add("answer.legend_unsupported")
        cursor = span.end
    out.append(escape_model_text(text[cursor:]))
    legend = tuple(t(key) for key in ("answer.legend_computed", "answer.legend_rejected", "answer.legend_unsupported")
                   if key in used)
    return "".join(out), legend
