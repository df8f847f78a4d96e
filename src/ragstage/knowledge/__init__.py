"""Load, chunk, index and search the documents the assistant answers from.

One small interface (see docs/ARCHITECTURE.md): `load_document`/`load_bytes` -> `Document`,
`chunk_document` -> `Chunk`s, `ChunkIndex.search` -> `Hit`s, `KnowledgeBase.open(folder)`.
"""

from ragstage.knowledge.analyzer import analyze
from ragstage.knowledge.base import IngestReport, KnowledgeBase
from ragstage.knowledge.chunking import chunk_document
from ragstage.knowledge.index import ChunkIndex
from ragstage.knowledge.index_files import IndexFormatError
from ragstage.knowledge.loaders import SUPPORTED_EXTENSIONS, load_bytes, load_document
from ragstage.knowledge.records import Chunk, Document, DocumentError, Hit, PageSpan
from ragstage.knowledge.session_index import SessionIndex
from ragstage.knowledge.uploads import persist_upload, safe_upload_name

__all__ = [
    "SUPPORTED_EXTENSIONS", "Chunk", "ChunkIndex", "Document", "DocumentError", "Hit", "IndexFormatError",
    "IngestReport", "KnowledgeBase", "PageSpan", "analyze", "chunk_document", "load_bytes", "load_document",
    "SessionIndex", "persist_upload", "safe_upload_name",
]
