"""KnowledgeBase.update: what the folder watcher applies, one batch of changed paths at a time."""

from __future__ import annotations

from pathlib import Path

import pytest
from knowledge_factories import encrypted_pdf_bytes, pdf_bytes

import ragstage.knowledge.base as base_module
from ragstage.knowledge import KnowledgeBase
from ragstage.settings import Settings


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    knowledge = tmp_path / "knowledge"
    (knowledge / "guides").mkdir(parents=True)
    (knowledge / "intro.md").write_text("# Intro\n\nragstage answers from documents with citations.\n")
    (knowledge / "guides" / "latency.md").write_text("# Latency\n\nTime to first token is dominated by prefill.\n")
    (knowledge / "guides" / "cost.md").write_text("# Cost\n\nThe emulated cloud cost uses hypothetical prices.\n")
    (knowledge / "manual.pdf").write_bytes(pdf_bytes(["The projector needs an HDMI adapter."]))
    return knowledge


@pytest.fixture
def kb(folder: Path, tmp_path: Path) -> KnowledgeBase:
    return KnowledgeBase.open(folder, Settings(cache_dir=tmp_path / "cache", chunk_size_tokens=64, chunk_overlap_tokens=8))


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = base_module.load_file_bytes
    monkeypatch.setattr(base_module, "load_file_bytes", lambda path, data, source: seen.append(source) or real(path, data, source))
    return seen


def top_source(kb: KnowledgeBase, query: str) -> str | None:
    hits = kb.index.search(query, 1)
    return hits[0].chunk.source if hits else None


def test_an_added_file_is_searchable_and_only_it_is_read(kb: KnowledgeBase, folder: Path, parsed: list[str]):
    (folder / "zeppelins.md").write_text("# Zeppelins\n\nZeppelins float on hydrogen.\n")
    report = kb.update([folder / "zeppelins.md"])
    assert parsed == ["zeppelins.md"] and report.parsed == 1 and report.documents == 5
    assert top_source(kb, "zeppelins hydrogen") == "zeppelins.md"


def test_a_changed_file_replaces_its_old_text(kb: KnowledgeBase, folder: Path):
    (folder / "intro.md").write_text("# Intro\n\nragstage now talks about walruses.\n")
    kb.update([folder / "intro.md"])
    assert top_source(kb, "walruses") == "intro.md" and kb.index.search("citations", 3) == []


def test_a_deleted_file_is_forgotten(kb: KnowledgeBase, folder: Path):
    (folder / "manual.pdf").unlink()
    report = kb.update([folder / "manual.pdf"])
    assert report.removed == 1 and "manual.pdf" not in kb.index.sources and top_source(kb, "HDMI") is None


def test_a_renamed_file_moves_without_being_parsed_twice(kb: KnowledgeBase, folder: Path, parsed: list[str]):
    (folder / "intro.md").rename(folder / "welcome.md")
    kb.update([folder / "intro.md", folder / "welcome.md"])
    assert "intro.md" not in kb.index.sources and top_source(kb, "citations") == "welcome.md"
    assert parsed == ["welcome.md"]


def test_a_renamed_or_deleted_folder_takes_all_its_files_along(kb: KnowledgeBase, folder: Path):
    (folder / "guides").rename(folder / "howto")
    kb.update([folder / "guides", folder / "howto"])  # what inotify reports: the folder, not its files
    assert sorted(kb.index.sources) == ["howto/cost.md", "howto/latency.md", "intro.md", "manual.pdf"]
    (folder / "howto" / "cost.md").unlink()
    (folder / "howto" / "latency.md").unlink()
    (folder / "howto").rmdir()
    kb.update([folder / "howto"])
    assert sorted(kb.index.sources) == ["intro.md", "manual.pdf"]


def test_a_broken_file_keeps_its_previous_version_and_is_reported(kb: KnowledgeBase, folder: Path):
    (folder / "manual.pdf").write_bytes(encrypted_pdf_bytes(["new text"], user_password="pw"))
    (folder / "broken-new.pdf").write_bytes(b"%PDF-1.7 truncated")
    report = kb.update([folder / "manual.pdf", folder / "broken-new.pdf"])
    problems = dict(report.skipped)
    assert problems["manual.pdf"] == "encrypted PDF (password required)"
    assert "broken-new.pdf" in problems
    assert top_source(kb, "HDMI projector") == "manual.pdf"  # previous version still answers
    assert "broken-new.pdf" not in kb.index.sources

    (folder / "manual.pdf").write_bytes(pdf_bytes(["The projector now needs a USB-C adapter."]))
    report = kb.update([folder / "manual.pdf"])
    assert "manual.pdf" not in dict(report.skipped) and "broken-new.pdf" in dict(report.skipped)
    assert "USB-C" in kb.index.search("projector adapter", 1)[0].chunk.text


def test_the_report_always_covers_the_whole_folder(kb: KnowledgeBase, folder: Path):
    (folder / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    kb.update([folder / "logo.png"])
    (folder / "other.md").write_text("# Other\n\nsomething else entirely\n")
    report = kb.update([folder / "other.md"])
    assert [path for path, _ in report.skipped] == ["logo.png"] and report.documents == 5
    (folder / "logo.png").unlink()
    assert kb.update([folder / "logo.png"]).skipped == ()


def test_hidden_and_outside_paths_are_ignored(kb: KnowledgeBase, folder: Path, tmp_path: Path, parsed: list[str]):
    (folder / ".draft.md").write_text("# Draft\n\nsecret plans about narwhals\n")
    (tmp_path / "outside.md").write_text("# Outside\n\nnarwhals again\n")
    kb.update([folder / ".draft.md", tmp_path / "outside.md"])
    assert parsed == [] and kb.index.search("narwhals", 3) == []


def test_the_folder_itself_means_compare_everything(kb: KnowledgeBase, folder: Path):
    (folder / "intro.md").unlink()
    (folder / "guides" / "new.md").write_text("# New\n\nA note on speculative decoding.\n")
    kb.update([folder])
    assert "intro.md" not in kb.index.sources and top_source(kb, "speculative decoding") == "guides/new.md"


def test_an_unmounted_folder_keeps_the_index(kb: KnowledgeBase, folder: Path, tmp_path: Path):
    folder.rename(tmp_path / "elsewhere")
    report = kb.update([folder / "intro.md"])
    assert kb.index.document_count == 4 and "missing" in report.warnings[0]


def test_updates_are_written_to_the_cache_only_when_asked(kb: KnowledgeBase, folder: Path, tmp_path: Path):
    settings = kb.settings
    (folder / "zeppelins.md").write_text("# Zeppelins\n\nZeppelins float on hydrogen.\n")
    kb.update([folder / "zeppelins.md"])
    stale = KnowledgeBase.open(folder, settings)  # the cache does not know the file yet: it is read
    assert stale.report.parsed == 1
    assert kb.save_cache() == [] and kb.save_cache() == []  # the second call has nothing to write
    warm = KnowledgeBase.open(folder, settings)
    assert warm.report.parsed == 0 and top_source(warm, "zeppelins hydrogen") == "zeppelins.md"
