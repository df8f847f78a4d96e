"""Where the catalog looks for a remote endpoint, and which ids count as the wanted model."""

from __future__ import annotations

import asyncio

import httpx

from ragstage.models.discovery import candidate_urls, discover, fallback_note, match_model_id, normalize_base_url
from ragstage.models.endpoint import ModelEndpoint


def test_foundry_env_comes_first_then_configured_url_then_foundry_default():
    urls = candidate_urls("http://gpu-box:8000/v1", {"FOUNDRY_LOCAL_ENDPOINT": "http://127.0.0.1:61234"})
    assert urls == ["http://127.0.0.1:61234/v1", "http://gpu-box:8000/v1", "http://localhost:5273/v1"]


def test_duplicate_candidates_are_probed_once():
    urls = candidate_urls("http://localhost:5273/v1/", {"FOUNDRY_LOCAL_ENDPOINT": "http://localhost:5273/v1"})
    assert urls == ["http://localhost:5273/v1"]


def test_without_foundry_env_the_configured_url_is_first():
    assert candidate_urls("http://other:1/v1", {}) == ["http://other:1/v1", "http://localhost:5273/v1"]


def test_base_urls_are_normalized_with_or_without_v1():
    assert normalize_base_url("http://h:5273") == "http://h:5273/v1"
    assert normalize_base_url("http://h:5273/") == "http://h:5273/v1"
    assert normalize_base_url(" http://h:5273/v1/ ") == "http://h:5273/v1"


def test_variant_id_starting_with_the_alias_matches_and_is_used_as_served():
    served = ["gpt-oss-20b-cuda-gpu:1", "Phi-4-mini-instruct-generic-cpu:1"]
    assert match_model_id("phi-4-mini", served) == "Phi-4-mini-instruct-generic-cpu:1"


def test_exact_id_wins_over_a_variant():
    assert match_model_id("phi-4-mini", ["phi-4-mini-instruct-generic-cpu:1", "phi-4-mini"]) == "phi-4-mini"


def test_other_models_do_not_match():
    assert match_model_id("phi-4-mini", ["phi-3.5-mini", "qwen2.5-0.5b", "mini-phi-4"]) is None


def _transport(table: dict[str, object]) -> httpx.MockTransport:
    async def handler(request: httpx.Request) -> httpx.Response:
        reply = table.get(f"{request.url.scheme}://{request.url.netloc.decode()}")
        if reply is None:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        if reply == "slow":
            await asyncio.sleep(10)
        if isinstance(reply, int):
            return httpx.Response(reply, text="nope")
        if reply == "html":
            return httpx.Response(200, text="<html></html>")
        return httpx.Response(200, json={"object": "list", "data": [{"id": i} for i in reply]})

    return httpx.MockTransport(handler)


async def test_discovery_stops_at_the_first_endpoint_serving_the_model_and_records_every_probe():
    urls = ["http://a:1/v1", "http://b:2/v1", "http://c:3/v1"]
    transport = _transport({"http://b:2": ["other-model"], "http://c:3": ["phi-4-mini-instruct-generic-cpu:1"]})
    found, probes = await discover("phi-4-mini", urls, 1.0, transport)
    assert found is not None and found.url == "http://c:3/v1"
    assert found.matched_id == "phi-4-mini-instruct-generic-cpu:1"
    assert [p.reachable for p in probes] == [False, True, True]
    assert "does not serve phi-4-mini (lists other-model)" in probes[1].reason


async def test_a_slow_endpoint_counts_as_unreachable_after_the_discovery_timeout():
    found, probes = await discover("phi-4-mini", ["http://slow:1/v1"], 0.2, _transport({"http://slow:1": "slow"}))
    assert found is None
    assert probes[0].reason == "did not answer within 0.2 s"


async def test_http_errors_and_non_model_lists_do_not_count():
    table = {"http://a:1": 404, "http://b:2": "html"}
    found, probes = await discover("phi-4-mini", ["http://a:1/v1", "http://b:2/v1"], 1.0, _transport(table))
    assert found is None
    assert "HTTP 404" in probes[0].reason
    assert "not a model list" in probes[1].reason


async def test_fallback_note_says_why_the_embedded_model_answers():
    transport = _transport({"http://b:2": ["llama-3"]})
    _, probes = await discover("phi-4-mini", ["http://localhost:5273/v1", "http://b:2/v1"], 1.0, transport)
    note = fallback_note("phi-4-mini", probes)
    assert note.startswith("embedded; Foundry Local not reachable at http://localhost:5273/v1")
    assert "http://b:2/v1 does not serve phi-4-mini (lists llama-3)" in note


def test_label_shows_name_and_how_it_was_chosen():
    endpoint = ModelEndpoint("slm", "smollm2-135m-instruct", "http://127.0.0.1:1/v1", "embedded",
                             "SmolLM2-135M-Instruct", "embedded; Foundry Local not reachable at http://localhost:5273/v1")
    assert endpoint.label() == (
        "SmolLM2-135M-Instruct (embedded; Foundry Local not reachable at http://localhost:5273/v1)"
    )
