"""Converted ONNX Runtime models in the cache: where each lives, and whether it is complete.

A conversion is keyed by what it was made from and for: the source GGUF's sha256, the
execution provider it targets (`cpu` for the server engine, `webgpu` for the browser tab) and
the precision. Its folder holds the onnxruntime-genai files plus `ragstage-onnx.json`, the
manifest, written last (see `onnx_build`): a folder without a manifest that matches the source
and lists files of the recorded sizes is not a conversion, whatever else it holds.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

MANIFEST_NAME = "ragstage-onnx.json"
MANIFEST_FORMAT = 1
DEFAULT_PRECISION = "int4"
TARGETS = ("cpu", "webgpu")
_HASH_BLOCK = 8 * 1024 * 1024


class OnnxModelMissing(Exception):
    """No complete conversion for a model; the message says which command makes one."""


@lru_cache(maxsize=16)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while block := source.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """sha256 of a file, computed once per process for an unchanged file (size and mtime)."""
    stat = path.stat()
    return _sha256(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-") or "model"


def conversion_dir(onnx_dir: Path, gguf: Path, target: str, precision: str = DEFAULT_PRECISION) -> Path:
    """`<onnx_dir>/<gguf name>-<sha256[:12]>-<target>-<precision>`: one folder per source,
    target and precision, shared by every checkout that points at the same cache."""
    stem = _slug(gguf.name.removesuffix(".gguf"))
    return Path(onnx_dir).expanduser() / f"{stem}-{file_sha256(gguf)[:12]}-{target}-{precision}"


@dataclass(frozen=True)
class OnnxModel:
    """A complete conversion: its folder and its manifest."""

    folder: Path
    manifest: dict[str, Any]

    @property
    def target(self) -> str:
        return str(self.manifest["target"])

    @property
    def version(self) -> str:
        """Changes whenever the files may change (source, tools, options): browsers cache by URL."""
        text = json.dumps({k: self.manifest[k] for k in ("source", "tools", "options", "files")}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def files(self) -> dict[str, int]:
        return {name: int(entry["size_bytes"]) for name, entry in self.manifest["files"].items()}


def manifest_problem(folder: Path, source_sha256: str | None = None) -> str | None:
    """Why `folder` is not a complete conversion (of `source_sha256`, if given), or None."""
    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "no manifest (the conversion never finished)"
    except (OSError, ValueError) as err:
        return f"unreadable manifest ({err})"
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        return f"manifest is not format {MANIFEST_FORMAT}"
    if source_sha256 is not None and manifest.get("source", {}).get("sha256") != source_sha256:
        return "manifest names another source file"
    files = manifest.get("files")
    if not isinstance(files, dict) or "genai_config.json" not in files:
        return "manifest lists no genai_config.json"
    for name, entry in files.items():
        path = folder / name
        if not path.is_file() or path.stat().st_size != entry.get("size_bytes"):
            return f"{name} is missing or has another size than the manifest records"
    return None


def find_conversion(onnx_dir: Path, gguf: Path, target: str, precision: str = DEFAULT_PRECISION) -> OnnxModel | None:
    """The complete conversion of `gguf` for `target`, or None."""
    folder = conversion_dir(onnx_dir, gguf, target, precision)
    if manifest_problem(folder, file_sha256(gguf)) is not None:
        return None
    return OnnxModel(folder, json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8")))


def require_conversion(onnx_dir: Path, gguf: Path, target: str, command: str) -> OnnxModel:
    found = find_conversion(onnx_dir, gguf, target)
    if found is None:
        raise OnnxModelMissing(
            f"{gguf.name} has not been converted for ONNX Runtime ({target}) in {Path(onnx_dir).expanduser()}: "
            f"run `{command}` (a few minutes, once per machine)"
        )
    return found
