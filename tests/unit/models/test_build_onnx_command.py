"""`ragstage models build-onnx` and `ragstage bench --engines`: what they convert or compare,
and bad arguments refused in one line before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragstage.cli import main
from ragstage.models import onnx_build
from ragstage.models.onnx_build import ConversionError


@pytest.fixture
def conversions(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    done: list[tuple[str, str]] = []

    class Converted:
        folder = Path("/cache/model")

        def files(self) -> dict[str, int]:
            return {"model.onnx.data": 90_000_000}

    def fake_build(gguf: Path, onnx_dir: Path, target: str, progress) -> Converted:
        done.append((gguf.name, target))
        return Converted()

    monkeypatch.setattr(onnx_build, "build_onnx", fake_build)
    return done


@pytest.mark.parametrize(("argv", "wanted"), [
    ([], {"slm-cpu", "llm-cpu"}),
    (["--role", "slm"], {"slm-cpu"}),
    (["--browser"], {"tab-webgpu", "tab-cpu"}),
    (["--role", "all", "--browser"], {"slm-cpu", "llm-cpu", "tab-webgpu", "tab-cpu"}),
])
def test_build_onnx_converts_the_models_asked_for(conversions, monkeypatch, argv, wanted, capsys):
    from ragstage.models import weights

    names = {"slm": "slm.gguf", "llm": "llm.gguf"}
    monkeypatch.setattr(weights, "embedded_spec",
                        lambda role, settings: weights.EmbeddedModelSpec(role, Path(names[role]), role, role))
    monkeypatch.setattr("ragstage.models.engines.in_tab_gguf", lambda: Path("tab.gguf"))
    assert main(["models", "build-onnx", *argv]) == 0
    assert {f"{name.removesuffix('.gguf')}-{target}" for name, target in conversions} == wanted
    assert "ready, 90 MB" in capsys.readouterr().out


def test_a_failed_conversion_exits_1_with_the_reason(monkeypatch, capsys):
    def failing(*args, **kwargs):
        raise ConversionError("not enough memory: the conversion needs about 6.0 GB available")

    monkeypatch.setattr(onnx_build, "build_onnx", failing)
    assert main(["models", "build-onnx", "--browser"]) == 1
    assert "not enough memory" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), [
    (["--engines", "llama.cpp,vllm"], "unknown engine vllm; choose from llama.cpp, onnxruntime"),
    (["--engines", "llama.cpp,onnxruntime", "--targets", "hybrid"], "--engines compares the embedded models of roles"),
    (["--engines", "onnxruntime", "--quality-suite", "/no/such/folder"], "/no/such/folder is not a folder"),
])
def test_bench_engines_refuses_bad_arguments_in_one_line(argv, message, capsys):
    assert main(["bench", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
