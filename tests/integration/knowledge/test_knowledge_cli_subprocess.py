"""The installed `ragstage` console script indexes and searches real files (PDF, DOCX, Markdown)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
RAGSTAGE = Path(sys.executable).with_name("ragstage")
pytestmark = pytest.mark.skipif(not RAGSTAGE.exists(), reason=f"console script not installed at {RAGSTAGE}")


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"RAGSTAGE_CACHE_DIR": str(cwd / "cache")}
    return subprocess.run([str(RAGSTAGE), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", knowledge)
    (knowledge / "fake.pdf").write_text("this is not a pdf")
    return knowledge


def test_index_then_search_the_shipped_knowledge(folder: Path, tmp_path: Path):
    first = run(["index", "--knowledge", str(folder), "--json"], tmp_path)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["documents"] >= 12 and summary["chunks"] >= summary["documents"]
    assert {"path": "fake.pdf", "reason": "not a valid PDF (no %PDF header)"} in summary["skipped"]
    kinds = {Path(p).suffix for p in os.listdir(folder)}
    assert {".pdf", ".docx", ".md"} <= kinds

    again = json.loads(run(["index", "--knowledge", str(folder), "--json"], tmp_path).stdout)
    assert again["parsed"] == 0 and again["cache_used"] and again["chunks"] == summary["chunks"]

    search = run(["search", "time to first token", "-k", "3", "--knowledge", str(folder), "--json"], tmp_path)
    assert search.returncode == 0, search.stderr
    hits = json.loads(search.stdout)
    assert [h["rank"] for h in hits] == [1, 2, 3]
    assert {"rank", "score", "source", "chunk_id", "heading", "page", "text"} <= hits[0].keys()


def test_pdf_hits_carry_page_numbers(folder: Path, tmp_path: Path):
    pdf = next(p for p in folder.iterdir() if p.suffix == ".pdf" and p.name != "fake.pdf")
    batch = tmp_path / "q.jsonl"
    batch.write_text(json.dumps({"id": "q1", "text": pdf.stem.replace("-", " ")}) + "\n")
    result = run(["search", "--queries", str(batch), "-k", "20", "--knowledge", str(folder)], tmp_path)
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout)
    pdf_hits = [h for h in line["hits"] if h["source"] == pdf.name]
    assert line["id"] == "q1" and pdf_hits and all(isinstance(h["page"], int) for h in pdf_hits)


def test_missing_folder_exits_2_with_one_line(tmp_path: Path):
    result = run(["search", "anything", "--knowledge", str(tmp_path / "nope")], tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == f"ragstage: error: knowledge folder not found: {tmp_path / 'nope'}"
