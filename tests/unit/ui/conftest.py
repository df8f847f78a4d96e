from __future__ import annotations

import shutil

import pytest
from ui_fakes import knowledge_of, new_page, serving

from ragstage.knowledge import ChunkIndex, load_bytes
from ragstage.settings import Settings

GUIDE = b"""# Guide

## Retrieval
BM25 retrieval keeps small models factual: the answer cites the passage it used.
Unsafe <script>alert(1)</script> text and ![tracker](http://example.com/x.png) stay inert.
"""
PRICES = b"# Prices\n\nThe emulated cost uses hypothetical cloud prices per million tokens.\n"


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
    with serving(settings, knowledge_of(shared_index)) as fake:
        yield fake
