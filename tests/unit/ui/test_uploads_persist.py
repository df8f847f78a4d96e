"""`RAGSTAGE_UPLOADS_PERSIST`: uploads join the knowledge folder and the shared index."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from ui_fakes import serving

from ragstage.knowledge import KnowledgeBase
from ragstage.settings import Settings
from ragstage.ui import chat


@pytest.fixture
def persisting_runtime(tmp_path):
    folder = tmp_path / "knowledge"
    folder.mkdir()
    (folder / "intro.md").write_text("# Intro\n\nragstage answers from documents.\n")
    settings = Settings(_env_file=None, knowledge_dir=folder, cache_dir=tmp_path / "cache", uploads_persist=True)
    with serving(settings, KnowledgeBase.open(folder, settings)) as fake:
        yield fake


async def test_persisted_upload_is_saved_inside_the_knowledge_folder_and_shared(page, persisting_runtime, tmp_path):
    upload = tmp_path / "incoming.md"
    upload.write_text("# Walrus\n\nThe walrus protocol rotates keys hourly.\n")
    element = SimpleNamespace(name="../../walrus notes.md", path=str(upload), mime="text/markdown", type="file")

    await chat.handle_message(SimpleNamespace(content="", elements=[element]))

    folder = persisting_runtime.settings.knowledge_dir
    saved = [p for p in folder.rglob("*") if p.is_file() and "walrus" in p.name]
    assert len(saved) == 1 and saved[0].parent == folder
    ack = page.messages()[0]["output"]
    assert "shared knowledge folder" in ack and "saved as" in ack
    hit = persisting_runtime.knowledge.index.search("walrus protocol rotates keys", 1)[0]
    assert hit.chunk.source == saved[0].name
