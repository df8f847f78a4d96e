"""Conversions in the ONNX cache: a manifest decides what counts as done, a conversion runs once,
an interrupted or failed one never counts, and a shortage is refused up front with the numbers.

The conversion itself (torch, transformers, the builder) is replaced by a small script speaking
the same protocol (STEP/OPTIONS lines, files in --out); tests/integration runs the real one."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from ragstage.models import onnx_build
from ragstage.models.onnx_build import ConversionError, Needs, build_onnx, check_resources
from ragstage.models.onnx_models import (
    MANIFEST_NAME,
    OnnxModelMissing,
    conversion_dir,
    file_sha256,
    find_conversion,
    manifest_problem,
    require_conversion,
)

FAKE_CONVERTER = textwrap.dedent('''
    import argparse, os, pathlib, sys
    p = argparse.ArgumentParser(); p.add_argument("--gguf"); p.add_argument("--out"); p.add_argument("--work")
    p.add_argument("--precision"); p.add_argument("--target"); p.add_argument("--extra", nargs="*", default=[])
    a = p.parse_args()
    runs = pathlib.Path(os.environ["FAKE_RUNS"]); runs.write_text(runs.read_text() + "x" if runs.exists() else "x")
    print("STEP 1/2 dequantizing", flush=True)
    print("OPTIONS " + " ".join(a.extra + ["shared_embeddings=true"]), flush=True)
    out = pathlib.Path(a.out); out.mkdir(parents=True)
    (out / "genai_config.json").write_text('{"model": {"context_length": 2048}}')
    (out / "model.onnx").write_bytes(b"onnx" * 10)
    if os.environ.get("FAKE_FAIL"):
        print("Traceback: out of luck", flush=True); sys.exit(int(os.environ["FAKE_FAIL"]))
    print("STEP 2/2 building", flush=True)
''')


class FakeTools:
    installed = True
    python = Path(sys.executable)

    def install(self, progress) -> None:
        return None

    def versions(self) -> dict[str, str]:
        return {"torch": "2.13.0+cpu", "onnxruntime-genai": "0.18.0"}


@pytest.fixture
def gguf(tmp_path: Path) -> Path:
    path = tmp_path / "Tiny-Model.Q4_K_M.gguf"
    path.write_bytes(b"GGUF" + b"\0" * 1000)
    return path


@pytest.fixture
def converter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    script = tmp_path / "fake_convert.py"
    script.write_text(FAKE_CONVERTER)
    runs = tmp_path / "runs"
    monkeypatch.setattr(onnx_build, "CONVERT_SCRIPT", script)
    monkeypatch.setattr(onnx_build, "check_resources", lambda needs, folder: folder.mkdir(parents=True, exist_ok=True))
    monkeypatch.setenv("FAKE_RUNS", str(runs))
    return runs


def test_a_conversion_runs_once_with_progress_and_a_manifest_of_its_source_tools_and_options(gguf, converter, tmp_path):
    said: list[str] = []
    model = build_onnx(gguf, tmp_path / "onnx", "cpu", said.append, tools=FakeTools())
    again = build_onnx(gguf, tmp_path / "onnx", "cpu", said.append, tools=FakeTools())
    assert converter.read_text() == "x", "the second call finds the finished conversion"
    assert again.folder == model.folder == conversion_dir(tmp_path / "onnx", gguf, "cpu")
    assert any(line.startswith("1/2 dequantizing") for line in said) and "already converted" in said[-1]
    manifest = json.loads((model.folder / MANIFEST_NAME).read_text())
    assert manifest["source"] == {"file": gguf.name, "sha256": file_sha256(gguf), "size_bytes": gguf.stat().st_size}
    assert manifest["tools"]["torch"] == "2.13.0+cpu" and manifest["target"] == "cpu"
    assert manifest["options"]["precision"] == "int4" and manifest["options"]["extra_options"] == ["shared_embeddings=true"]
    assert model.files() == {"genai_config.json": 35, "model.onnx": 40}


def test_the_webgpu_target_is_a_separate_conversion_with_its_own_options(gguf, converter, tmp_path):
    cpu = build_onnx(gguf, tmp_path / "onnx", "cpu", lambda _: None, tools=FakeTools())
    gpu = build_onnx(gguf, tmp_path / "onnx", "webgpu", lambda _: None, tools=FakeTools())
    assert cpu.folder != gpu.folder and cpu.version != gpu.version
    assert "use_webgpu_fp32=true" in gpu.manifest["options"]["extra_options"]


@pytest.mark.parametrize(("code", "said"), [(1, "exit code 1"), (-9, "lack of memory")])
def test_a_failed_conversion_leaves_nothing_that_counts_as_done(gguf, converter, tmp_path, monkeypatch, code, said):
    monkeypatch.setenv("FAKE_FAIL", str(code if code > 0 else 0))
    if code < 0:  # a process killed by the kernel (out of memory) shows as -9
        monkeypatch.setattr(onnx_build.subprocess.Popen, "wait", lambda self, timeout=None: -9)
    with pytest.raises(ConversionError, match=said) as failure:
        build_onnx(gguf, tmp_path / "onnx", "cpu", lambda _: None, tools=FakeTools())
    assert "Traceback: out of luck" in str(failure.value) or code < 0
    assert find_conversion(tmp_path / "onnx", gguf, "cpu") is None
    assert not [p for p in (tmp_path / "onnx").iterdir() if p.is_dir()], "no half-made folder is left"


def test_an_interrupted_or_altered_conversion_does_not_count(gguf, converter, tmp_path):
    model = build_onnx(gguf, tmp_path / "onnx", "cpu", lambda _: None, tools=FakeTools())
    (model.folder / "model.onnx").write_bytes(b"truncated")
    assert "model.onnx" in manifest_problem(model.folder)
    assert find_conversion(tmp_path / "onnx", gguf, "cpu") is None
    (model.folder / MANIFEST_NAME).unlink()
    assert manifest_problem(model.folder) == "no manifest (the conversion never finished)"
    build_onnx(gguf, tmp_path / "onnx", "cpu", lambda _: None, tools=FakeTools())
    assert converter.read_text() == "xx" and find_conversion(tmp_path / "onnx", gguf, "cpu") is not None


def test_a_changed_source_file_needs_its_own_conversion(gguf, converter, tmp_path):
    build_onnx(gguf, tmp_path / "onnx", "cpu", lambda _: None, tools=FakeTools())
    gguf.write_bytes(b"GGUF" + b"\1" * 1000)
    with pytest.raises(OnnxModelMissing, match="ragstage models build-onnx --role slm"):
        require_conversion(tmp_path / "onnx", gguf, "cpu", "ragstage models build-onnx --role slm")


def test_a_shortage_of_disk_or_memory_is_refused_before_starting_with_the_numbers(tmp_path):
    needs = Needs.for_gguf(500_000_000, tools_installed=False)
    assert needs.memory_bytes == 6_000_000_000 and needs.disk_bytes == 4_000_000_000 + onnx_build.TOOLS_BYTES
    with pytest.raises(ConversionError, match=r"not enough memory: .* about 6.0 GB available, 1.0 GB is"):
        check_resources(Needs(6_000_000_000, 1), tmp_path, available_memory=1_000_000_000)
    with pytest.raises(ConversionError, match="not enough disk"):
        check_resources(Needs(1, 10**18), tmp_path, available_memory=10**12)
