"""The folder watcher against the real file system (inotify through watchfiles): files dropped
into, edited in, renamed in and deleted from the knowledge folder reach the index without a
restart, editors' multi-step saves are applied once, a broken file keeps its previous version,
and the cache follows."""

from __future__ import annotations

import asyncio
import io
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fpdf import FPDF

from ragstage.knowledge import KnowledgeBase, SessionIndex, load_bytes
from ragstage.knowledge.base import IngestReport
from ragstage.knowledge.watcher import FolderWatcher
from ragstage.settings import Settings

WAIT_S = 30.0  # generous: the machine is shared; the benchmark measures speed, not this test


def pdf_bytes(text: str) -> bytes:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 8, text)
    out = io.BytesIO()
    pdf.output(out)
    return out.getvalue()


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {WAIT_S} s: {what}")
        time.sleep(0.02)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    knowledge = tmp_path / "knowledge"
    (knowledge / "guides").mkdir(parents=True)
    (knowledge / "intro.md").write_text("# Intro\n\nragstage answers from documents with citations.\n")
    (knowledge / "guides" / "latency.md").write_text("# Latency\n\nTime to first token is dominated by prefill.\n")
    (knowledge / "manual.pdf").write_bytes(pdf_bytes("The projector needs an HDMI adapter."))
    return knowledge


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(cache_dir=tmp_path / "cache", chunk_size_tokens=64, chunk_overlap_tokens=8)


@pytest.fixture
def watched(folder: Path, settings: Settings) -> Iterator[tuple[KnowledgeBase, list[IngestReport]]]:
    kb = KnowledgeBase.open(folder, settings)
    reports: list[IngestReport] = []
    watcher = FolderWatcher(kb, quiet_ms=400, on_update=reports.append).start()
    time.sleep(0.3)  # the inotify watches are in place
    yield kb, reports
    watcher.stop()


def sources_for(kb: KnowledgeBase, query: str) -> list[str]:
    return [hit.chunk.source for hit in kb.index.search(query, 3)]


def test_a_dropped_edited_renamed_and_deleted_file_reaches_the_index(watched, folder: Path) -> None:
    kb, _ = watched
    (folder / "zeppelins.md").write_text("# Zeppelins\n\nZeppelins float on hydrogen.\n")
    wait_until(lambda: sources_for(kb, "zeppelins hydrogen")[:1] == ["zeppelins.md"], "new file searchable")

    (folder / "zeppelins.md").write_text("# Zeppelins\n\nZeppelins now float on helium.\n")
    wait_until(lambda: sources_for(kb, "helium") == ["zeppelins.md"], "edit searchable")
    assert sources_for(kb, "hydrogen") == []

    (folder / "zeppelins.md").rename(folder / "guides" / "airships.md")
    wait_until(lambda: sources_for(kb, "helium") == ["guides/airships.md"], "rename applied")
    assert "zeppelins.md" not in kb.index.sources

    (folder / "guides").rename(folder / "notes")
    wait_until(lambda: sorted(kb.index.sources) == ["intro.md", "manual.pdf", "notes/airships.md", "notes/latency.md"],
               "folder rename applied")

    (folder / "notes" / "airships.md").unlink()
    wait_until(lambda: sources_for(kb, "helium") == [], "deletion applied")


def test_an_editor_save_in_several_steps_is_applied_once_complete(watched, folder: Path) -> None:
    kb, reports = watched
    data = pdf_bytes("The projector now needs a USB-C adapter and a long cable.")
    with open(folder / "manual.pdf", "wb") as handle:  # in place, in pieces, as a slow save does
        for start in range(0, len(data), len(data) // 3):
            handle.write(data[start : start + len(data) // 3])
            handle.flush()
            time.sleep(0.1)  # shorter than the watcher's quiet period
    wait_until(lambda: "USB-C" in kb.index.search("projector adapter", 1)[0].chunk.text, "saved edit searchable")

    again = pdf_bytes("The projector finally takes a wireless adapter.")
    temporary = folder / ".manual.pdf.swp"  # the other style: write aside, keep a backup, rename in
    temporary.write_bytes(again)
    os.replace(folder / "manual.pdf", folder / "manual.bak")
    os.replace(temporary, folder / "manual.pdf")
    wait_until(lambda: "wireless" in kb.index.search("projector adapter", 1)[0].chunk.text, "second save searchable")
    assert not any("manual.pdf" in dict(report.skipped) for report in reports), "a half-written save was parsed"


def test_a_broken_file_keeps_its_previous_version_and_is_reported(watched, folder: Path) -> None:
    kb, reports = watched
    data = pdf_bytes("A completely different manual.")
    (folder / "manual.pdf").write_bytes(data[: len(data) // 3])  # truncated: a failed copy
    wait_until(lambda: "manual.pdf" in dict(kb.report.skipped), "broken file reported")
    assert sources_for(kb, "HDMI projector")[:1] == ["manual.pdf"]  # the previous version answers
    (folder / "manual.pdf").write_bytes(data)  # the copy is repeated, completely
    wait_until(lambda: "manual.pdf" not in dict(kb.report.skipped), "fixed file accepted")
    assert sources_for(kb, "completely different manual")[:1] == ["manual.pdf"]
    assert sources_for(kb, "HDMI") == []


def test_a_chat_with_uploads_sees_the_folder_change_and_keeps_its_upload(watched, folder: Path) -> None:
    kb, _ = watched
    chat = SessionIndex(kb.index)
    chat.add(load_bytes("mine.md", b"# Mine\n\nThe narwhal protocol is private.\n", "upload:mine.md"))
    (folder / "zeppelins.md").write_text("# Zeppelins\n\nZeppelins float on hydrogen.\n")
    wait_until(lambda: sources_for(kb, "zeppelins")[:1] == ["zeppelins.md"], "new file searchable")
    view = chat.current()
    assert [h.chunk.source for h in view.search("zeppelins hydrogen", 1)] == ["zeppelins.md"]
    assert [h.chunk.source for h in view.search("narwhal protocol", 1)] == ["upload:mine.md"]
    assert "upload:mine.md" not in kb.index.sources


def test_the_cache_follows_so_a_restart_reads_nothing(watched, folder: Path, settings: Settings) -> None:
    kb, _ = watched
    (folder / "zeppelins.md").write_text("# Zeppelins\n\nZeppelins float on hydrogen.\n")
    (folder / "intro.md").unlink()
    wait_until(lambda: "zeppelins.md" in kb.index.sources and "intro.md" not in kb.index.sources, "changes applied")

    def restart_reads_nothing() -> bool:
        restarted = KnowledgeBase.open(folder, settings)
        return restarted.report.parsed == 0 and restarted.index.sources == kb.index.sources
    wait_until(restart_reads_nothing, "cache written by the watcher")


def test_after_stop_nothing_changes(folder: Path, settings: Settings) -> None:
    kb = KnowledgeBase.open(folder, settings)
    watcher = FolderWatcher(kb, quiet_ms=100).start()
    threads = list(watcher._threads)
    watcher.stop()
    assert threads and not any(thread.is_alive() for thread in threads)
    (folder / "zeppelins.md").write_text("# Zeppelins\n\nZeppelins float on hydrogen.\n")
    time.sleep(1.0)
    assert "zeppelins.md" not in kb.index.sources


async def test_the_app_runtime_watches_its_folder_unless_told_not_to(folder: Path, tmp_path: Path) -> None:
    from ragstage.runtime import Runtime

    settings = Settings(_env_file=None, knowledge_dir=folder, cache_dir=tmp_path / "cache", backend="remote",
                        knowledge_watch_quiet_ms=100)
    async with await Runtime.start(settings, warm_roles=(), watch_knowledge=True) as runtime:
        assert runtime.watcher is not None
        threads = list(runtime.watcher._threads)
        await asyncio.sleep(0.3)
        (folder / "zeppelins.md").write_text("# Zeppelins\n\nZeppelins float on hydrogen.\n")
        deadline = time.monotonic() + WAIT_S
        while "zeppelins.md" not in runtime.knowledge.index.sources and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert "zeppelins.md" in runtime.knowledge.index.sources
    assert not any(thread.is_alive() for thread in threads)  # closing the runtime stopped it

    quiet = settings.model_copy(update={"knowledge_watch": False})
    async with await Runtime.start(quiet, warm_roles=(), watch_knowledge=True) as runtime:
        assert runtime.watcher is None
    async with await Runtime.start(settings, warm_roles=()) as runtime:  # the CLI's one-shot runtimes
        assert runtime.watcher is None
