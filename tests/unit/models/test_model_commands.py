"""`ragstage models`: every role, what was tried, what answers, embedded or remote."""

from __future__ import annotations

import json

import pytest

from ragstage.cli import main
from ragstage.cli.model_commands import render_text
from ragstage.models import EndpointStatus, ModelEndpoint, ProbeResult

UNREACHABLE = ProbeResult("http://localhost:5273/v1", False, (), None, "not reachable (connection refused)")


def test_text_shows_label_served_id_backend_and_each_endpoint_tried():
    endpoint = ModelEndpoint("slm", "smollm2-135m-instruct", "http://127.0.0.1:4000/v1", "embedded",
                             "SmolLM2-135M-Instruct", "embedded; Foundry Local not reachable at http://localhost:5273/v1")
    other = ProbeResult("http://gpu:8000/v1", True, ("llama-3",), None, "does not serve phi-4-mini (lists llama-3)")
    text = render_text([EndpointStatus("slm", "phi-4-mini", "auto", (UNREACHABLE, other), endpoint)])
    assert "slm: SmolLM2-135M-Instruct (embedded; Foundry Local not reachable" in text
    assert "served id smollm2-135m-instruct | embedded | http://127.0.0.1:4000/v1" in text
    assert "tried http://localhost:5273/v1: not reachable (connection refused)" in text
    assert "tried http://gpu:8000/v1: does not serve phi-4-mini (lists llama-3)" in text


def test_json_reports_unavailable_roles_and_exits_1(monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.setenv("RAGSTAGE_BACKEND", "remote")
    monkeypatch.setenv("RAGSTAGE_DISCOVERY_TIMEOUT_S", "0.5")
    monkeypatch.setenv("FOUNDRY_LOCAL_ENDPOINT", "http://127.0.0.1:9")  # discard port: nothing listens
    assert main(["models", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    roles = {entry["role"]: entry for entry in report["roles"]}
    assert set(roles) == {"slm", "llm"}
    assert roles["slm"]["tried"][0] == {
        "url": "http://127.0.0.1:9/v1", "reachable": False, "served_ids": [], "matched_id": None,
        "reason": "not reachable (connection refused)",
    }
    assert roles["slm"]["backend"] is None and "RAGSTAGE_BACKEND=auto" in roles["slm"]["error"]
