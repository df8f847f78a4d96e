"""Files and uploads to `Document`s, each failure turned into one `DocumentError` with a reason.

The type is decided by the name's extension AND checked against the content (a PDF starts with
`%PDF`, a DOCX is a ZIP holding `word/document.xml`, text decodes as UTF-8): an upload named
`.txt` that is really a binary or a PDF is refused with a reason instead of indexing garbage.
"""

from __future__ import annotations

import hashlib
import io
import logging
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from ragstage.knowledge.records import Document, DocumentError, PageSpan
from ragstage.knowledge.text_formats import (
    TextFormatError,
    decode_text,
    html_visible_text,
    looks_like_html,
    markdown_title,
)

# A DOCX this much larger unpacked than packed, or this large at all, is refused unopened.
DOCX_MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
DOCX_MAX_COMPRESSION_RATIO = 100
_PDF_HEADER_WINDOW = 1024  # the PDF spec lets the header start anywhere in the first 1 KiB


class Parsed(NamedTuple):
    text: str
    title: str | None
    pages: tuple[PageSpan, ...] = ()


def _parse_text(data: bytes) -> Parsed:
    return Parsed(decode_text(data).strip("\n"), None)


def _parse_markdown(data: bytes) -> Parsed:
    text = decode_text(data).strip("\n")
    return Parsed(text, markdown_title(text))


def _parse_html(data: bytes) -> Parsed:
    text, title = html_visible_text(decode_text(data))
    if not text:
        raise TextFormatError("no visible text in the HTML page")
    return Parsed(text, title or markdown_title(text))


def _open_pdf(data: bytes):  # -> pypdf.PdfReader (import kept lazy: it is slow to import)
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
    except Exception:  # pypdf raises many types on damaged files; all mean the same to a user
        raise TextFormatError("not a valid PDF (truncated or corrupt)") from None
    if encrypted:
        try:
            opened = bool(reader.decrypt(""))  # permissions-only encryption opens with ""
        except Exception:
            opened = False
        if not opened:
            raise TextFormatError("encrypted PDF (password required)")
    return reader


def _pdf_title(reader) -> str | None:
    try:
        title = reader.metadata.title if reader.metadata else None
    except Exception:
        return None
    return title.strip() if isinstance(title, str) and title.strip() else None


def _parse_pdf(data: bytes) -> Parsed:
    reader = _open_pdf(data)
    parts: list[str] = []
    pages: list[PageSpan] = []
    offset = 0
    try:
        for number, page in enumerate(reader.pages, start=1):
            page_text = "\n".join(line.rstrip() for line in (page.extract_text() or "").splitlines()).strip()
            if parts:
                offset += 2  # the "\n\n" that joins pages
            parts.append(page_text)
            pages.append(PageSpan(number, offset, offset + len(page_text)))
            offset += len(page_text)
    except Exception:
        raise TextFormatError("not a valid PDF (truncated or corrupt)") from None
    text = "\n\n".join(parts)
    if not text.strip():
        raise TextFormatError("PDF has no extractable text (scanned images?)")
    return Parsed(text, _pdf_title(reader), tuple(pages))


def _check_docx_archive(data: bytes) -> None:
    """Refuse zip bombs before python-docx unpacks anything."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise TextFormatError("not a valid DOCX (corrupt ZIP archive)") from None
    if "word/document.xml" not in {info.filename for info in infos}:
        raise TextFormatError("not a DOCX (ZIP archive without word/document.xml)")
    unpacked = sum(info.file_size for info in infos)
    too_dense = unpacked > DOCX_MAX_COMPRESSION_RATIO * max(len(data), 1) and unpacked > 10 * 1024 * 1024
    if unpacked > DOCX_MAX_UNCOMPRESSED_BYTES or too_dense:
        raise TextFormatError(f"DOCX refused: it would unpack to {unpacked / 1e6:.0f} MB (zip bomb?)")


def _docx_block_text(block) -> str:
    """A paragraph (headings as Markdown headings, for heading paths) or a table (rows of cells)."""
    if hasattr(block, "rows"):
        rows = [" | ".join(cell.text.strip() for cell in row.cells) for row in block.rows]
        return "\n".join(row for row in rows if row.strip(" |"))
    text = block.text.strip()
    style = (block.style.name if block.style is not None else "") or ""
    if text and style == "Title":
        return f"# {text}"
    if text and style.startswith("Heading ") and style[8:].isdigit():
        return "#" * min(int(style[8:]), 6) + " " + text
    return text


def _parse_docx(data: bytes) -> Parsed:
    _check_docx_archive(data)
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        blocks = [_docx_block_text(block) for block in document.iter_inner_content()]
        title = (document.core_properties.title or "").strip() or None
    except Exception:
        raise TextFormatError("not a valid DOCX (corrupt or unreadable)") from None
    text = "\n\n".join(block for block in blocks if block)
    if not text.strip():
        raise TextFormatError("empty file (the DOCX has no text)")
    return Parsed(text, title or markdown_title(text))


# extension -> kind, and kind -> parser: the one place that says what is supported.
KIND_BY_EXTENSION: dict[str, str] = {
    ".md": "md", ".markdown": "md", ".txt": "txt", ".pdf": "pdf", ".docx": "docx", ".html": "html", ".htm": "html",
}
PARSERS: dict[str, Callable[[bytes], Parsed]] = {
    "md": _parse_markdown, "txt": _parse_text, "pdf": _parse_pdf, "docx": _parse_docx, "html": _parse_html,
}
SUPPORTED_EXTENSIONS = tuple(KIND_BY_EXTENSION)


def unsupported_reason(extension: str) -> str:
    shown = extension or "(no extension)"
    return f"unsupported type {shown} (supported: {', '.join(SUPPORTED_EXTENSIONS)})"


def _sniff(data: bytes, named: str | None) -> str:
    """What the bytes are, whatever the name says: "pdf", "zip" or "text".

    A file named .pdf may have junk before its header; a text file that merely mentions
    "%PDF-" somewhere near its top is still text.
    """
    if data.lstrip().startswith(b"%PDF-") or (named == "pdf" and b"%PDF-" in data[:_PDF_HEADER_WINDOW]):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return "zip"
    return "text"


def _content_kind(extension: str, data: bytes) -> str:
    """The kind to parse as, refusing content that disagrees with the name."""
    named = KIND_BY_EXTENSION.get(extension)
    if extension and named is None:
        raise TextFormatError(unsupported_reason(extension))
    if not data.strip():
        raise TextFormatError("empty file")
    found = _sniff(data, named)
    if found == "pdf" and named in (None, "pdf"):
        return "pdf"
    if found == "zip" and named in (None, "docx"):
        return "docx"
    if found == "text" and named == "pdf":
        raise TextFormatError("not a valid PDF (no %PDF header)")
    if found == "text" and named == "docx":
        raise TextFormatError("not a valid DOCX (not a ZIP archive)")
    if found != "text":
        label = {"pdf": "a PDF", "zip": "a ZIP/DOCX archive"}[found]
        raise TextFormatError(f"content is {label} but the name ends in {extension}")
    if named is None:
        return "html" if looks_like_html(decode_text(data)) else "txt"
    return named


def _title_from_name(name: str) -> str:
    return Path(name).stem.replace("_", " ").replace("-", " ").strip() or name


def _build(display_path: str, name: str, data: bytes, source: str) -> Document:
    extension = Path(name).suffix.lower()
    try:
        kind = _content_kind(extension, data)
        parsed = PARSERS[kind](data)
    except TextFormatError as err:
        raise DocumentError(display_path, str(err)) from None
    except RecursionError:
        raise DocumentError(display_path, "document structure too deeply nested") from None
    return Document(
        source=source, title=parsed.title or _title_from_name(name), text=parsed.text, kind=kind,
        sha256=hashlib.sha256(data).hexdigest(), pages=parsed.pages,
    )


def load_bytes(name: str, data: bytes, source: str) -> Document:
    """An upload: its type is sniffed from the content and must agree with its name."""
    return _build(name, name, data, source)


def is_supported(path: Path) -> bool:
    return Path(path).suffix.lower() in KIND_BY_EXTENSION


def read_file(path: Path) -> bytes:
    """The file's bytes, refusing unsupported types before reading anything."""
    if not is_supported(path):
        raise DocumentError(str(path), unsupported_reason(Path(path).suffix.lower()))
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise DocumentError(str(path), f"cannot read file ({err.strerror or err})") from None


def load_file_bytes(path: Path, data: bytes, source: str) -> Document:
    """`load_document` for bytes already read (the folder ingest hashes them first)."""
    return _build(str(path), Path(path).name, data, source)


def load_document(path: Path, source: str | None = None) -> Document:
    """A file on disk; unsupported extensions are refused before the file is read."""
    path = Path(path)
    return load_file_bytes(path, read_file(path), source or path.name)


logging.getLogger("pypdf").setLevel(logging.ERROR)  # damaged PDFs become one DocumentError, not log spam
