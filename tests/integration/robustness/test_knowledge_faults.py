"""Knowledge-side faults while the app runs: documents that change or vanish, a damaged or
outdated cache (rebuilt, never trusted), and a cache folder that cannot be written (the app runs
without it and says so)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fault_kit import QUESTION
from ragstage.knowledge import KnowledgeBase
from ragstage.settings import Settings

QUESTIONS = (QUESTION, "Who starts the llama.cpp server?", "How do I bake sourdough bread?")


def open_kb(folder: Path, cache_dir: Path) -> KnowledgeBase:
    return KnowledgeBase.open(folder, Settings(knowledge_dir=folder, cache_dir=cache_dir))


def answers(kb: KnowledgeBase) -> list[list[tuple[str, str, float]]]:
    return [[(h.chunk.chunk_id, h.chunk.text, round(h.score, 9)) for h in kb.index.search(q, 3)] for q in QUESTIONS]


def cache_files(cache_dir: Path) -> list[Path]:
    return [p for p in cache_dir.rglob("*") if p.is_file()]


def test_changed_and_deleted_documents_are_picked_up_while_running(knowledge_folder: Path, tmp_path: Path) -> None:
    kb = open_kb(knowledge_folder, tmp_path / "cache")
    assert "0.75" in kb.index.search(QUESTION, 1)[0].chunk.text
    (knowledge_folder / "bm25.md").write_text("# BM25 notes\n\nBM25Okapi default k1 is now 1.2 and default b is 0.6.\n")
    (knowledge_folder / "serving.md").unlink()
    report = kb.refresh()
    assert report.removed == 1 and report.parsed == 1
    top = kb.index.search(QUESTION, 1)[0].chunk
    assert top.source == "bm25.md" and "1.2" in top.text and "0.75" not in top.text
    assert all(h.chunk.source != "serving.md" for h in kb.index.search("llama.cpp server starts stops", 5))
    # and a restart from the cache sees the same folder state, not the old one
    assert answers(open_kb(knowledge_folder, tmp_path / "cache")) == answers(kb)


def test_truncated_cache_is_rebuilt_not_trusted(knowledge_folder: Path, tmp_path: Path) -> None:
    fresh = answers(open_kb(knowledge_folder, tmp_path / "cache"))
    damaged = cache_files(tmp_path / "cache")
    assert damaged, "the first open should have written a cache"
    for path in damaged:
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    kb = open_kb(knowledge_folder, tmp_path / "cache")
    assert not kb.report.cache_used
    assert any("rebuilt" in warning for warning in kb.report.warnings)
    assert answers(kb) == fresh
    assert open_kb(knowledge_folder, tmp_path / "cache").report.cache_used  # the rebuilt cache is good


def test_cache_from_an_older_version_is_rebuilt(knowledge_folder: Path, tmp_path: Path) -> None:
    fresh = answers(open_kb(knowledge_folder, tmp_path / "cache"))
    [manifest] = (tmp_path / "cache").rglob("manifest.json")
    content = json.loads(manifest.read_text())
    content["version"] = 0
    manifest.write_text(json.dumps(content))
    kb = open_kb(knowledge_folder, tmp_path / "cache")
    assert not kb.report.cache_used
    assert any("version" in warning for warning in kb.report.warnings)
    assert answers(kb) == fresh


def test_unwritable_cache_dir_runs_without_cache_and_says_so(knowledge_folder: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should go")  # root ignores chmod; this cannot be bypassed
    fresh = answers(open_kb(knowledge_folder, tmp_path / "good-cache"))
    kb = open_kb(knowledge_folder, blocker / "cache")
    assert answers(kb) == fresh
    assert not kb.report.cache_used
    assert any("without a cache" in warning for warning in kb.report.warnings)

    env = {k: v for k, v in os.environ.items() if not k.startswith("RAGSTAGE_")}
    env["RAGSTAGE_CACHE_DIR"] = str(blocker / "cache")
    done = subprocess.run([sys.executable, "-m", "ragstage.cli", "index", "--knowledge", str(knowledge_folder)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "ragstage: warning:" in done.stderr and "without a cache" in done.stderr
    assert "Indexed 8 documents" in done.stdout
