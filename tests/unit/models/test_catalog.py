"""How the catalog resolves roles: discovery first (unless forced embedded), the embedded default
as fallback with a note saying why, caching, and recovery after a failure.

Embedded servers are replaced by a fake here; tests/integration/models runs the real ones.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ragstage.models import ModelCatalog, ModelUnreachable
from ragstage.models.weights import EmbeddedModelSpec
from ragstage.settings import Settings

VARIANT = "phi-4-mini-instruct-generic-cpu:1"


class FakeServer:
    """Stands in for EmbeddedServer: counts starts, can be 'killed' or made unhealthy."""

    def __init__(self, spec: EmbeddedModelSpec, settings: Settings) -> None:
        self.spec = spec
        self.starts = 0
        self.alive = False
        self.responsive = True
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def start(self) -> None:
        if not self.alive:
            self.starts += 1
            self.port = 40000 + self.starts
            self.alive = True

    async def ensure_running(self, check_health: bool = False) -> None:
        if not self.alive or (check_health and not self.responsive):
            await self.restart()

    async def restart(self) -> None:
        self.alive, self.responsive = False, True
        await self.start()

    def stop(self) -> None:
        self.alive = False

    async def astop(self) -> None:
        self.stop()


class FakeNetwork:
    """/v1/models answers per host; unknown hosts refuse the connection."""

    def __init__(self) -> None:
        self.hosts: dict[str, list[str]] = {}
        self.probed: list[str] = []

    def transport(self) -> httpx.MockTransport:
        def handler(request: httpx.Request) -> httpx.Response:
            base = f"{request.url.scheme}://{request.url.netloc.decode()}"
            self.probed.append(base)
            if base not in self.hosts:
                raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
            return httpx.Response(200, json={"object": "list", "data": [{"id": i} for i in self.hosts[base]]})

        return httpx.MockTransport(handler)


@pytest.fixture
def network() -> FakeNetwork:
    return FakeNetwork()


@pytest.fixture
def llm_gguf(tmp_path: Path) -> Path:
    path = tmp_path / "My-Local-LLM.Q4.gguf"
    path.write_bytes(b"GGUF")
    return path


def make_catalog(network: FakeNetwork, llm_gguf: Path, environ: dict | None = None, **overrides) -> ModelCatalog:
    # The SLM role runs the bundled SmolLM2 (a file inside its package: nothing to assemble).
    overrides.setdefault("slm_bundled_model", "smollm2-135m-instruct")
    settings = Settings(_env_file=None, llm_gguf=llm_gguf, discovery_timeout_s=0.5, **overrides)
    return ModelCatalog(settings, environ=environ or {}, discovery_transport=network.transport(), server_factory=FakeServer)


async def test_foundry_local_found_through_its_env_var_is_used_with_the_served_variant_id(network, llm_gguf):
    network.hosts["http://127.0.0.1:61000"] = ["gpt-oss-20b-generic-cpu:2", VARIANT]
    catalog = make_catalog(network, llm_gguf, {"FOUNDRY_LOCAL_ENDPOINT": "http://127.0.0.1:61000"})
    endpoint = await catalog.resolve("slm")
    assert endpoint.backend == "remote"
    assert endpoint.model_id == VARIANT
    assert endpoint.base_url == "http://127.0.0.1:61000/v1"
    assert endpoint.display_name == "phi-4-mini"
    assert VARIANT in endpoint.label()
    assert catalog.embedded_server("slm") is None  # nothing was started


async def test_configured_url_is_tried_after_the_env_var(network, llm_gguf):
    network.hosts["http://gpu-box:8000"] = ["gpt-oss-20b"]
    catalog = make_catalog(network, llm_gguf, {"FOUNDRY_LOCAL_ENDPOINT": "http://127.0.0.1:61000"},
                           llm_base_url="http://gpu-box:8000/v1")
    endpoint = await catalog.resolve("llm")
    assert (endpoint.backend, endpoint.base_url, endpoint.model_id) == ("remote", "http://gpu-box:8000/v1", "gpt-oss-20b")
    assert network.probed == ["http://127.0.0.1:61000", "http://gpu-box:8000"]


async def test_auto_falls_back_to_embedded_and_never_borrows_the_replaced_name(network, llm_gguf):
    catalog = make_catalog(network, llm_gguf)
    endpoint = await catalog.resolve("slm")
    assert endpoint.backend == "embedded"
    assert endpoint.display_name == "SmolLM2-135M-Instruct"
    assert endpoint.model_id == "smollm2-135m-instruct"
    assert endpoint.label() == "SmolLM2-135M-Instruct · llama.cpp (embedded; Foundry Local not reachable at http://localhost:5273/v1)"
    assert "phi-4-mini" not in endpoint.label()


async def test_endpoint_listing_only_other_models_is_rejected(network, llm_gguf):
    network.hosts["http://localhost:5273"] = ["qwen2.5-0.5b-instruct-generic-cpu:3"]
    catalog = make_catalog(network, llm_gguf)
    endpoint = await catalog.resolve("slm")
    assert endpoint.backend == "embedded"
    assert "does not serve phi-4-mini (lists qwen2.5-0.5b-instruct-generic-cpu:3)" in endpoint.note


async def test_forced_remote_with_nothing_serving_the_model_is_a_clear_error(network, llm_gguf):
    network.hosts["http://localhost:5273"] = ["some-other-model"]
    catalog = make_catalog(network, llm_gguf, backend="remote")
    with pytest.raises(ModelUnreachable) as caught:
        await catalog.resolve("slm")
    message = str(caught.value)
    assert "No endpoint serves phi-4-mini" in message and "some-other-model" in message
    assert "RAGSTAGE_BACKEND=auto" in message  # says what to do
    assert catalog.embedded_server("slm") is None
    status = {s.role: s for s in await catalog.status()}
    assert status["slm"].endpoint is None and status["slm"].error == message


async def test_forced_embedded_skips_discovery(network, llm_gguf):
    network.hosts["http://localhost:5273"] = [VARIANT]
    catalog = make_catalog(network, llm_gguf, backend="embedded")
    endpoint = await catalog.resolve("slm")
    assert endpoint.backend == "embedded"
    assert network.probed == []
    assert "RAGSTAGE_BACKEND=embedded" in endpoint.note


async def test_embedded_override_file_is_named_after_the_file(network, llm_gguf):
    catalog = make_catalog(network, llm_gguf, backend="embedded")
    endpoint = await catalog.resolve("llm")
    assert endpoint.display_name == "My-Local-LLM.Q4"
    assert endpoint.model_id == "my-local-llm.q4"


async def test_resolution_is_cached_until_a_failure_is_reported(network, llm_gguf):
    network.hosts["http://localhost:5273"] = [VARIANT]
    catalog = make_catalog(network, llm_gguf)
    first = await catalog.resolve("slm")
    assert await catalog.resolve("slm") == first
    assert len(network.probed) == 1
    del network.hosts["http://localhost:5273"]  # Foundry Local goes away
    catalog.report_failure("slm")
    recovered = await catalog.resolve("slm")
    assert recovered.backend == "embedded"
    assert "Foundry Local not reachable" in recovered.note


async def test_a_dead_embedded_server_is_restarted_on_the_next_resolve(network, llm_gguf):
    catalog = make_catalog(network, llm_gguf, backend="embedded")
    before = await catalog.resolve("slm")
    server = catalog.embedded_server("slm")
    server.alive = False
    after = await catalog.resolve("slm")
    assert server.starts == 2
    assert after.base_url != before.base_url  # the new process listens elsewhere


async def test_an_unresponsive_embedded_server_is_restarted_after_a_reported_failure(network, llm_gguf):
    catalog = make_catalog(network, llm_gguf, backend="embedded")
    await catalog.resolve("slm")
    server = catalog.embedded_server("slm")
    server.responsive = False
    assert (await catalog.resolve("slm")) and server.starts == 1  # no failure reported: not checked
    catalog.report_failure("slm")
    await catalog.resolve("slm")
    assert server.starts == 2


async def test_restart_gives_the_ui_a_fresh_embedded_endpoint(network, llm_gguf):
    catalog = make_catalog(network, llm_gguf, backend="embedded")
    await catalog.resolve("slm")
    endpoint = await catalog.restart("slm")
    assert catalog.embedded_server("slm").starts == 2
    assert catalog.describe()["slm"] == endpoint


async def test_status_lists_each_role_with_what_was_tried(network, llm_gguf):
    network.hosts["http://localhost:5273"] = ["gpt-oss-20b-generic-cpu:1"]
    catalog = make_catalog(network, llm_gguf)
    statuses = {s.role: s.as_json() for s in await catalog.status()}
    assert statuses["llm"]["backend"] == "remote" and statuses["llm"]["served_id"] == "gpt-oss-20b-generic-cpu:1"
    assert statuses["slm"]["backend"] == "embedded" and statuses["slm"]["served_id"] == "smollm2-135m-instruct"
    assert statuses["slm"]["tried"][0]["reachable"] is True
    assert "does not serve phi-4-mini" in statuses["slm"]["tried"][0]["reason"]


async def test_close_stops_every_embedded_server(network, llm_gguf):
    catalog = make_catalog(network, llm_gguf, backend="embedded")
    await catalog.status()  # resolves (starts) every role
    servers = [catalog.embedded_server("slm"), catalog.embedded_server("llm")]
    await catalog.aclose()
    assert not any(server.alive for server in servers)
    assert catalog.describe() == {"slm": None, "llm": None}
