"""Files attached to a message: checked on the server, indexed for this chat before the answer.

The browser's limits (.chainlit/config.toml) are a convenience; these checks are the rule.
One bad file never stops the others, and never touches the index.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from ragstage.ui.escaping import escape_inline
from ragstage.ui.locale import Locale, english

if TYPE_CHECKING:
    from ragstage.knowledge import ChunkIndex, Document, KnowledgeBase, SessionIndex
    from ragstage.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadOutcome:
    name: str
    indexed: bool
    detail: str  # "12 passages, 4 pages" or the reason it was refused
    locale: Locale | None = None  # the reader's language (None: English)

    def markdown(self) -> str:
        mark = (self.locale or english()).text("uploads.indexed" if self.indexed else "uploads.refused")
        return f"- {mark} **{escape_inline(self.name)}**: {escape_inline(self.detail)}"


@dataclass(frozen=True)
class Added:
    """What one accepted file became."""

    document: Document
    chunk_count: int
    saved_as: str | None = None  # its path in the knowledge folder, when uploads are shared

    def describe(self, locale: Locale) -> str:
        pages = locale.text("uploads.pages", count=len(self.document.pages)) if self.document.pages else ""
        text = locale.text("uploads.passages", count=self.chunk_count, pages=pages, kind=self.document.kind)
        return text if self.saved_as is None else locale.text("uploads.saved_as", described=text, path=self.saved_as)


def _refusal(element: Any, settings: Settings, locale: Locale) -> str | None:
    path = Path(element.path or "")
    if not element.path or not path.is_file():
        return locale.text("uploads.missing")
    size_mb = path.stat().st_size / 1_000_000
    if size_mb > settings.upload_max_mb:
        return locale.text("uploads.too_large", size_mb=f"{size_mb:.1f}", limit_mb=f"{settings.upload_max_mb:g}")
    if size_mb == 0:
        return locale.text("uploads.empty")
    return None


class SessionUploads:
    """Default: the file joins this chat's own index only."""

    def __init__(self, index: ChunkIndex | SessionIndex) -> None:
        self.index = index

    def add(self, name: str, data: bytes) -> Added:
        from ragstage.knowledge import load_bytes

        document = load_bytes(name, data, f"upload:{name}")
        return Added(document, len(self.index.add(document)))


class SharedUploads:
    """`uploads_persist`: the file is saved into the knowledge folder (under a safe name chosen
    by the knowledge package) and the shared index picks it up, for every session."""

    def __init__(self, knowledge: KnowledgeBase, folder: Path) -> None:
        self.knowledge, self.folder = knowledge, Path(folder)

    def add(self, name: str, data: bytes) -> Added:
        from ragstage.knowledge import load_bytes, persist_upload

        document = load_bytes(name, data, f"upload:{name}")  # refuses bad files before any write
        saved = persist_upload(self.folder, name, data)
        self.knowledge.update([saved])  # this file only; the folder watcher writes the cache
        source = saved.resolve().relative_to(self.folder.resolve()).as_posix()
        return Added(document, len(self.knowledge.index.chunks_of(source)), source)


async def _index_one(element: Any, destination: SessionUploads | SharedUploads, settings: Settings,
                     locale: Locale) -> UploadOutcome:
    from ragstage.knowledge import DocumentError

    name = element.name or locale.text("uploads.unnamed")
    refusal = _refusal(element, settings, locale)
    if refusal:
        return UploadOutcome(name, False, refusal, locale)
    try:
        data = await asyncio.to_thread(Path(element.path).read_bytes)
        added = await asyncio.to_thread(destination.add, name, data)
    except DocumentError as err:  # its reason comes from the knowledge package, in English
        return UploadOutcome(name, False, err.reason, locale)
    return UploadOutcome(name, True, added.describe(locale), locale)


async def index_uploads(
    elements: Sequence[Any], destination: SessionUploads | SharedUploads, settings: Settings,
    locale: Locale | None = None,
) -> list[UploadOutcome]:
    """Index what is acceptable, explain what is not, in the order the files were attached."""
    locale = locale or english()
    files = [e for e in elements if getattr(e, "path", None) is not None or getattr(e, "type", "") == "file"]
    accepted, extra = files[: settings.upload_max_files], files[settings.upload_max_files :]
    outcomes = []
    for element in accepted:
        try:
            outcomes.append(await _index_one(element, destination, settings, locale))
        except Exception as err:  # an unexpected failure is still this file's, not the chat's
            log.exception("upload %s failed", getattr(element, "name", "?"))
            reason = locale.text("uploads.unreadable", error_type=type(err).__name__)
            outcomes.append(UploadOutcome(element.name or locale.text("uploads.unnamed"), False, reason, locale))
    limit = locale.text("uploads.too_many", count=settings.upload_max_files)
    outcomes += [UploadOutcome(e.name or locale.text("uploads.unnamed"), False, limit, locale) for e in extra]
    return outcomes


def uploads_markdown(outcomes: Sequence[UploadOutcome], persisted: bool, question_follows: bool = True,
                     locale: Locale | None = None) -> str:
    t = (locale or english()).text
    indexed = any(o.indexed for o in outcomes)
    heading = t("uploads.heading_shared" if persisted else "uploads.heading_chat") if indexed else t("uploads.heading")
    lines = [heading, *(o.markdown() for o in outcomes)]
    if indexed and not question_follows:
        lines.append("\n" + t("uploads.ask_now"))
    return "\n".join(lines)
