"""Which embedded engine serves a role, and how its server is started."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragstage.models import engines
from ragstage.models.embedded import launch_command
from ragstage.models.engines import chosen_engine, served_spec
from ragstage.models.onnx_models import MANIFEST_FORMAT, MANIFEST_NAME, OnnxModelMissing, conversion_dir, file_sha256
from ragstage.models.roles import role_config
from ragstage.settings import Settings


@pytest.fixture
def gguf(tmp_path: Path) -> Path:
    path = tmp_path / "Tiny.Q4_1.gguf"
    path.write_bytes(b"GGUF tiny")
    return path


def settings_for(tmp_path: Path, gguf: Path, **values: object) -> Settings:
    return Settings(_env_file=None, slm_gguf=gguf, onnx_dir=tmp_path / "onnx", embedded_threads=2, **values)


def convert(tmp_path: Path, gguf: Path) -> Path:
    """A finished conversion as build-onnx leaves it (files plus manifest)."""
    folder = conversion_dir(tmp_path / "onnx", gguf, "cpu")
    folder.mkdir(parents=True)
    (folder / "genai_config.json").write_text("{}")
    manifest = {"format": MANIFEST_FORMAT, "source": {"sha256": file_sha256(gguf)}, "target": "cpu",
                "files": {"genai_config.json": {"size_bytes": 2}}}  # fmt: skip
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest))
    return folder


def test_the_engine_setting_is_read_through_the_role_table(tmp_path, gguf):
    settings = settings_for(tmp_path, gguf, slm_engine="onnxruntime")
    assert role_config(settings, "slm").engine == "onnxruntime" and role_config(settings, "llm").engine == "auto"


def test_onnxruntime_without_a_conversion_names_the_command_that_makes_one(tmp_path, gguf):
    with pytest.raises(OnnxModelMissing, match=r"run `ragstage models build-onnx --role slm`"):
        served_spec("slm", settings_for(tmp_path, gguf, slm_engine="onnxruntime"))


def test_onnxruntime_serves_the_conversion_of_the_roles_gguf_under_the_same_id(tmp_path, gguf):
    folder = convert(tmp_path, gguf)
    llama = served_spec("slm", settings_for(tmp_path, gguf, slm_engine="llama.cpp"))
    onnx = served_spec("slm", settings_for(tmp_path, gguf, slm_engine="onnxruntime"))
    assert (llama.engine, llama.path) == ("llama.cpp", gguf)
    assert (onnx.engine, onnx.path, onnx.alias) == ("onnxruntime", folder, llama.alias)


def test_auto_takes_the_measured_faster_engine_only_where_it_is_available(tmp_path, gguf, monkeypatch):
    settings = settings_for(tmp_path, gguf)
    spec = served_spec("slm", settings, "llama.cpp")
    assert chosen_engine("slm", settings, spec) == "llama.cpp"
    monkeypatch.setitem(engines.FASTER_ENGINE, spec.alias, "onnxruntime")
    assert chosen_engine("slm", settings, spec) == "llama.cpp", "not converted: llama.cpp stays"
    convert(tmp_path, gguf)
    assert chosen_engine("slm", settings, spec) == "onnxruntime"


def test_each_engine_is_launched_with_its_own_server_and_the_same_threads_and_context(tmp_path, gguf):
    convert(tmp_path, gguf)
    settings = settings_for(tmp_path, gguf, slm_engine="onnxruntime", embedded_ctx_tokens=2048)
    onnx = launch_command(served_spec("slm", settings), 8001, settings)
    llama = launch_command(served_spec("slm", settings, "llama.cpp"), 8002, settings)
    assert onnx[1:3] == ["-m", "ragstage.models.onnx_server"] and llama[1:3] == ["-m", "llama_cpp.server"]
    assert onnx[onnx.index("--threads") + 1] == llama[llama.index("--n_threads") + 1] == "2"
    assert onnx[onnx.index("--n_ctx") + 1] == llama[llama.index("--n_ctx") + 1] == "2048"
