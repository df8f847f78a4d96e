"""The remote path for real: a llama.cpp server standing in for Foundry Local, found through
FOUNDRY_LOCAL_ENDPOINT and used with the variant id it serves; and the fault paths that need
a real socket (nothing listening, a server that accepts but never answers)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest

from ragstage.models import (
    FirstTokenTimeout,
    GenerationParams,
    ModelCatalog,
    ModelEndpoint,
    ModelUnreachable,
    complete_chat,
)
from ragstage.models.embedded import free_port
from ragstage.settings import Settings

QUESTION = [{"role": "user", "content": "Say hello in three words."}]
PARAMS = GenerationParams(max_tokens=8, first_token_timeout_s=120, retries=0)


def remote_settings(**overrides) -> Settings:
    dead = f"http://127.0.0.1:{free_port()}/v1"  # the configured URL: nothing listens there
    return Settings(_env_file=None, backend="remote", slm_base_url=dead, llm_base_url=dead,
                    discovery_timeout_s=2.0, **overrides)


async def test_foundry_standin_is_found_through_its_env_var_and_used_with_its_served_id(
    foundry_standin, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("FOUNDRY_LOCAL_ENDPOINT", foundry_standin.root_url)
    catalog = ModelCatalog(remote_settings(slm_model="phi-4-mini"))
    endpoint = await catalog.resolve("slm")
    assert endpoint.backend == "remote"
    assert endpoint.model_id == "phi-4-mini-instruct-generic-cpu:1"
    assert endpoint.base_url == foundry_standin.base_url
    assert endpoint.display_name == "phi-4-mini"
    completion = await complete_chat(endpoint, QUESTION, PARAMS)
    assert completion.model_id == "phi-4-mini-instruct-generic-cpu:1"
    assert completion.backend == "remote" and completion.text.strip()
    await catalog.aclose()


async def test_an_endpoint_listing_only_other_models_is_rejected(foundry_standin, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FOUNDRY_LOCAL_ENDPOINT", foundry_standin.base_url)
    catalog = ModelCatalog(remote_settings(llm_model="gpt-oss-20b"))
    with pytest.raises(ModelUnreachable) as caught:
        await catalog.resolve("llm")
    assert f"{foundry_standin.base_url} does not serve gpt-oss-20b (lists phi-4-mini-instruct-generic-cpu:1)" in str(
        caught.value
    )
    assert catalog.embedded_server("llm") is None


def test_models_command_reports_the_standin_for_both_roles(foundry_standin, tmp_path):
    env = dict(os.environ, FOUNDRY_LOCAL_ENDPOINT=foundry_standin.root_url, RAGSTAGE_BACKEND="remote",
               RAGSTAGE_LLM_MODEL="phi-4-mini")
    done = subprocess.run([sys.executable, "-m", "ragstage.cli", "models", "--json"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    roles = {entry["role"]: entry for entry in json.loads(done.stdout)["roles"]}
    for role in ("slm", "llm"):
        assert roles[role]["backend"] == "remote"
        assert roles[role]["served_id"] == "phi-4-mini-instruct-generic-cpu:1"
        assert roles[role]["tried"][0]["url"] == foundry_standin.base_url
        assert roles[role]["tried"][0]["reachable"] is True


def _endpoint(base_url: str) -> ModelEndpoint:
    return ModelEndpoint("slm", "phi-4-mini", base_url, "remote", "phi-4-mini", f"remote: phi-4-mini at {base_url}")


async def test_a_server_that_is_not_running_is_reported_unreachable():
    endpoint = _endpoint(f"http://127.0.0.1:{free_port()}/v1")
    with pytest.raises(ModelUnreachable, match="connection refused"):
        await complete_chat(endpoint, QUESTION, GenerationParams(max_tokens=8, first_token_timeout_s=10, retries=1))


async def test_a_server_that_accepts_but_never_answers_times_out_before_the_first_token():
    accepted: list[asyncio.StreamWriter] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)
        await reader.read(65536)  # read the request, answer nothing

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(FirstTokenTimeout, match="no token within 1 s"):
            await complete_chat(_endpoint(f"http://127.0.0.1:{port}/v1"), QUESTION,
                                GenerationParams(max_tokens=8, first_token_timeout_s=1.0, retries=1))
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
