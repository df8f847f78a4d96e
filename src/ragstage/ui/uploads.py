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

if TYPE_CHECKING:
    from ragstage.knowledge import ChunkIndex, Document, KnowledgeBase, SessionIndex
    from ragstage.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadOutcome:
    name: str
    indexed: bool
    detail: str  # "12 passages, 4 pages" or the reason it was refused

    def markdown(self) -> str:
        mark = "Indexed" if self.indexed else "Could not use"
        return f"- {mark} **{escape_inline(self.name)}**: {escape_inline(self.detail)}"


def _refusal(element: Any, settings: Settings) -> str | None:
    path = Path(element.path or "")
    if not element.path or not path.is_file():
        return "the upload did not arrive; attach it again"
    size_mb = path.stat().st_size / 1_000_000
    if size_mb > settings.upload_max_mb:
        return f"{size_mb:.1f} MB is over the {settings.upload_max_mb:g} MB limit"
    if size_mb == 0:
        return "the file is empty"
    return None


def _describe(document: Document, chunk_count: int) -> str:
    pages = f", {len(document.pages)} pages" if document.pages else ""
    return f"{chunk_count} passages{pages} ({document.kind})"


class SessionUploads:
    """Default: the file joins this chat's own index only."""

    def __init__(self, index: ChunkIndex | SessionIndex) -> None:
        self.index = index

    def add(self, name: str, data: bytes) -> str:
        from ragstage.knowledge import load_bytes

        document = load_bytes(name, data, f"upload:{name}")
        return _describe(document, len(self.index.add(document)))


class SharedUploads:
    """`uploads_persist`: the file is saved into the knowledge folder (under a safe name chosen
    by the knowledge package) and the shared index picks it up, for every session."""

    def __init__(self, knowledge: KnowledgeBase, folder: Path) -> None:
        self.knowledge, self.folder = knowledge, Path(folder)

    def add(self, name: str, data: bytes) -> str:
        from ragstage.knowledge import load_bytes, persist_upload

        document = load_bytes(name, data, f"upload:{name}")  # refuses bad files before any write
        saved = persist_upload(self.folder, name, data)
        self.knowledge.update([saved])  # this file only; the folder watcher writes the cache
        source = saved.resolve().relative_to(self.folder.resolve()).as_posix()
        return f"{_describe(document, len(self.knowledge.index.chunks_of(source)))}, saved as {source}"


async def _index_one(element: Any, destination: SessionUploads | SharedUploads, settings: Settings) -> UploadOutcome:
    from ragstage.knowledge import DocumentError

    name = element.name or "unnamed file"
    refusal = _refusal(element, settings)
    if refusal:
        return UploadOutcome(name, False, refusal)
    try:
        data = await asyncio.to_thread(Path(element.path).read_bytes)
        detail = await asyncio.to_thread(destination.add, name, data)
    except DocumentError as err:
        return UploadOutcome(name, False, err.reason)
    return UploadOutcome(name, True, detail)


async def index_uploads(
    elements: Sequence[Any], destination: SessionUploads | SharedUploads, settings: Settings
) -> list[UploadOutcome]:
    """Index what is acceptable, explain what is not, in the order the files were attached."""
    files = [e for e in elements if getattr(e, "path", None) is not None or getattr(e, "type", "") == "file"]
    accepted, extra = files[: settings.upload_max_files], files[settings.upload_max_files :]
    outcomes = []
    for element in accepted:
        try:
            outcomes.append(await _index_one(element, destination, settings))
        except Exception as err:  # an unexpected failure is still this file's, not the chat's
            log.exception("upload %s failed", getattr(element, "name", "?"))
            reason = f"could not be read ({type(err).__name__})"
            outcomes.append(UploadOutcome(element.name or "unnamed file", False, reason))
    limit = f"only {settings.upload_max_files} files are accepted per message; attach it again in another message"
    outcomes += [UploadOutcome(e.name or "unnamed file", False, limit) for e in extra]
    return outcomes


def uploads_markdown(outcomes: Sequence[UploadOutcome], persisted: bool, question_follows: bool = True) -> str:
    indexed = any(o.indexed for o in outcomes)
    scope = "added to the shared knowledge folder" if persisted else "available in this chat only"
    lines = [f"**Attached files** ({scope}):" if indexed else "**Attached files:**", *(o.markdown() for o in outcomes)]
    if indexed and not question_follows:
        lines.append("\nAsk a question about them: answers can now cite them.")
    return "\n".join(lines)
