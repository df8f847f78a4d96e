"""Chat history for signed-in people: Chainlit's SQLAlchemy data layer on SQLite (or
PostgreSQL), creating its tables before the first query and keeping files in a local folder.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from chainlit.data.sql_alchemy import SQLAlchemyDataLayer

from ragstage.accounts import files_dir
from ragstage.settings import Settings
from ragstage.ui.chat_files import LocalFileStorage, safe_object_key
from ragstage.ui.history_tables import table_statements

# PostgreSQL connections per app instance: 10 kept + 20 on demand (3 instances stay under the
# server's default max_connections of 100); a write waits up to 2 minutes for one.
SERVER_POOL_SIZE, SERVER_POOL_OVERFLOW, SERVER_POOL_TIMEOUT_S = 10, 20, 120

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
