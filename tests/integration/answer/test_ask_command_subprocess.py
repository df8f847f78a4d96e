"""`ragstage ask --json` on a machine with nothing running: it starts the embedded server it
needs, answers, and leaves no server process behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]

DOC = (
    "# Harbor lighthouse\n\nThe Harbor lighthouse was built in 1887. Its lamp is visible for "
    "twenty-two nautical miles. The keeper's cottage now houses a small museum about shipwrecks.\n"
)

OTHER = (
    "# Corner bakery\n\nThe corner bakery opens at six in the morning and sells rye bread, "
    "cinnamon rolls and sourdough. It closes on Mondays.\n"
)

PARK = "# City park\n\nThe city park has a pond, a bandstand and a row of old oak trees.\n"


def _processes_tagged(tag: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get("RAGSTAGE_TEST_TAG") == tag:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def _ask(tmp_path: Path, *args: str, **env_overrides: str) -> tuple[subprocess.CompletedProcess[str], str]:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir(exist_ok=True)
    (knowledge / "lighthouse.md").write_text(DOC, encoding="utf-8")
    (knowledge / "bakery.md").write_text(OTHER, encoding="utf-8")
    (knowledge / "park.md").write_text(PARK, encoding="utf-8")
    tag = uuid.uuid4().hex
    env = dict(
        os.environ,
        RAGSTAGE_TEST_TAG=tag,
        RAGSTAGE_BACKEND="embedded",
        RAGSTAGE_CACHE_DIR=str(tmp_path / "cache"),
        RAGSTAGE_MODELS_DIR=str(REPO / ".ragstage" / "models"),
        RAGSTAGE_MAX_ANSWER_TOKENS="32",
        RAGSTAGE_CONTEXT_BUDGET_TOKENS="400",
        RAGSTAGE_SCORE_FLOOR="0.5",
        **env_overrides,
    )
    completed = subprocess.run(
        [sys.executable, "-m", "ragstage.cli", "ask", *args, "--knowledge", str(knowledge)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    return completed, tag


def test_ask_json_answers_with_citations_timings_usage_and_models(tmp_path: Path) -> None:
    completed, tag = _ask(tmp_path, "When was the Harbor lighthouse built?", "--json", "--mode", "slm", "--k", "2")
    assert completed.returncode == 0, completed.stderr
    payload = json.loads(completed.stdout.strip().splitlines()[-1])
    assert payload["mode"] == "slm" and payload["text"].strip() and payload["error"] is None
    assert all(c["source"] == "lighthouse.md" and c["chunk_id"].startswith("lighthouse.md#") for c in payload["citations"])
    timings = payload["timings"]
    assert 0 <= timings["retrieval_ms"] and 0 < timings["ttft_ms"] <= timings["total_ms"]
    assert payload["usage"]["completion_tokens"] > 0 and payload["usage"]["source"] in ("reported", "counted")
    [stage] = payload["stages"]
    assert (stage["stage"], stage["role"], stage["backend"]) == ("answer", "slm", "embedded")
    assert stage["model_id"] and "Qwen2.5-Coder-0.5B-Instruct" in stage["model"]  # the default SLM
    assert stage["ttft_ms"] == timings["ttft_ms"] and stage["completion_tokens"] == payload["usage"]["completion_tokens"]
    assert [p["source"] for p in payload["prompt_sources"]][:1] == ["lighthouse.md"]
    assert _processes_tagged(tag) == [], "the embedded server stopped with the command"


def test_ask_streams_to_the_terminal_and_reports_sources_and_metrics(tmp_path: Path) -> None:
    # Streaming mechanics on the fastest bundled model; the test above runs the default SLM.
    completed, tag = _ask(tmp_path, "When was the Harbor lighthouse built?", RAGSTAGE_SLM_BUNDLED_MODEL="smollm2-135m-instruct")
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert any(line.startswith("answer (slm) · first token") for line in lines)
    assert lines[-1].startswith("retrieval ")
    assert _processes_tagged(tag) == []


def test_ask_about_an_uncovered_topic_answers_without_a_model(tmp_path: Path) -> None:
    completed, tag = _ask(tmp_path, "quantum chromodynamics gluon", "--json")
    assert completed.returncode == 0, completed.stderr
    payload = json.loads(completed.stdout.strip().splitlines()[-1])
    assert payload["answered_by_model"] is False and payload["stages"] == [] and payload["prompt_sources"] == []
    assert "does not cover" in payload["text"]


def test_ask_with_a_missing_knowledge_folder_is_a_usage_error(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "ragstage.cli", "ask", "anything", "--knowledge", str(tmp_path / "nope")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert completed.returncode == 2 and "no such folder" in completed.stderr
