import json

from eval_builders import result, stage
from ragstage.answer import Escalation
from ragstage.evaluation.bench import BenchConfig, TargetRun, answer_sample
from ragstage.evaluation.bench_report import write_bench_report
from ragstage.evaluation.bench_summary import summarize_target
from ragstage.evaluation.eval_report import write_eval_report
from ragstage.evaluation.evaluate import ModeRun, eval_record, summarize_mode
from ragstage.evaluation.suites import BenchPrompt, EvalCase

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CONFIG = BenchConfig(prompts=(BenchPrompt("b1", "What is BM25?"), BenchPrompt("b2", "k1?")), rounds=2, max_tokens=64)


def bench_runs():
    ok = TargetRun("slm", "slm", "ok", None, {"slm": {"label": "SmolLM2 (embedded)", "display_name": "SmolLM2"}},
                   3.0, 1.0, {"slm": 300.0},
                   tuple(answer_sample("slm", r, p, result(stages=(stage(ttft_ms=100 * r),)), 0)
                         for r in (0, 1, 2) for p in ("b1", "b2")))
    hybrid_result = result(stages=(stage("draft"), stage("refine", "llm")), mode="hybrid",
                           escalation=Escalation(True, "short"))
    hybrid = TargetRun("hybrid", "hybrid", "ok", None, {}, 4.0, 2.0, {"slm": 300.0, "llm": 700.0},
                       (answer_sample("hybrid", 1, "b1", hybrid_result, 0),))
    dead = TargetRun("llm", "llm", "failed", "Could not reach the LLM at http://127.0.0.1:1/v1", {}, None, None, {})
    return [ok, hybrid, dead]


def test_bench_report_writes_tables_raw_json_and_charts(tmp_path):
    runs = bench_runs()
    summaries = [summarize_target(r) for r in runs]
    files = write_bench_report(tmp_path / "out", runs, summaries, CONFIG)
    assert set(files) == {"markdown", "json", "latency", "decomposition", "throughput"}
    for name in ("latency", "decomposition", "throughput"):
        assert open(files[name], "rb").read(8) == PNG_MAGIC
    document = json.loads(open(files["json"]).read())
    assert document["config"]["rounds"] == 2 and document["config"]["temperature"] == 0.0
    assert [s["target"] for s in document["summary"]] == ["slm", "hybrid", "llm"]
    assert len(document["runs"][0]["samples"]) == 6  # warm-up kept in the raw data, marked round 0
    stage_json = document["runs"][0]["samples"][1]["stages"][0]
    assert stage_json == runs[0].samples[1].stages[0].to_json()  # the one stage schema
    assert document["summary"][0]["ttft_ms"]["p50"] <= document["summary"][0]["ttft_ms"]["p95"]
    markdown = open(files["markdown"]).read()
    assert "| slm | SmolLM2 | ok | 4/4 |" in markdown and "load at start" in markdown
    assert "auto escalation refined 100% of drafts" in markdown
    assert "**llm** (failed): Could not reach the LLM" in markdown
    assert "![latency](bench-latency.png)" in markdown


def test_bench_report_of_only_failures_still_explains_them(tmp_path):
    runs = [bench_runs()[2]]
    files = write_bench_report(tmp_path, runs, [summarize_target(r) for r in runs], CONFIG)
    assert set(files) == {"markdown", "json"}
    assert "Could not reach the LLM" in open(files["markdown"]).read()


def test_eval_report_puts_quality_latency_and_cost_in_one_table(tmp_path):
    right = EvalCase("q1", "k1?", True, ("1.5",), "bm25.md")
    mars = EvalCase("q2", "Mars?", False, (), None)
    records = (eval_record("slm", right, result("k1 is 1.5 [1].")),
               eval_record("slm", mars, result("The sources do not say.", answered_by_model=True)))
    runs = [ModeRun("slm", "ok", None, {"slm": "SmolLM2"}, records),
            ModeRun("llm", "failed", "Could not reach Qwen", {}, ())]
    summaries = [summarize_mode(r) for r in runs]
    assert summaries[0].quality == 1.0 and summaries[0].hit_at_k == 1.0 and summaries[0].refusal_correctness == 1.0
    meta = {"suite": "s.jsonl", "knowledge": "knowledge", "questions": 2, "top_k": 4, "max_tokens": 64}
    files = write_eval_report(tmp_path, runs, summaries, meta)
    assert open(files["quality_vs_latency"], "rb").read(8) == PNG_MAGIC
    markdown = open(files["markdown"]).read()
    header = next(line for line in markdown.splitlines() if line.startswith("| mode | status"))
    for column in ("quality", "hit@k", "refusal correct", "citation precision", "groundedness",
                   "factuality 1-5", "total p50 ms", "cost / 1k answers"):
        assert f"| {column} |" in header
    assert "**llm** (failed): Could not reach Qwen" in markdown
    document = json.loads(open(files["json"]).read())
    assert document["records"][0]["scores"]["correct"] is True
    answered = document["records"][0]["result"]  # the one answer schema, as `ask --json` prints it
    assert answered == json.loads(json.dumps(records[0].result.to_json()))
    assert answered["text"] == "k1 is 1.5 [1]." and answered["citations"][0]["source"] == "bm25.md"
    assert "factuality" in document["rubric"]
