"""KnowledgeBase: folder ingest with skips, a content-hash cache, refresh, and cache failures."""

from __future__ import annotations

import os
import shutil
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
    (knowledge / "manual.pdf").write_bytes(pdf_bytes(["The projector needs an HDMI adapter."]))
    (knowledge / "locked.pdf").write_bytes(encrypted_pdf_bytes(["secret"], user_password="pw"))
    (knowledge / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (knowledge / ".hidden.md").write_text("# Hidden\n\nnever indexed")
    return knowledge


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(cache_dir=tmp_path / "cache", chunk_size_tokens=64, chunk_overlap_tokens=8)


@pytest.fixture
def parse_counter(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every file the knowledge base actually parses."""
    parsed: list[str] = []
    real = base_module.load_file_bytes

    def counting(path, data, source):
        parsed.append(source)
        return real(path, data, source)

    monkeypatch.setattr(base_module, "load_file_bytes", counting)
    return parsed


def test_folder_ingest_indexes_good_files_and_reports_bad_ones(folder: Path, settings: Settings):
    kb = KnowledgeBase.open(folder, settings)
    assert kb.index.sources == ["guides/latency.md", "intro.md", "manual.pdf"]
    skipped = dict(kb.report.skipped)
    assert skipped["locked.pdf"] == "encrypted PDF (password required)"
    assert skipped["logo.png"].startswith("unsupported type .png (supported: .md")
    assert ".hidden.md" not in skipped and kb.report.documents == 3
    assert kb.index.search("HDMI adapter", 1)[0].chunk.page == 1


def test_restart_with_unchanged_files_parses_nothing(folder: Path, settings: Settings, parse_counter: list[str]):
    first = KnowledgeBase.open(folder, settings)
    assert sorted(parse_counter) == ["guides/latency.md", "intro.md", "locked.pdf", "manual.pdf"]
    parse_counter.clear()
    second = KnowledgeBase.open(folder, settings)
    assert parse_counter == [] and second.report.parsed == 0 and second.report.cache_used
    assert second.report.skipped == first.report.skipped
    assert second.index.search("prefill", 3) == first.index.search("prefill", 3)


def test_touched_but_identical_file_is_not_parsed_again(folder: Path, settings: Settings, parse_counter: list[str]):
    KnowledgeBase.open(folder, settings)
    parse_counter.clear()
    path = folder / "intro.md"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 5_000_000_000))
    assert KnowledgeBase.open(folder, settings).report.parsed == 0 and parse_counter == []


def test_changed_added_and_deleted_files_are_picked_up_on_restart(folder: Path, settings: Settings,
                                                                    parse_counter: list[str]):
    KnowledgeBase.open(folder, settings)
    parse_counter.clear()
    (folder / "intro.md").write_text("# Intro\n\nragstage now speaks about zeppelins.\n")
    (folder / "new.txt").write_text("A brand new note on quantization.")
    (folder / "guides" / "latency.md").unlink()
    kb = KnowledgeBase.open(folder, settings)
    assert sorted(parse_counter) == ["intro.md", "new.txt"]
    assert kb.index.sources == ["intro.md", "manual.pdf", "new.txt"]
    assert kb.index.search("zeppelins", 1)[0].chunk.source == "intro.md"
    assert kb.index.search("prefill", 5) == [] and kb.report.removed == 1


def test_refresh_picks_up_changes_while_running(folder: Path, settings: Settings):
    kb = KnowledgeBase.open(folder, settings)
    (folder / "guides" / "latency.md").write_bytes(b"\x00\x01binary now")
    (folder / "manual.pdf").unlink()
    report = kb.refresh()
    assert dict(report.skipped)["guides/latency.md"] == "binary data, not text"
    # the broken file keeps its previous version (a half-saved edit must not empty the index);
    # the deleted one is gone
    assert kb.index.sources == ["guides/latency.md", "intro.md"]
    assert kb.index.search("prefill", 1)[0].chunk.source == "guides/latency.md"
    restarted = KnowledgeBase.open(folder, settings)  # and so does a restart from the cache
    assert restarted.index.sources == kb.index.sources and restarted.report.parsed == 0
    assert dict(restarted.report.skipped)["guides/latency.md"] == "binary data, not text"


@pytest.mark.parametrize("damage", ["truncate_manifest", "old_version", "truncate_index", "garbage_arrays"])
def test_damaged_cache_is_rebuilt_not_trusted(folder: Path, settings: Settings, damage: str):
    first = KnowledgeBase.open(folder, settings)
    root = next(Path(settings.cache_dir).iterdir())
    manifest = root / "manifest.json"
    generation = next(p for p in root.iterdir() if p.name.startswith("gen-"))
    if damage == "truncate_manifest":
        manifest.write_bytes(manifest.read_bytes()[:40])
    elif damage == "old_version":
        manifest.write_text(manifest.read_text().replace('"version": 1', '"version": 0'))
    elif damage == "truncate_index":
        index_json = generation / "index.json"
        index_json.write_bytes(index_json.read_bytes()[:100])
    else:
        for array in generation.glob("*.npy"):
            array.write_bytes(b"not numpy")
    kb = KnowledgeBase.open(folder, settings)
    assert not kb.report.cache_used and "rebuilt" in kb.report.warnings[0]
    assert kb.index.sources == first.index.sources
    assert kb.index.search("prefill", 3) == first.index.search("prefill", 3)
    assert KnowledgeBase.open(folder, settings).report.cache_used  # and the rebuilt cache is good again


def test_unwritable_cache_dir_runs_without_cache_and_says_so(folder: Path, tmp_path: Path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache folder should be")
    kb = KnowledgeBase.open(folder, Settings(cache_dir=blocker / "cache"))
    assert kb.index.document_count == 3 and not kb.report.cache_used
    assert any("running without a cache" in warning for warning in kb.report.warnings)


def test_changing_chunk_settings_rebuilds(folder: Path, settings: Settings):
    KnowledgeBase.open(folder, settings)
    other = settings.model_copy(update={"chunk_size_tokens": 32, "chunk_overlap_tokens": 0})
    kb = KnowledgeBase.open(folder, other)
    assert kb.report.parsed == 4 and kb.index.size_tokens == 32


def test_each_folder_has_its_own_cache(folder: Path, settings: Settings, tmp_path: Path):
    other = tmp_path / "other"
    shutil.copytree(folder, other)
    (other / "intro.md").unlink()
    KnowledgeBase.open(folder, settings)
    assert "intro.md" not in KnowledgeBase.open(other, settings).index.sources
    assert len(list(Path(settings.cache_dir).iterdir())) == 2


def test_missing_folder_fails_to_open_but_a_vanished_one_keeps_the_index(folder: Path, settings: Settings,
                                                                         tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        KnowledgeBase.open(tmp_path / "nowhere", settings)
    kb = KnowledgeBase.open(folder, settings)
    folder.rename(tmp_path / "moved")
    report = kb.refresh()
    assert kb.index.document_count == 3 and "missing" in report.warnings[0]
