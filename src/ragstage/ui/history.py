"""Chat history for signed-in people: Chainlit's SQLAlchemy data layer on SQLite (or PostgreSQL),
with the files it keeps (citations, uploads) in a local folder.

Chainlit ships the data layer but not its tables, so the app creates them on first use. The
stored files are served back through one route that only answers the signed-in owner, always as
inert content types, so an uploaded HTML page can never run in the browser.
"""

from __future__ import annotations

import asyncio
import json
import logging
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable
from urllib.parse import quote

import chainlit as cl
from chainlit.auth import authenticate_user, get_token_from_cookies
from chainlit.data.sql_alchemy import SQLAlchemyDataLayer
from chainlit.data.storage_clients.base import BaseStorageClient
from chainlit.types import ThreadDict
from fastapi import Request, Response

from ragstage.accounts import files_dir
from ragstage.settings import Settings
from ragstage.ui import settings_panel, uploads, welcome
from ragstage.ui.services import services
from ragstage.ui.session import ChatSession, store_session

log = logging.getLogger(__name__)

FILES_ROUTE = "/ragstage/chat-files"
# PostgreSQL connections per app instance: 10 kept + 20 on demand (3 instances stay under the
# server's default max_connections of 100); a write waits up to 2 minutes for one.
SERVER_POOL_SIZE, SERVER_POOL_OVERFLOW, SERVER_POOL_TIMEOUT_S = 10, 20, 120
_UNSAFE_KEY_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
# Served as themselves; everything else is plain text or a download, never HTML.
_INLINE_TYPES = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
_TEXT_SUFFIXES = {".txt", ".md", ".html", ".htm", ".csv", ".json", ""}

# Column types per SQL dialect; the table layout is what Chainlit 2.12's SQLAlchemyDataLayer reads and writes.
_TYPES = {
    "sqlite": {"id": "TEXT", "json": "TEXT", "list": "TEXT", "bool": "INTEGER"},
    "postgresql": {"id": "UUID", "json": "JSONB", "list": "TEXT[]", "bool": "BOOLEAN"},
}
_TABLES = (
    """CREATE TABLE IF NOT EXISTS users (
        "id" {id} PRIMARY KEY, "identifier" TEXT NOT NULL UNIQUE, "metadata" {json} NOT NULL,
        "createdAt" TEXT)""",
    """CREATE TABLE IF NOT EXISTS threads (
        "id" {id} PRIMARY KEY, "createdAt" TEXT, "name" TEXT, "userId" {id}, "userIdentifier" TEXT,
        "tags" {list}, "metadata" {json},
        FOREIGN KEY ("userId") REFERENCES users("id") ON DELETE CASCADE)""",
    """CREATE TABLE IF NOT EXISTS steps (
        "id" {id} PRIMARY KEY, "name" TEXT NOT NULL, "type" TEXT NOT NULL, "threadId" {id} NOT NULL,
        "parentId" {id}, "command" TEXT, "modes" {json}, "streaming" {bool} NOT NULL,
        "waitForAnswer" {bool}, "isError" {bool}, "metadata" {json}, "tags" {list}, "input" TEXT,
        "output" TEXT, "createdAt" TEXT, "start" TEXT, "end" TEXT, "generation" {json},
        "showInput" TEXT, "language" TEXT, "indent" INT, "defaultOpen" {bool}, "autoCollapse" {bool})""",
    """CREATE TABLE IF NOT EXISTS elements (
        "id" {id} PRIMARY KEY, "threadId" {id}, "type" TEXT, "url" TEXT, "chainlitKey" TEXT,
        "name" TEXT NOT NULL, "display" TEXT, "objectKey" TEXT, "size" TEXT, "page" INT,
        "language" TEXT, "forId" {id}, "mime" TEXT, "props" {json}, "autoPlay" {bool},
        "playerConfig" {json})""",
    """CREATE TABLE IF NOT EXISTS feedbacks (
        "id" {id} PRIMARY KEY, "forId" {id} NOT NULL, "threadId" {id} NOT NULL, "value" INT NOT NULL,
        "comment" TEXT)""",
    """CREATE INDEX IF NOT EXISTS steps_thread ON steps ("threadId")""",
    """CREATE INDEX IF NOT EXISTS elements_thread ON elements ("threadId")""",
)


def table_statements(dialect: str) -> list[str]:
    if dialect not in _TYPES:
        raise ValueError(f"chat history supports {sorted(_TYPES)} databases, not {dialect!r}")
    return [statement.format(**_TYPES[dialect]) for statement in _TABLES]


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


class ChatHistoryStore(SQLAlchemyDataLayer):
    """SQLAlchemyDataLayer that creates its tables before the first query."""

    def __init__(self, database_url: str, storage: LocalFileStorage):
        sqlite = database_url.startswith("sqlite")
        if sqlite:
            _make_sqlite_folder(database_url)
        super().__init__(conninfo=database_url, connect_args={"timeout": 30} if sqlite else None,
                         storage_provider=storage)
        if not sqlite:
            self._use_server_pool(database_url)
        self.storage = storage
        self._tables_ready = False
        self._tables_lock = asyncio.Lock()

    def _use_server_pool(self, database_url: str) -> None:
        """Chainlit's data layer logs and DROPS a write that waits over 30 s for one of its 15
        pooled connections: with ~100 chats answering at once, history went missing. A larger
        pool and a longer wait keep every write (per instance: mind PostgreSQL's max_connections)."""
        from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
        from sqlalchemy.orm import sessionmaker

        self.engine = create_async_engine(database_url, pool_size=SERVER_POOL_SIZE, max_overflow=SERVER_POOL_OVERFLOW,
                                          pool_timeout=SERVER_POOL_TIMEOUT_S)
        self.async_session = sessionmaker(bind=self.engine, expire_on_commit=False, class_=AsyncSession)

    async def create_tables(self) -> None:
        async with self._tables_lock:
            if self._tables_ready:
                return
            async with self.engine.begin() as connection:
                for statement in table_statements(self.engine.dialect.name):
                    await connection.exec_driver_sql(statement)
            self._tables_ready = True

    async def execute_sql(self, query: str, parameters: dict) -> list[dict[str, Any]] | int | None:
        if not self._tables_ready:
            await self.create_tables()
        return await super().execute_sql(query, parameters)

    async def create_step(self, step_dict: dict) -> None:
        """A message streamed and then updated reaches us without a creation time; without one
        it would be lost from the resumed thread, so it gets the time it was first stored."""
        if not step_dict.get("createdAt") and not await self._step_exists(step_dict.get("id")):
            step_dict = {**step_dict, "createdAt": await self.get_current_timestamp()}
        await super().create_step(step_dict)

    async def _step_exists(self, step_id: str | None) -> bool:
        rows = await self.execute_sql('SELECT 1 FROM steps WHERE "id" = :id', {"id": step_id})
        return bool(rows)

    async def get_all_user_threads(self, user_id: str | None = None, thread_id: str | None = None):
        """SQLite hands JSON columns back as text; the page expects objects."""
        threads = await super().get_all_user_threads(user_id=user_id, thread_id=thread_id)
        for thread in threads or []:
            for step in thread["steps"]:
                for key in ("metadata", "generation"):
                    step[key] = _json_value(step.get(key))
            for element in thread["elements"]:
                element["props"] = _json_value(element.get("props")) or {}
        return threads

    async def file_owner(self, object_key: str) -> str | None:
        """Who may read a stored file: the author of the thread its element belongs to."""
        rows = await self.execute_sql(
            'SELECT t."userIdentifier" AS owner FROM elements e JOIN threads t ON e."threadId" = t."id" '
            'WHERE e."objectKey" = :key', {"key": safe_object_key(object_key)})
        return rows[0]["owner"] if isinstance(rows, list) and rows else None


def _json_value(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _make_sqlite_folder(database_url: str) -> None:
    location = database_url.partition(":///")[2]
    if location and location != ":memory:":
        Path(location).parent.mkdir(parents=True, exist_ok=True)


def build_history_store(settings: Settings) -> ChatHistoryStore:
    folder = settings.chat_files_dir or files_dir(settings.database_url)  # shared by all instances
    return ChatHistoryStore(settings.database_url, LocalFileStorage(folder))


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


@dataclass(frozen=True)
class StoredUpload:
    name: str
    object_key: str
    mime: str


def stored_uploads(thread: ThreadDict) -> list[StoredUpload]:
    """Files the person attached to their messages in this thread, oldest first."""
    user_steps = {step["id"] for step in thread.get("steps", []) if step.get("type") == "user_message"}
    uploads = []
    for element in thread.get("elements", []) or []:
        if element.get("forId") in user_steps and element.get("objectKey") and element.get("chainlitKey"):
            uploads.append(StoredUpload(element.get("name", ""), element["objectKey"],
                                        element.get("mime") or "application/octet-stream"))
    return uploads


def thread_chat_settings(thread: ThreadDict) -> dict[str, Any]:
    """The chat settings saved with the thread (Chainlit stores them in the thread metadata)."""
    metadata = thread.get("metadata") or {}
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except ValueError:
            return {}
    settings = metadata.get("chat_settings") if isinstance(metadata, dict) else None
    return dict(settings) if isinstance(settings, dict) else {}


_ANSWER_FOOTERS = ("\n\n**Sources:**", "\n\n**Passages given", "\n\n**Latency this chat:**")


def _answer_text(output: str) -> str:
    """The answer as the model gave it, without the footers the chat adds under it."""
    cut = min((i for i in (output.find(f) for f in _ANSWER_FOOTERS) if i >= 0), default=len(output))
    return output[:cut].strip()


def chat_turns(thread: ThreadDict) -> list[tuple[str, str]]:
    """(question, answer) pairs: each person's message with the last assistant message after it
    (the answer, not the upload acknowledgement before it); failed answers are left out."""
    turns: list[tuple[str, str]] = []
    question: str | None = None
    answer = ""
    for step in thread.get("steps", []):
        kind = step.get("type")
        if kind == "user_message":
            if question and answer:
                turns.append((question, answer))
            question, answer = str(step.get("output") or ""), ""
        elif kind == "assistant_message" and question is not None and not step.get("isError"):
            answer = _answer_text(str(step.get("output") or ""))
    if question and answer:
        turns.append((question, answer))
    return turns


_store: ChatHistoryStore | None = None


def install(settings: Settings) -> Callable[[], ChatHistoryStore]:
    """Builds the store once and serves its files; returns the factory for `cl.data_layer`."""
    global _store
    _store = build_history_store(settings)
    register_files_route(_store)
    return lambda: _store


async def prepare_tables() -> None:
    """At app start, so a wrong database URL shows up in the log at once, not at first sign-in."""
    if _store is not None:
        await _store.create_tables()


async def resume_chat(thread: ThreadDict) -> None:
    """Reopened thread: its settings, its uploads (indexed again from the stored copies) and
    its recent turns come back, so the next question is answered as if the chat never paused."""
    runtime = await services().runtime()
    values = settings_panel.parse_values(settings_panel.default_values(runtime.settings), thread_chat_settings(thread))
    session = ChatSession(values=values)
    for question, answer in chat_turns(thread):
        session.remember(question, answer, runtime.settings.history_turns)
    store_session(session)
    endpoints = {r: e for r, e in welcome.known_endpoints(runtime).items() if not isinstance(e, str)}
    await cl.ChatSettings(settings_panel.settings_widgets(runtime.settings, endpoints, values)).send()
    if _store is None or not stored_uploads(thread) or runtime.settings.uploads_persist:
        return  # persisted uploads are already part of the shared knowledge folder
    files = [SimpleNamespace(name=u.name, path=str(_store.storage.path_for(u.object_key)), type="file")
             for u in stored_uploads(thread)]
    destination = uploads.SessionUploads(session.writable_index(runtime.knowledge.index))
    outcomes = [o for f in files for o in await uploads.index_uploads([f], destination, runtime.settings)]
    session.uploads += [o.name for o in outcomes if o.indexed]
    if any(not o.indexed for o in outcomes):
        await cl.Message(content=uploads.uploads_markdown(outcomes, persisted=False)).send()
