"""What `ragstage bench` can measure: a role (`slm`, `llm`), the `hybrid` pipeline, or any
model id on a role's configured endpoint (`llm:qwen2.5-7b-instruct`).

The workshop's `BENCH_MODELS` lists bare model names ("phi-4-mini,gpt-oss-20b"): a bare name
equal to a role's configured model means that role; any other bare name runs on the SLM endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ragstage.answer.modes import MODE_ROLES
from ragstage.models.roles import ROLES, role_config
from ragstage.settings import Settings

TargetMode = Literal["slm", "llm", "hybrid"]
_NAMED: dict[str, tuple[TargetMode, tuple[str, ...]]] = {
    mode: (mode, MODE_ROLES[mode]) for mode in (*ROLES, "hybrid")  # type: ignore[misc]
}


@dataclass(frozen=True)
class BenchTarget:
    name: str  # as shown in reports
    mode: TargetMode  # the answer mode that runs it
    roles: tuple[str, ...]  # model roles it uses
    model_override: str | None = None  # a model id replacing the role's configured model

    def settings_for(self, settings: Settings) -> Settings:
        """The settings a custom model id runs with: its role's endpoint, no embedded fallback
        (falling back would silently measure a different model)."""
        if self.model_override is None:
            return settings
        return settings.model_copy(update={f"{self.mode}_model": self.model_override, "backend": "remote"})


def parse_target(spec: str, settings: Settings) -> BenchTarget:
    spec = spec.strip()
    if spec in _NAMED:
        mode, roles = _NAMED[spec]
        return BenchTarget(spec, mode, roles)
    role, sep, model_id = spec.partition(":")
    if sep and role in ROLES:
        if not model_id.strip():
            raise ValueError(f"target {spec!r} names no model id after '{role}:'")
        return BenchTarget(spec, role, (role,), model_id.strip())  # type: ignore[arg-type]
    for known_role in ROLES:
        if spec == role_config(settings, known_role).model:
            return BenchTarget(spec, known_role, (known_role,))  # type: ignore[arg-type]
    if not spec:
        raise ValueError("empty target name")
    return BenchTarget(f"slm:{spec}", "slm", ("slm",), spec)


def parse_targets(specs: str, settings: Settings) -> list[BenchTarget]:
    """Comma-separated targets, duplicates dropped; ValueError names the accepted forms."""
    targets: dict[str, BenchTarget] = {}
    for spec in specs.split(","):
        if not spec.strip():
            continue
        target = parse_target(spec, settings)
        targets.setdefault(target.name, target)
    if not targets:
        raise ValueError(f"no targets given; choose from {', '.join(_NAMED)} or role:model-id")
    return list(targets.values())
