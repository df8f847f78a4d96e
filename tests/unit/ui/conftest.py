from __future__ import annotations

import shutil
import uuid

import pytest
from chainlit.context import ChainlitContext, context_var
from chainlit.session import HTTPSession
from ui_fakes import FakeCatalog, RecordingEmitter, ScriptedRuntime, endpoint, knowledge_of

from ragstage.knowledge import ChunkIndex, load_bytes
from ragstage.settings import Settings
from ragstage.ui.services import ChatServices, install_services

GUIDE = b"""# Guide

## Retrieval
BM25 retrieval keeps small models factual: the answer cites the passage it used.
Unsafe <script>alert(1)</script> text and ![tracker](http://example.com/x.png) stay inert.
"""
PRICES = b"# Prices\n\nThe emulated cost uses hypothetical cloud prices per million tokens.\n"


def new_page() -> RecordingEmitter:
    """A fresh browser tab: its own Chainlit session and a recorder of what it receives."""
    session = HTTPSession(id=str(uuid.uuid4()), client_type="webapp", thread_id=str(uuid.uuid4()))
    emitter = RecordingEmitter(session)
    context_var.set(ChainlitContext(session, emitter))
    return emitter


@pytest.fixture
async def page():
    emitter = new_page()
    yield emitter
    shutil.rmtree(emitter.session.files_dir, ignore_errors=True)


@pytest.fixture
def shared_index() -> ChunkIndex:
    index = ChunkIndex()
    index.add(load_bytes("guide.md", GUIDE, "guide.md"))
    index.add(load_bytes("prices.md", PRICES, "prices.md"))
    return index


@pytest.fixture
def runtime(tmp_path, shared_index):
    settings = Settings(_env_file=None, knowledge_dir=tmp_path / "knowledge", cache_dir=tmp_path / "cache",
                        upload_max_mb=0.05, upload_max_files=3)
    fake = ScriptedRuntime(settings=settings, knowledge=knowledge_of(shared_index),
                           catalog=FakeCatalog({"slm": endpoint("slm"), "llm": endpoint("llm")}))

    async def start():
        return fake

    previous = install_services(ChatServices(start_runtime=start))
    yield fake
    install_services(previous)
