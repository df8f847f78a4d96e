"""The values the knowledge base passes around: documents, chunks, hits, and its one error type.

All frozen: an index snapshot shares them between threads and forks without copying.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpan:
    """Which characters of a PDF's extracted text came from which page (1-based)."""

    page: int
    start_char: int
    end_char: int


@dataclass(frozen=True)
class Document:
    source: str  # stable id: posix path relative to the knowledge folder, or "upload:<name>"
    title: str
    text: str
    kind: str  # "md" | "txt" | "pdf" | "docx" | "html"
    sha256: str  # of the file bytes
    pages: tuple[PageSpan, ...] = ()

    def page_at(self, char: int) -> int | None:
        """Page holding character `char`, so a citation can say where to look in the PDF."""
        page = None
        for span in self.pages:  # pages are in order; the gap between two belongs to the earlier
            if span.start_char > char:
                break
            page = span.page
        return page if page is not None or not self.pages else self.pages[0].page


@dataclass(frozen=True)
class Chunk:
    chunk_id: str  # f"{source}#{ordinal:04d}"
    source: str
    title: str
    heading: str  # Markdown heading path "Intro > Setup" ("" when none)
    page: int | None  # PDFs: page of the chunk start
    start_char: int  # document.text[start_char:end_char] == text
    end_char: int
    text: str
    token_count: int
    language: str = ""  # ISO 639-1 code detected when indexed ("" when it could not be told)


@dataclass(frozen=True)
class Hit:
    rank: int  # 1-based
    score: float
    chunk: Chunk


class DocumentError(Exception):
    """One typed error for every unreadable file, so callers report it and carry on."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason
