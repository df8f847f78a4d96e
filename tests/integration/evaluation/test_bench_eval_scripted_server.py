"""`ragstage bench` and `ragstage eval` end to end against a scripted OpenAI-compatible server:
the whole pipeline and every report file in seconds, plus what happens when a target is down."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from eval_fixtures import check_bench_report, check_eval_report, use_environment, write_inputs
from ragstage.cli import main

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))
from scripted_openai_server import ScriptedServerProcess  # noqa: E402

DEAD_URL = "http://127.0.0.1:9/v1"  # discard port: nothing listens


@pytest.fixture
def scripted(tmp_path):
    with ScriptedServerProcess("--model", "scripted-slm", "--model", "scripted-llm", "--tokens", "12",
                               log=tmp_path / "scripted.log") as server:
        yield server


@pytest.fixture
def remote_env(monkeypatch, tmp_path, scripted):
    use_environment(monkeypatch, {
        "RAGSTAGE_BACKEND": "remote", "RAGSTAGE_CACHE_DIR": str(tmp_path / "cache"),
        "RAGSTAGE_SLM_BASE_URL": scripted.base_url, "RAGSTAGE_SLM_MODEL": "scripted-slm",
        "RAGSTAGE_LLM_BASE_URL": scripted.base_url, "RAGSTAGE_LLM_MODEL": "scripted-llm",
        "RAGSTAGE_FIRST_TOKEN_TIMEOUT_S": "5", "RAGSTAGE_REQUEST_RETRIES": "0",
        "RAGSTAGE_DISCOVERY_TIMEOUT_S": "1", "RAGSTAGE_ESCALATION_POLICY": "always",
    })
    return scripted


def test_bench_measures_every_target_and_writes_consistent_reports(remote_env, tmp_path, capsys):
    knowledge, _, prompts = write_inputs(tmp_path)
    out = tmp_path / "bench"
    code = main(["bench", "--targets", "slm,llm,hybrid", "--rounds", "2", "--prompts", str(prompts),
                 "--knowledge", str(knowledge), "--out", str(out), "--max-tokens", "16", "--json"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert [s["target"] for s in printed["summary"]] == ["slm", "llm", "hybrid"]
    document = check_bench_report(out, ["slm", "llm", "hybrid"], rounds=2, prompts=3)
    hybrid = next(s for s in document["summary"] if s["target"] == "hybrid")
    assert hybrid["escalation_rate"] == 1.0  # policy "always"
    assert [st["stage"] for st in hybrid["stages"]] == ["draft", "refine"]
    assert hybrid["peak_rss_mb"]["slm"] > 0  # the scripted server is a local process found by its port


def test_an_unreachable_target_is_reported_and_the_others_still_run(remote_env, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("RAGSTAGE_LLM_BASE_URL", DEAD_URL)
    monkeypatch.setenv("BENCH_MODELS", "llm,slm")  # the workshop's variables as defaults
    monkeypatch.setenv("BENCH_ROUNDS", "1")
    knowledge, _, prompts = write_inputs(tmp_path)
    out = tmp_path / "bench"
    assert main(["bench", "--prompts", str(prompts), "--knowledge", str(knowledge), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "llm: failed" in printed and "slm: ok" in printed
    document = check_bench_report(out, ["slm"], rounds=1, prompts=3)
    llm = next(s for s in document["summary"] if s["target"] == "llm")
    assert llm["status"] == "failed" and "127.0.0.1:9" in llm["error"]
    assert "**llm** (failed)" in (out / "bench.md").read_text()


def test_bench_exits_1_when_no_target_could_be_measured(remote_env, monkeypatch, tmp_path):
    monkeypatch.setenv("RAGSTAGE_SLM_BASE_URL", DEAD_URL)
    knowledge, _, prompts = write_inputs(tmp_path)
    out = tmp_path / "bench"
    assert main(["bench", "--targets", "slm", "--prompts", str(prompts), "--knowledge", str(knowledge),
                 "--out", str(out)]) == 1
    assert json.loads((out / "bench.json").read_text())["summary"][0]["status"] == "failed"


def test_bench_prompt_variable_benchmarks_one_question(remote_env, monkeypatch, tmp_path):
    monkeypatch.setenv("BENCH_PROMPT", "What is the default b of BM25Okapi?")
    knowledge, _, _ = write_inputs(tmp_path)
    out = tmp_path / "bench"
    assert main(["bench", "--targets", "slm", "--rounds", "2", "--knowledge", str(knowledge), "--out", str(out)]) == 0
    document = json.loads((out / "bench.json").read_text())
    assert [p["question"] for p in document["config"]["prompts"]] == ["What is the default b of BM25Okapi?"]
    assert "one prompt repeated" in (out / "bench.md").read_text()


def test_eval_scores_each_mode_and_reports_a_dead_one(remote_env, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("RAGSTAGE_LLM_BASE_URL", DEAD_URL)
    knowledge, suite, _ = write_inputs(tmp_path)
    out = tmp_path / "eval"
    code = main(["eval", "--modes", "slm,llm", "--suite", str(suite), "--knowledge", str(knowledge),
                 "--out", str(out), "--json"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["files"]["markdown"] == str(out / "eval.md")
    document = check_eval_report(out, ["slm"], questions=3)
    llm = next(s for s in document["summary"] if s["mode"] == "llm")
    assert llm["status"] == "failed" and llm["questions"] == 0
    records = {r["case_id"]: r for r in document["records"]}
    assert records["k1"]["scores"]["hit_at_k"] is True  # BM25 finds bm25.md for the k1 question
