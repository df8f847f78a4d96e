"""Bytes to text for the text-like formats: plain text, Markdown and HTML.

Kept apart from the PDF/DOCX loaders because uploads sniff their type by content and every
text format shares one decoding rule: UTF-8, or UTF-16 with a byte-order mark, and no NUL bytes.
"""

from __future__ import annotations

import codecs
import re
from html.parser import HTMLParser


class TextFormatError(ValueError):
    """A human-readable reason why bytes are not usable text (becomes a DocumentError)."""


_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def decode_text(data: bytes) -> str:
    """Decode strictly: guessing an encoding silently indexes mojibake nobody can search."""
    if data.startswith(_UTF16_BOMS):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as err:
            raise TextFormatError(f"undecodable UTF-16 text (byte {err.start})") from None
    else:
        if b"\x00" in data:
            raise TextFormatError("binary data, not text")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise TextFormatError(f"not UTF-8 text (undecodable byte at offset {err.start})") from None
    if "\x00" in text:
        raise TextFormatError("binary data, not text")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise TextFormatError("empty file")
    return text


def markdown_title(text: str) -> str | None:
    """The first level-1 heading, the natural title of a Markdown document."""
    match = re.search(r"^#\s+(.+?)\s*#*\s*$", text, flags=re.MULTILINE)
    return match.group(1).strip() if match else None


_SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "math", "iframe", "object"})
_BLOCK_TAGS = frozenset({
    "p", "div", "section", "article", "header", "footer", "main", "nav", "aside", "li", "ul", "ol",
    "table", "tr", "br", "hr", "pre", "blockquote", "dd", "dt", "dl", "figure", "figcaption", "form",
})
_HEADING_LEVELS = {f"h{level}": level for level in range(1, 7)}


class _VisibleTextParser(HTMLParser):
    """Collects what a browser would show; headings become Markdown headings for the chunker."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title_parts: list[str] = []
        self._in_title = False
        self._open_hidden: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._open_hidden.append(tag)
        elif tag == "title":
            self._in_title = True
        elif tag in _HEADING_LEVELS:
            self.parts.append("\n\n" + "#" * _HEADING_LEVELS[tag] + " ")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS and tag in self._open_hidden:
            while self._open_hidden and self._open_hidden.pop() != tag:
                pass
        elif tag == "title":
            self._in_title = False
        elif tag in _HEADING_LEVELS or tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._open_hidden:
            return
        if self._in_title:
            self.title_parts.append(data)
        else:
            self.parts.append(data)


def html_visible_text(html: str) -> tuple[str, str | None]:
    """(visible text with Markdown-style headings, <title>) of an HTML page."""
    parser = _VisibleTextParser()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    title = " ".join("".join(parser.title_parts).split()) or None
    return text, title


def looks_like_html(text: str) -> bool:
    """Content sniffing for uploads named without a telling extension."""
    head = text.lstrip()[:512].lower()
    return head.startswith(("<!doctype html", "<html")) or "<body" in head
