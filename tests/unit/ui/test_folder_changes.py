"""Open chats and the knowledge folder: a chat with uploads still sees folder changes on its next
question, its uploads stay its own, and files that cannot be indexed are reported in the
welcome message of new chats and in one line after the next answer of open chats."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from ui_fakes import new_page, serving, simple_answer

from ragstage.knowledge import KnowledgeBase
from ragstage.settings import Settings
from ragstage.ui import chat


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "guide.md").write_text("# Guide\n\nBM25 retrieval keeps small models factual.\n")
    (knowledge / "prices.md").write_text("# Prices\n\nThe emulated cost uses hypothetical cloud prices.\n")
    return knowledge


@pytest.fixture
def runtime(tmp_path: Path, folder: Path):
    settings = Settings(_env_file=None, knowledge_dir=folder, cache_dir=tmp_path / "cache")
    with serving(settings, KnowledgeBase.open(folder, settings)) as fake:
        yield fake


async def ask(runtime, text: str, *files) -> None:
    runtime.play(*simple_answer(text, tuple(runtime.knowledge.index.search("BM25 retrieval", 1))))
    await chat.handle_message(SimpleNamespace(content=text, elements=list(files)))


def upload(tmp_path: Path, name: str, text: str) -> SimpleNamespace:
    path = tmp_path / name
    path.write_text(text)
    return SimpleNamespace(name=name, path=str(path), mime="text/markdown", type="file")


def sources(index, query: str) -> list[str]:
    return [hit.chunk.source for hit in index.search(query, 3)]


async def test_a_chat_with_an_upload_sees_a_new_folder_file_on_its_next_question(runtime, folder, tmp_path):
    new_page()
    await chat.start_chat()
    await ask(runtime, "What is the narwhal protocol?", upload(tmp_path, "mine.md", "# Mine\n\nThe narwhal protocol.\n"))
    (folder / "zeppelins.md").write_text("# Zeppelins\n\nZeppelins float on hydrogen.\n")
    runtime.knowledge.update([folder / "zeppelins.md"])  # what the folder watcher does

    await ask(runtime, "What do zeppelins float on?")
    index = runtime.calls[-1].index
    assert sources(index, "zeppelins hydrogen")[:1] == ["zeppelins.md"]
    assert sources(index, "narwhal protocol")[:1] == ["upload:mine.md"]

    new_page()  # someone else: the folder file yes, the upload no
    await chat.start_chat()
    await ask(runtime, "What is the narwhal protocol?")
    other = runtime.calls[-1].index
    assert sources(other, "zeppelins hydrogen")[:1] == ["zeppelins.md"]
    assert "upload:mine.md" not in sources(other, "narwhal protocol")


async def test_a_broken_folder_file_is_announced_once_in_open_chats_and_listed_for_new_ones(runtime, folder):
    page = new_page()
    await chat.start_chat()
    assert "could not be indexed" not in page.messages()[-1]["output"]

    (folder / "guide.md").write_bytes(b"\x00\x01\x02 binary garbage")
    (folder / "scan.pdf").write_bytes(b"%PDF-1.7 truncated")
    runtime.knowledge.update([folder / "guide.md", folder / "scan.pdf"])

    await ask(runtime, "What keeps small models factual?")
    notice = page.messages()[-1]["output"]
    assert notice.startswith("Knowledge folder: **guide.md**: binary data, not text")
    assert "previous version is still used" in notice and "(and 1 more)" in notice and "\n" not in notice
    await ask(runtime, "And again?")
    assert not page.messages()[-1]["output"].startswith("Knowledge folder:")  # said once

    newcomer = new_page()
    await chat.start_chat()
    welcome = newcomer.messages()[-1]["output"]
    assert "2 file(s) in the knowledge folder could not be indexed" in welcome
    assert "**guide.md**: binary data, not text (its previous version is still used)" in welcome
    assert "**scan.pdf**" in welcome and "(not searchable)" in welcome
    await ask(runtime, "What keeps small models factual?")
    assert not newcomer.messages()[-1]["output"].startswith("Knowledge folder:")  # the welcome told them
