"""Saved indexes and folder caches record the analyzer that made their terms; one made by another
analyzer (an upgrade) is rebuilt, never read back with terms that queries no longer produce."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragstage.knowledge import ChunkIndex, Document, IndexFormatError, KnowledgeBase
from ragstage.knowledge.analyzer import analyzer_version
from ragstage.settings import Settings

OLDER = "ragstage-analyzer 1"  # what the English-only analyzer would be called; caches before it had no field


def _rewrite(path: Path, **changes: object) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path.write_text(json.dumps(data), encoding="utf-8")


@pytest.mark.parametrize("older", [OLDER, None])
def test_an_index_saved_by_another_analyzer_is_refused(tmp_path: Path, older: str | None):
    index = ChunkIndex()
    index.add(Document("a.md", "a", "东京是日本的首都。", "md", "0" * 64))
    index.save(tmp_path)
    assert json.loads((tmp_path / "index.json").read_text(encoding="utf-8"))["analyzer"] == analyzer_version()
    _rewrite(tmp_path / "index.json", analyzer=older)
    with pytest.raises(IndexFormatError, match="analy"):
        ChunkIndex.load(tmp_path)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "tokyo.md").write_text("# 东京\n\n东京是日本的首都，也是人口最多的城市。\n", encoding="utf-8")
    (knowledge / "kyiv.md").write_text("# Київ\n\nКиїв розташований на обох берегах Дніпра.\n", encoding="utf-8")
    return knowledge


@pytest.mark.parametrize("older", [OLDER, None])
def test_a_cache_written_by_an_older_analyzer_is_rebuilt(folder: Path, tmp_path: Path, older: str | None):
    settings = Settings(_env_file=None, cache_dir=tmp_path / "cache")
    first = KnowledgeBase.open(folder, settings)
    manifest_path = next((tmp_path / "cache").glob("*/manifest.json"))
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert manifest["analyzer"] == analyzer_version()
    _rewrite(manifest_path, analyzer=older)
    _rewrite(manifest_path.parent / manifest["generation"] / "index.json", analyzer=older)

    second = KnowledgeBase.open(folder, settings)

    assert second.report.parsed == 2 and not second.report.cache_used and second.report.warnings == ()
    assert second.index.search("日本的首都", 1)[0].chunk.source == "tokyo.md"
    assert json.loads(manifest_path.read_text(encoding="utf-8"))["analyzer"] == analyzer_version()
    third = KnowledgeBase.open(folder, settings)  # and the rebuilt cache is used again
    assert third.report.parsed == 0 and third.report.cache_used and first.index.chunk_count == third.index.chunk_count


def test_an_index_file_from_another_analyzer_under_a_current_manifest_is_not_trusted(folder: Path, tmp_path: Path):
    settings = Settings(_env_file=None, cache_dir=tmp_path / "cache")
    KnowledgeBase.open(folder, settings)
    manifest_path = next((tmp_path / "cache").glob("*/manifest.json"))
    generation = json.loads(manifest_path.read_text(encoding="utf-8"))["generation"]
    _rewrite(manifest_path.parent / generation / "index.json", analyzer=OLDER)

    reopened = KnowledgeBase.open(folder, settings)

    assert reopened.report.parsed == 2 and any("analy" in warning for warning in reopened.report.warnings)
    assert reopened.index.search("Дніпро", 1)[0].chunk.source == "kyiv.md"
