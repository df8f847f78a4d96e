"""The files a stored chat keeps (citations, uploads): a Chainlit storage client on one local
folder, and the one route that serves them back.

The route only answers the signed-in author of the thread a file belongs to, always with inert
content types, so an uploaded HTML page can never run in the browser.
"""

from __future__ import annotations

import asyncio
import mimetypes
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from chainlit.auth import authenticate_user, get_token_from_cookies
from chainlit.data.storage_clients.base import BaseStorageClient
from fastapi import Request, Response

if TYPE_CHECKING:
    from ragstage.ui.history_store import ChatHistoryStore

FILES_ROUTE = "/ragstage/chat-files"
_UNSAFE_KEY_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
# Served as themselves; everything else is plain text or a download, never HTML.
_INLINE_TYPES = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
_TEXT_SUFFIXES = {".txt", ".md", ".html", ".htm", ".csv", ".json", ""}


def safe_object_key(object_key: str) -> str:
    """`user/element/name` with every part reduced to harmless characters: no `..`, no absolute
    paths, no separators smuggled in through an uploaded file's name."""
    parts = [_UNSAFE_KEY_CHARS.sub("_", part).lstrip(".")[:120] for part in object_key.split("/")]
    parts = [part for part in parts if part]
    if not parts:
        raise ValueError(f"empty object key {object_key!r}")
    return "/".join(parts)


class LocalFileStorage(BaseStorageClient):
    """Chainlit storage client that keeps element files under one local folder."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()

    def path_for(self, object_key: str) -> Path:
        path = (self.root / safe_object_key(object_key)).resolve()
        if self.root not in path.parents:
            raise ValueError(f"object key {object_key!r} points outside the chat files folder")
        return path

    async def upload_file(self, object_key: str, data: bytes | str, mime: str = "application/octet-stream",
                          overwrite: bool = True, content_disposition: str | None = None) -> dict[str, Any]:
        key = safe_object_key(object_key)
        path = self.path_for(key)
        if path.exists() and not overwrite:
            return {"object_key": key, "url": await self.get_read_url(key)}
        payload = data.encode("utf-8") if isinstance(data, str) else data
        await asyncio.to_thread(_write_file, path, payload)
        return {"object_key": key, "url": await self.get_read_url(key)}

    async def delete_file(self, object_key: str) -> bool:
        path = self.path_for(object_key)
        existed = path.exists()
        path.unlink(missing_ok=True)
        return existed

    async def get_read_url(self, object_key: str) -> str:
        return f"{FILES_ROUTE}/{quote(safe_object_key(object_key))}"

    async def close(self) -> None:
        return None

    async def read(self, object_key: str) -> bytes:
        return await asyncio.to_thread(self.path_for(object_key).read_bytes)


def _write_file(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".part")
    temporary.write_bytes(payload)
    temporary.replace(path)


def _served_type(name: str) -> tuple[str, str]:
    suffix = Path(name).suffix.lower()
    if suffix in _INLINE_TYPES:
        return _INLINE_TYPES[suffix], "inline"
    if suffix in _TEXT_SUFFIXES or (mimetypes.guess_type(name)[0] or "").startswith("text/"):
        return "text/plain; charset=utf-8", "inline"
    return "application/octet-stream", "attachment"


def files_route(store: ChatHistoryStore):
    """The handler for GET FILES_ROUTE/{object_key}: only the signed-in author of the thread the
    file belongs to gets it; everyone else gets the same 404 as for a file that does not exist."""

    async def serve_chat_file(request: Request, object_key: str) -> Response:
        token = get_token_from_cookies(dict(request.cookies))
        try:
            user = await authenticate_user(token) if token else None
        except Exception:  # an expired or forged token is just "not signed in"
            user = None
        if user is None or await store.file_owner(object_key) != user.identifier:
            return Response("not found", status_code=404)
        try:
            data = await store.storage.read(object_key)
        except (OSError, ValueError):
            return Response("not found", status_code=404)
        content_type, disposition = _served_type(object_key)
        headers = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox",
                   "Content-Disposition": disposition, "Cache-Control": "private, no-store"}
        return Response(data, media_type=content_type, headers=headers)

    return serve_chat_file


def register_files_route(store: ChatHistoryStore) -> None:
    """Adds the route ahead of Chainlit's catch-all page route, which would otherwise shadow it
    (FastAPI may keep Chainlit's routes inside one included-router entry, so "ahead" means first)."""
    from chainlit.server import app

    path = f"{FILES_ROUTE}/{{object_key:path}}"
    if any(getattr(route, "path", None) == path for route in app.router.routes):
        return
    app.add_api_route(path, files_route(store), methods=["GET"], include_in_schema=False)
    app.router.routes.insert(0, app.router.routes.pop())  # first: the path is ours alone
