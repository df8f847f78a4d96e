"""`ragstage index` and `ragstage search` through the CLI entry point (main())."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragstage.cli import main


@pytest.fixture
def knowledge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAGSTAGE_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "ttft.md").write_text("# Latency\n\n## TTFT\n\nTime to first token grows with the prompt length.\n")
    (folder / "cost.md").write_text("# Cost\n\nEmulated cloud cost uses prices per million tokens.\n")
    (folder / "demo.md").write_text("# Demo\n\nKeep the projector cable and a spare clicker ready.\n")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7 truncated")
    return folder


def test_index_json_summary(knowledge: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["index", "--knowledge", str(knowledge), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["documents"], summary["chunks"]) == (3, 3)
    assert summary["skipped"] == [{"path": "broken.pdf", "reason": "not a valid PDF (truncated or corrupt)"}]
    assert isinstance(summary["seconds"], float)


def test_index_text_output_lists_skipped_files(knowledge: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["index", "--knowledge", str(knowledge)]) == 0
    out = capsys.readouterr().out
    assert "Indexed 3 documents (3 chunks)" in out and "skipped broken.pdf: not a valid PDF" in out


def test_search_json_hits_carry_citation_fields(knowledge: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["search", "first token latency", "-k", "1", "--knowledge", str(knowledge), "--json"]) == 0
    (hit,) = json.loads(capsys.readouterr().out)
    assert hit["rank"] == 1 and hit["source"] == "ttft.md" and hit["chunk_id"] == "ttft.md#0000"
    assert hit["heading"] == "Latency > TTFT" and hit["page"] is None and "first token" in hit["text"]
    assert hit["score"] > 0 and hit["language"] == "en"


def test_search_output_shows_each_passage_language(knowledge: Path, capsys: pytest.CaptureFixture[str]):
    (knowledge / "ttft.zh.md").write_text("# 延迟\n\n首个词元的等待时间随提示长度增加。\n", encoding="utf-8")
    assert main(["search", "首个词元的等待时间", "-k", "1", "--knowledge", str(knowledge)]) == 0
    first_line = capsys.readouterr().out.splitlines()[0]
    assert first_line.startswith("[1] ") and first_line.endswith("ttft.zh.md  [zh]  (延迟)")


def test_search_batch_prints_one_line_per_query(knowledge: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"id": "a", "text": "cloud prices"}\n\n{"id": 7, "text": "zeppelin"}\n')
    assert main(["search", "--queries", str(queries), "--knowledge", str(knowledge)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["id"] for line in lines] == ["a", 7]
    assert lines[0]["hits"][0]["source"] == "cost.md" and lines[1]["hits"] == []


@pytest.mark.parametrize(
    "argv",
    [
        ["search", "x", "--knowledge", "no/such/folder"],
        ["index", "--knowledge", "no/such/folder"],
        ["search", "--knowledge", "docs"],  # neither QUERY nor --queries
        ["search", "x", "-k", "0", "--knowledge", "docs"],
        ["search", "--queries", "missing.jsonl", "--knowledge", "docs"],
    ],
)
def test_bad_arguments_exit_2_with_one_line(knowledge: Path, capsys: pytest.CaptureFixture[str], argv: list[str]):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("ragstage: error: ") and err.count("\n") == 1


def test_malformed_queries_file_exits_2_naming_the_line(knowledge: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]):
    queries = tmp_path / "bad.jsonl"
    queries.write_text('{"id": 1, "text": "ok"}\nnot json\n')
    assert main(["search", "--queries", str(queries), "--knowledge", str(knowledge)]) == 2
    assert "bad.jsonl:2" in capsys.readouterr().err
