"""The engine comparison's arithmetic: gold-answer matching, the fixed sample, rates on one
yardstick, and the rule that picks an engine (faster, unless it answers worse)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragstage.evaluation.engine_bench import EngineQuality, EngineRun, EngineSample, choose_engines, summary_row
from ragstage.evaluation.gold_questions import GoldFolderError, contains_gold, load_gold_folder, sample_questions


def run(engine: str, total_ms: float, quality: float, role: str = "llm") -> EngineRun:
    sample = EngineSample(True, ttft_ms=total_ms / 2, decode_ms=total_ms / 2, total_ms=total_ms,
                          prompt_tokens=500, completion_tokens=51)  # fmt: skip
    return EngineRun(role, engine, "Qwen", "ok", None, 3.0, 700.0, (sample,), EngineQuality(50, quality, 0.2, 0))


@pytest.mark.parametrize(
    ("said", "gold", "found"),
    [
        ("It was built in 1887 [1].", ["1887"], True),
        ("The Denver Broncos won.", ["Denver Broncos"], True),
        ("the denver broncos won", ["The Denver Broncos!"], True),
        ("It was 18870 years ago.", ["1887"], False),
        ("No idea.", ["Paris", "France"], False),
    ],
)
def test_an_answer_contains_gold_after_squad_normalisation(said, gold, found):
    assert contains_gold(said, gold) is found


def test_the_quality_sample_is_the_same_on_every_run_and_engine():
    questions = list(range(200))
    assert sample_questions(questions, 50, seed=7) == sample_questions(questions, 50, seed=7)
    assert sample_questions(questions, 50, seed=7) != sample_questions(questions, 50, seed=8)
    assert sample_questions(questions[:10], 50, seed=7) == questions[:10]


def test_rates_use_the_same_token_counts_for_every_engine():
    row = summary_row(run("onnxruntime", 4000, 0.5))
    assert row["prefill_tokens_per_s_p50"] == pytest.approx(500 / 2.0)
    assert row["decode_tokens_per_s_p50"] == pytest.approx(50 / 2.0)
    assert row["contains_gold"] == 0.5 and row["load_s"] == 3.0 and row["peak_rss_mb"] == 700.0


def test_the_faster_engine_is_chosen_only_when_it_answers_nearly_as_well():
    close = [summary_row(run("llama.cpp", 9000, 0.40)), summary_row(run("onnxruntime", 6000, 0.38))]
    assert choose_engines(close)["llm"]["engine"] == "onnxruntime"
    worse = [summary_row(run("llama.cpp", 9000, 0.40)), summary_row(run("onnxruntime", 6000, 0.36))]
    assert choose_engines(worse)["llm"]["engine"] == "llama.cpp"
    failed = [summary_row(run("llama.cpp", 9000, 0.40)), summary_row(EngineRun("llm", "onnxruntime", "", "failed", "no model"))]
    assert choose_engines(failed)["llm"]["engine"] == "llama.cpp"


def test_a_gold_folder_loads_passages_as_documents_and_refuses_bad_lines(tmp_path: Path):
    (tmp_path / "passages.jsonl").write_text(json.dumps({"id": "p1", "title": "Lighthouse", "text": "Built in 1887."}) + "\n")
    (tmp_path / "qa.jsonl").write_text(json.dumps({"id": "q1", "question": "When?", "answers": ["1887"], "passage_id": "p1"}))
    documents, questions = load_gold_folder(tmp_path)
    assert (documents[0].source, documents[0].title) == ("p1", "Lighthouse")
    assert questions[0].answers == ("1887",) and questions[0].passage_id == "p1"
    (tmp_path / "qa.jsonl").write_text("{broken\n")
    with pytest.raises(GoldFolderError, match="qa.jsonl:1"):
        load_gold_folder(tmp_path)
