"""Shared by the bench/eval integration tests: a small knowledge folder, a 3-question suite,
and the checks every report must pass whichever models produced it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

BM25_NOTE = (
    "# BM25 notes\n\n## Defaults\n\nBM25Okapi ranks passages by term frequency and inverse document "
    "frequency. Its default k1 is 1.5 and its default b is 0.75.\n"
)
PORTS_NOTE = "# Ports\n\nOllama listens on port 11434 by default. Foundry Local picks its own port.\n"
FILLER = ("gardening tomatoes in spring", "tuning a bicycle gear", "baking sourdough bread", "painting a fence")
SUITE = [
    {"id": "k1", "question": "What is the default k1 of BM25Okapi?", "answerable": True, "facts": ["1.5"],
     "source": "bm25.md"},
    {"id": "port", "question": "Which port does Ollama listen on by default?", "answerable": True,
     "facts": ["11434|11,434"], "source": "ports.md"},
    {"id": "mars", "question": "Who was the first person to walk on Mars?", "answerable": False, "facts": [],
     "source": None},
]
PROMPTS = [{"id": case["id"], "question": case["question"]} for case in SUITE]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def write_inputs(folder: Path) -> tuple[Path, Path, Path]:
    """(knowledge folder, suite file, prompt file)"""
    knowledge = folder / "knowledge"
    knowledge.mkdir(parents=True)
    (knowledge / "bm25.md").write_text(BM25_NOTE, encoding="utf-8")
    (knowledge / "ports.md").write_text(PORTS_NOTE, encoding="utf-8")
    for n, topic in enumerate(FILLER):
        (knowledge / f"filler-{n}.md").write_text(f"# Notes on {topic}\n\nA short note about {topic}.\n")
    suite = folder / "suite.jsonl"
    suite.write_text("\n".join(json.dumps(case) for case in SUITE) + "\n", encoding="utf-8")
    prompts = folder / "prompts.jsonl"
    prompts.write_text("\n".join(json.dumps(p) for p in PROMPTS) + "\n", encoding="utf-8")
    return knowledge, suite, prompts


def check_bench_report(out: Path, measured_targets: list[str], rounds: int, prompts: int) -> dict[str, Any]:
    """Files exist, raw samples add up to the summary, percentiles are ordered."""
    document = json.loads((out / "bench.json").read_text())
    markdown = (out / "bench.md").read_text()
    for name in ("bench-latency.png", "bench-decomposition.png", "bench-throughput.png"):
        assert (out / name).read_bytes()[:8] == PNG_MAGIC
    summaries = {s["target"]: s for s in document["summary"]}
    runs = {r["target"]: r for r in document["runs"]}
    for target in measured_targets:
        summary, run = summaries[target], runs[target]
        assert summary["status"] == "ok", summary["error"]
        assert f"| {target} |" in markdown
        measured = [s for s in run["samples"] if s["round"] > 0]
        assert len(measured) == summary["answers"] == rounds * prompts
        assert [s["round"] for s in run["samples"]].count(0) == 1  # one warm-up, kept apart
        for key in ("ttft_ms", "total_ms"):
            dist = summary[key]
            assert dist["min"] <= dist["p50"] <= dist["p95"] <= dist["max"]
        for sample in measured:
            parts = sample["prep_ms"] + sample["retrieval_ms"] + sample["model_ttft_ms"] + sample["decode_ms"]
            assert parts + sample["other_ms"] == pytest.approx(sample["total_ms"], abs=0.01)
            assert 0 <= parts <= sample["total_ms"] + 0.01  # the parts are sequential pieces of the total
            stages = sample["stages"]
            assert sample["prompt_tokens"] == sum(st["prompt_tokens"] for st in stages) > 0
            assert sample["completion_tokens"] == sum(st["completion_tokens"] for st in stages) > 0
            assert sample["cost_usd"] == pytest.approx(sum(st["cost_usd"] for st in stages))
        assert sum(summary["decomposition_ms"].values()) == pytest.approx(summary["total_ms"]["mean"], rel=1e-6)
        assert summary["cost_per_1k_answers_usd"] == pytest.approx(1000 * summary["cost_per_answer_usd"])
        assert summary["cost_per_answer_usd"] > 0 and summary["cold_start_s"] > 0
        assert summary["decode_tokens_per_s_p50"] is None or summary["decode_tokens_per_s_p50"] > 0
    return document


def check_eval_report(out: Path, measured_modes: list[str], questions: int) -> dict[str, Any]:
    document = json.loads((out / "eval.json").read_text())
    markdown = (out / "eval.md").read_text()
    assert (out / "eval-quality-vs-latency.png").read_bytes()[:8] == PNG_MAGIC
    summaries = {s["mode"]: s for s in document["summary"]}
    for mode in measured_modes:
        summary = summaries[mode]
        records = [r for r in document["records"] if r["mode"] == mode]
        assert summary["status"] == "ok", summary["error"]
        assert len(records) == summary["questions"] == questions
        assert (summary["answerable"], summary["unanswerable"]) == (2, 1)
        for share in ("hit_at_k", "fact_recall", "answer_correctness", "refusal_correctness", "quality"):
            assert 0.0 <= summary[share] <= 1.0
        for name in ("coherence", "factuality", "concision"):
            assert 1.0 <= summary["rubric"][name] <= 5.0
        assert summary["quality"] == pytest.approx(sum(r["scores"]["correct"] for r in records) / questions)
        assert summary["total_ms"]["p50"] <= summary["total_ms"]["p95"]
        assert f"| {mode} |" in markdown
    return document


WORKSHOP_VARIABLES = ("BENCH_MODELS", "BENCH_ROUNDS", "BENCH_PROMPT", "BENCH_STREAM", "COMPARE_PROMPT")


def use_environment(monkeypatch, values: dict[str, str]) -> None:
    """Exactly these RAGSTAGE_ settings, and none of the workshop's variables from the shell."""
    for name in WORKSHOP_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
