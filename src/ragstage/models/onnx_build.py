"""`ragstage models build-onnx`: convert a role's GGUF into an ONNX Runtime GenAI model.

Opt-in and reproducible. The conversion needs torch and transformers, which are build tools,
not dependencies of the app: they live in their own environment (installed from the hash-checked
`requirements/onnx-build.lock`, torch being the CPU build), kept in a cache beside the
llama.cpp wheelhouse and deletable at any time. The GGUF is converted by
`scripts/onnx_convert.py` run with that environment's Python; the result goes to a `.partial` folder,
gets its manifest (source sha256, tool versions, options, file sizes) written last, and is then
renamed into place: an interrupted or failed conversion never counts as done, and a finished
one is never redone.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
import venv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from ragstage.models.onnx_models import (
    DEFAULT_PRECISION,
    MANIFEST_FORMAT,
    MANIFEST_NAME,
    OnnxModel,
    conversion_dir,
    file_sha256,
    find_conversion,
)

ROOT = Path(__file__).resolve().parents[3]
BUILD_LOCK = ROOT / "requirements" / "onnx-build.lock"
CONVERT_SCRIPT = ROOT / "scripts" / "onnx_convert.py"
TOOLS_HOME = Path(os.environ.get("RAGSTAGE_ONNX_TOOLS", Path.home() / ".cache" / "ragstage" / "onnx-tools"))
TOOL_PACKAGES = ("torch", "transformers", "onnxruntime-genai", "onnxruntime", "onnx", "gguf", "accelerate")
# Builder options per target (onnx_convert.py adds the embedding options the model's config
# allows). WebGPU keeps fp32 activations: software and older adapters lack shader-f16.
TARGET_OPTIONS: dict[str, tuple[str, ...]] = {"cpu": (), "webgpu": ("use_webgpu_fp32=true",)}
TOOLS_BYTES = 2_200_000_000  # the tools environment, installed once
Progress = Callable[[str], None]


class ConversionError(Exception):
    """The conversion cannot run or failed; the message says why and what to do."""


@dataclass(frozen=True)
class Needs:
    """Free memory and disk a conversion of a GGUF is expected to need (measured: the 0.5B
    Q4_K_M GGUF, 491 MB, peaked at 5.2 GB of memory and wrote ~3 GB of float weights)."""

    memory_bytes: int
    disk_bytes: int

    @classmethod
    def for_gguf(cls, gguf_bytes: int, tools_installed: bool) -> Needs:
        return cls(1_000_000_000 + 10 * gguf_bytes, 8 * gguf_bytes + (0 if tools_installed else TOOLS_BYTES))


def _gb(value: float) -> str:
    return f"{value / 1e9:.1f} GB"


def check_resources(needs: Needs, folder: Path, available_memory: int | None = None) -> None:
    """Refuse early, with the numbers, rather than die of memory half-way through."""
    folder.mkdir(parents=True, exist_ok=True)
    free_disk = shutil.disk_usage(folder).free
    memory = psutil.virtual_memory().available if available_memory is None else available_memory
    if free_disk < needs.disk_bytes:
        raise ConversionError(
            f"not enough disk: the conversion needs about {_gb(needs.disk_bytes)} free in {folder}, "
            f"{_gb(free_disk)} is free; free some space or point RAGSTAGE_ONNX_DIR at a larger disk"
        )
    if memory < needs.memory_bytes:
        raise ConversionError(
            f"not enough memory: the conversion needs about {_gb(needs.memory_bytes)} available, "
            f"{_gb(memory)} is; close other programs (embedded model servers, browsers) and try again"
        )


class BuildTools:
    """The conversion tools' environment, keyed by the lock's content (a new lock, a new one)."""

    def __init__(self, lock: Path = BUILD_LOCK, home: Path = TOOLS_HOME) -> None:
        self.lock = lock
        key = hashlib.sha256(lock.read_bytes()).hexdigest()[:12] if lock.is_file() else "missing"
        self.folder = home / key
        self.python = self.folder / "bin" / "python"
        self._ready = self.folder / ".ragstage-ready"

    @property
    def installed(self) -> bool:
        return self._ready.is_file() and self.python.is_file()

    def install(self, progress: Progress) -> None:
        if self.installed:
            return
        if not self.lock.is_file():
            raise ConversionError(f"{self.lock} is missing: build-onnx needs a ragstage checkout")
        progress(f"installing the conversion tools (torch CPU, transformers, onnxruntime-genai) into {self.folder}; "
                 "first time only, about 2-3 minutes")  # fmt: skip
        shutil.rmtree(self.folder, ignore_errors=True)
        venv.create(self.folder, with_pip=True)
        command = [str(self.python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                   "--require-hashes", "--no-deps", "-r", str(self.lock)]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise ConversionError(f"installing the conversion tools failed:\n{result.stderr[-2000:]}")
        self._ready.write_text(self.lock.name)

    def versions(self) -> dict[str, str]:
        code = ("import json, sys; from importlib import metadata as m; "
                f"print(json.dumps({{p: m.version(p) for p in {list(TOOL_PACKAGES)!r}}} | "
                "{'python': sys.version.split()[0]}))")  # fmt: skip
        return json.loads(subprocess.run([str(self.python), "-c", code], capture_output=True, text=True, check=True).stdout)


def _run_conversion(tools: BuildTools, gguf: Path, partial: Path, target: str, progress: Progress) -> tuple[float, list[str]]:
    """Run onnx_convert.py in the tools environment; its STEP lines become progress, the rest
    goes to a log whose tail is shown if it fails. Returns the seconds it took and the builder
    options it used."""
    log_path = partial.with_name(partial.name + ".log")
    command = [str(tools.python), str(CONVERT_SCRIPT), "--gguf", str(gguf), "--out", str(partial),
               "--work", str(partial.with_name(partial.name + ".work")), "--precision", DEFAULT_PRECISION,
               "--target", target, "--extra", *TARGET_OPTIONS[target]]  # fmt: skip
    started, options = time.monotonic(), list(TARGET_OPTIONS[target])
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            if line.startswith("STEP"):
                progress(f"{line[5:].strip()} [{time.monotonic() - started:.0f} s]")
            elif line.startswith("OPTIONS"):
                options = line.split()[1:]
        code = process.wait()
    if code != 0:
        tail = log_path.read_text(encoding="utf-8", errors="replace")[-2500:]
        why = ("it was killed (exit -9), most likely for lack of memory: close other programs and retry"
               if code in (-9, 137) else f"exit code {code}")  # fmt: skip
        raise ConversionError(f"converting {gguf.name} failed: {why}. Log {log_path} ends with:\n{tail}")
    log_path.unlink(missing_ok=True)
    return time.monotonic() - started, options


def write_manifest(folder: Path, gguf: Path, target: str, tools: dict[str, str], seconds: float,
                   builder_options: list[str]) -> dict[str, object]:  # fmt: skip
    """The manifest, written last: what was converted, with what, how, and the files' sizes."""
    files = {p.name: {"size_bytes": p.stat().st_size} for p in sorted(folder.iterdir()) if p.is_file()}
    manifest = {
        "format": MANIFEST_FORMAT,
        "source": {"file": gguf.name, "sha256": file_sha256(gguf), "size_bytes": gguf.stat().st_size},
        "target": target,
        "options": {"precision": DEFAULT_PRECISION, "execution_provider": target,
                    "extra_options": builder_options, "dequantized_with": "transformers float32"},
        "tools": tools,
        "files": files,
        "seconds": round(seconds, 1),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }  # fmt: skip
    temporary = folder / f".{MANIFEST_NAME}.tmp"
    temporary.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    os.replace(temporary, folder / MANIFEST_NAME)
    return manifest


def build_onnx(gguf: Path, onnx_dir: Path, target: str, progress: Progress = print,
               tools: BuildTools | None = None) -> OnnxModel:  # fmt: skip
    """Convert `gguf` for `target` unless a complete conversion exists; return it."""
    found = find_conversion(onnx_dir, gguf, target)
    if found is not None:
        progress(f"{gguf.name} ({target}): already converted in {found.folder}")
        return found
    tools = tools or BuildTools()
    final = conversion_dir(onnx_dir, gguf, target)
    check_resources(Needs.for_gguf(gguf.stat().st_size, tools.installed), final.parent)
    tools.install(progress)
    partial = final.with_name(f".{final.name}.{os.getpid()}.partial")
    for leftover in (partial, partial.with_name(partial.name + ".work"), final):
        shutil.rmtree(leftover, ignore_errors=True)  # an unfinished folder is never reused
    try:
        seconds, options = _run_conversion(tools, gguf, partial, target, progress)
        write_manifest(partial, gguf, target, tools.versions(), seconds, options)
        os.replace(partial, final)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    progress(f"{gguf.name} ({target}): converted in {seconds:.0f} s into {final}")
    converted = find_conversion(onnx_dir, gguf, target)
    if converted is None:
        raise ConversionError(f"the conversion of {gguf.name} finished but {final} does not check out")
    return converted
