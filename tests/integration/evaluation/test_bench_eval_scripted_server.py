"""`ragstage bench` and `ragstage eval` end to end against a scripted OpenAI-compatible server:
the whole pipeline and every report file in seconds, plus what happens when a target is down."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from eval_fixtures import FILLER, check_bench_report, check_eval_report, use_environment, write_inputs
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


def _write_per_language_suite(folder: Path) -> Path:
    """The scripted gold suite as `en`, plus a Chinese version of it (ours) under the same ids."""
    english = _write_gold_suite(folder)
    for kind in ("passages", "qa"):
        (english / f"{kind}.jsonl").rename(english / f"{kind}.en.jsonl")
    passages = [
        {"id": "Scripted_p1", "title": "脚本回复", "text": "脚本服务器总是说答案是 scripted text。"},
        {"id": "Ports_p1", "title": "端口", "text": "Ollama 默认监听 11434 端口。"},
        *({"id": f"Filler_p{n}", "title": "笔记", "text": f"关于{topic}的一条短笔记。"}
          for n, topic in enumerate(("春天种番茄", "调自行车变速", "烤酸面包", "刷篱笆"))),
    ]
    questions = [
        {"id": "say", "question": "脚本服务器总是说什么？", "answers": ["scripted text"], "passage_id": "Scripted_p1"},
        {"id": "port", "question": "Ollama 默认监听哪个端口？", "answers": ["11434"], "passage_id": "Ports_p1"},
        {"id": "bread", "question": "烤的是什么？", "answers": ["酸面包"], "passage_id": "Filler_p2"},
    ]
    for name, rows in (("passages.zh.jsonl", passages), ("qa.zh.jsonl", questions)):
        (folder / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return folder


def test_eval_per_language_reports_each_language_against_english(remote_env, tmp_path, capsys):
    suite = _write_per_language_suite(tmp_path / "xquad-like")
    out = tmp_path / "lang-eval"
    code = main(["eval", "--modes", "slm", "--suite", str(suite), "--lang", "all", "--sample", "2", "--seed", "7",
                 "--out", str(out)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    document = json.loads((out / "eval.json").read_text(encoding="utf-8"))
    assert document["languages"] == ["en", "zh"]
    by_lang = {s["lang"]: s for s in document["summary"]}
    assert set(by_lang) == {"en", "zh"} and all(s["questions"] == 2 for s in by_lang.values())
    for lang in ("en", "zh"):  # the same sampled questions in both languages
        assert [r["question_id"] for r in document["records"] if r["lang"] == lang] == ["say", "port"]
        assert by_lang[lang]["hit_at_5"] == 1.0  # both gold passages retrieved, in Chinese too
    zh = {r["question_id"]: r for r in document["records"] if r["lang"] == "zh"}
    assert zh["say"]["contains_gold"] and zh["say"]["gold_cited"]  # "scripted text" in the scripted reply
    ratio = next(r["ratio"] for r in document["contains_gold_vs_en"] if r["lang"] == "zh")
    assert ratio == by_lang["zh"]["contains_gold"] / by_lang["en"]["contains_gold"]
    markdown = (out / "eval.md").read_text(encoding="utf-8")
    assert "| zh | slm | ok | 2 | 100% |" in markdown and f"{ratio:.2f}x" in markdown
    assert "![hit@5, contains gold and gold cited per language](eval-languages.png)" in markdown
    assert (out / "eval-languages.png").read_bytes().startswith(b"\x89PNG")
    assert "zh slm: ok; hit@5 100%" in printed.out and "x en)" in printed.out


def test_eval_runs_only_the_languages_asked_for(remote_env, tmp_path, capsys):
    suite = _write_per_language_suite(tmp_path / "xquad-like")
    out = tmp_path / "zh-eval"
    assert main(["eval", "--modes", "slm", "--suite", str(suite), "--lang", "zh", "--limit", "1", "--out", str(out)]) == 0
    document = json.loads((out / "eval.json").read_text(encoding="utf-8"))
    assert document["languages"] == ["zh"] and [r["lang"] for r in document["records"]] == ["zh"]
    assert main(["eval", "--suite", str(suite), "--lang", "xx"]) == 2
    assert "no suite for language xx; this folder has en, zh (or all)" in capsys.readouterr().err
    assert main(["eval", "--suite", str(suite)]) == 2
    assert "choose with --lang" in capsys.readouterr().err


def _write_gold_suite(folder: Path) -> Path:
    passages = [
        {"id": "Scripted_p1", "title": "Scripted replies", "text": "The scripted server always says the answer is scripted text."},
        {"id": "Ports_p1", "title": "Ports", "text": "Ollama listens on port 11434 by default."},
        *({"id": f"Filler_p{n}", "title": "Notes", "text": f"A short note about {topic}."} for n, topic in enumerate(FILLER)),
    ]
    questions = [
        {"id": "say", "question": "What does the scripted server always say?", "answers": ["scripted text"],
         "passage_id": "Scripted_p1"},
        {"id": "port", "question": "Which port does Ollama listen on?", "answers": ["11434"], "passage_id": "Ports_p1"},
        {"id": "bread", "question": "What is baked?", "answers": ["sourdough bread"], "passage_id": "Filler_p2"},
    ]
    folder.mkdir()
    for name, rows in (("passages.jsonl", passages), ("qa.jsonl", questions)):
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return folder


def test_eval_of_a_gold_suite_folder_scores_retrieval_answers_and_citations(remote_env, tmp_path, capsys):
    suite = _write_gold_suite(tmp_path / "gold")
    out = tmp_path / "gold-eval"
    code = main(["eval", "--modes", "slm,llm", "--suite", str(suite), "--sample", "2", "--seed", "7",
                 "--out", str(out), "--json"])
    assert code == 0, capsys.readouterr().err
    document = json.loads((out / "eval.json").read_text())
    assert document["kind"] == "ragstage-eval-gold" and document["questions"] == 2 and document["seed"] == 7
    for mode in ("slm", "llm"):  # seed 7 draws these two of the three, in file order
        assert [r["question_id"] for r in document["records"] if r["mode"] == mode] == ["say", "port"]
    records = {r["question_id"]: r for r in document["records"] if r["mode"] == "slm"}
    say, port = records["say"], records["port"]  # the scripted reply: "According to [1], the answer is scripted text ..."
    assert say["gold_rank"] == 1 and say["shown"][0]["source"] == "Scripted_p1.txt"
    assert say["contains_gold"] and say["gold_cited"] and say["cited_sources"] == ["Scripted_p1.txt"]
    assert say["gold_cited_by_model"] and say["support_score"] == 1.0
    # "[1] ... the answer is scripted text" is not what the ports passage says: the model's [1]
    # counts as its own citation, but attribution rejects it and the sentence stays unsupported
    assert port["gold_rank"] == 1 and port["gold_cited_by_model"] and not port["gold_cited"]
    assert not port["contains_gold"] and port["support_score"] == 0.0
    for summary in document["summary"]:
        assert summary["status"] == "ok" and summary["questions"] == 2
        assert 0 <= summary["contains_gold"] <= 1 and summary["total_ms"]["p95"] >= summary["total_ms"]["p50"] > 0
    assert "| en | slm | ok | 2 |" in (out / "eval.md").read_text()
    assert (Path(document["knowledge"]) / "Ports_p1.txt").read_text(encoding="utf-8").startswith("Ports\n\n")


def test_eval_refuses_a_knowledge_folder_beside_a_suite_folder(remote_env, tmp_path, capsys):
    suite = _write_gold_suite(tmp_path / "gold")
    assert main(["eval", "--suite", str(suite), "--knowledge", str(tmp_path)]) == 2
    assert "--knowledge cannot be combined with a suite folder" in capsys.readouterr().err
