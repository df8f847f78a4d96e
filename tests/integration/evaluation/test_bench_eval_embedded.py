"""`ragstage bench` and `ragstage eval` on 3 questions against the real bundled models
(SmolLM2-135M as the SLM, Qwen2.5-0.5B as the LLM) served by llama.cpp.

The CLI reaches the session's embedded servers as OpenAI-compatible endpoints (no second pair
of servers on 2 cores). One round and a few tokens keep this quick; the assertions are about
the reports people read (files, fields, p50 <= p95, parts adding up to totals), never about
how fast or how right a tiny model is.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from eval_fixtures import check_bench_report, check_eval_report, use_environment, write_inputs
from ragstage.cli import main


@pytest.fixture(scope="module")
def served(embedded_catalog):
    async def resolve_both():
        return [await embedded_catalog.resolve(role) for role in ("slm", "llm")]

    return asyncio.run(resolve_both())


@pytest.fixture
def embedded_env(monkeypatch, tmp_path, served):
    slm, llm = served
    use_environment(monkeypatch, {
        "RAGSTAGE_BACKEND": "remote", "RAGSTAGE_CACHE_DIR": str(tmp_path / "cache"),
        "RAGSTAGE_SLM_BASE_URL": slm.base_url, "RAGSTAGE_SLM_MODEL": slm.model_id,
        "RAGSTAGE_LLM_BASE_URL": llm.base_url, "RAGSTAGE_LLM_MODEL": llm.model_id,
        "RAGSTAGE_CONTEXT_BUDGET_TOKENS": "400", "RAGSTAGE_ESCALATION_POLICY": "auto",
    })
    return served


def test_bench_on_the_embedded_models_writes_consistent_reports(embedded_env, tmp_path, capsys):
    knowledge, _, prompts = write_inputs(tmp_path)
    out = tmp_path / "bench"
    code = main(["bench", "--targets", "slm,llm,hybrid", "--rounds", "1", "--prompts", str(prompts),
                 "--knowledge", str(knowledge), "--out", str(out), "--max-tokens", "24", "--json"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    document = check_bench_report(out, ["slm", "llm", "hybrid"], rounds=1, prompts=3)
    assert printed["summary"] == json.loads(json.dumps(document["summary"]))
    summaries = {s["target"]: s for s in document["summary"]}
    assert summaries["slm"]["peak_rss_mb"]["slm"] > 50  # a llama.cpp process holding a model
    assert summaries["hybrid"]["escalation_rate"] is not None
    assert summaries["slm"]["usage_source"] in {"reported", "counted"}


def test_eval_on_the_embedded_models_scores_every_mode(embedded_env, tmp_path):
    knowledge, suite, _ = write_inputs(tmp_path)
    out = tmp_path / "eval"
    code = main(["eval", "--modes", "slm,llm,hybrid", "--suite", str(suite), "--knowledge", str(knowledge),
                 "--out", str(out), "--max-tokens", "32"])
    assert code == 0
    document = check_eval_report(out, ["slm", "llm", "hybrid"], questions=3)
    records = {(r["mode"], r["case_id"]): r for r in document["records"]}
    assert records[("slm", "k1")]["scores"]["hit_at_k"] is True
    assert all(r["result"]["text"].strip() and r["result"]["error"] is None for r in records.values())
