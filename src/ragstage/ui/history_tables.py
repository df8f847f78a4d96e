"""The chat-history tables: the layout Chainlit 2.12's SQLAlchemyDataLayer reads and writes.

Chainlit ships the data layer but not its tables, so the app creates them (SQLite or PostgreSQL).
"""

from __future__ import annotations

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
