"""The role table: every model role the app knows, in one place.

Code that does something per role iterates `ROLES` or asks `role_config(settings, role)`
instead of spelling the roles out or choosing with `role == "slm"`. A role's configuration is
its `RAGSTAGE_<ROLE>_*` settings (model, base URL, GGUF or bundled model, engine,
prices) plus the embedded threads; what is fixed per role (its title) is its entry in `ROLE_TABLE`. Adding a
role is one entry here plus its settings fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragstage.metrics import Price
from ragstage.models.bundled import BUNDLED_MODELS, BundledModel
from ragstage.settings import Settings

Role = str  # a key of ROLE_TABLE: "slm" | "llm"


@dataclass(frozen=True)
class RoleEntry:
    """What is fixed about a role; its settings say the rest."""

    title: str  # what people call it on screen


ROLE_TABLE: dict[Role, RoleEntry] = {
    "slm": RoleEntry("small language model"),
    "llm": RoleEntry("large language model"),
}
ROLES: tuple[Role, ...] = tuple(ROLE_TABLE)


@dataclass(frozen=True)
class RoleConfig:
    """One row of the role table as configured: everything the app needs to serve a role."""

    role: Role
    model: str  # the model name (alias) wanted from an OpenAI-compatible server
    base_url: str  # where that server is expected
    gguf: Path | None  # embedded weights chosen by the person (None: the bundled ones)
    price: Price  # hypothetical cloud price, for the emulated cost
    threads: int  # CPU threads of its embedded server (0: sized from the free CPUs)
    bundled: BundledModel  # what its embedded server runs unless `gguf` is set
    engine: str = "auto"  # embedded engine setting: "auto" | "llama.cpp" | "onnxruntime"


def _setting(settings: Settings, role: Role, name: str) -> Any:
    return getattr(settings, f"{role}_{name}")


def role_config(settings: Settings, role: Role) -> RoleConfig:
    """The configured row for `role`; ValueError names the known roles."""
    if role not in ROLE_TABLE:
        raise ValueError(f"unknown model role {role!r}; known roles: {', '.join(ROLES)}")
    return RoleConfig(
        role=role,
        model=_setting(settings, role, "model"),
        base_url=_setting(settings, role, "base_url"),
        gguf=_setting(settings, role, "gguf"),
        price=Price(_setting(settings, role, "input_usd_per_mtok"), _setting(settings, role, "output_usd_per_mtok")),
        threads=settings.embedded_threads,
        bundled=_bundled(settings, role),
        engine=_setting(settings, role, "engine"),
    )


def _bundled(settings: Settings, role: Role) -> BundledModel:
    name = _setting(settings, role, "bundled_model")
    try:
        return BUNDLED_MODELS[name]
    except KeyError:
        raise ValueError(
            f"RAGSTAGE_{role.upper()}_BUNDLED_MODEL is {name!r}; choose one of: {', '.join(BUNDLED_MODELS)}"
        ) from None


def role_configs(settings: Settings) -> dict[Role, RoleConfig]:
    return {role: role_config(settings, role) for role in ROLES}


def default_prices() -> dict[Role, Price]:
    """Each role's price as Settings defaults it (no environment read)."""
    defaults = Settings.model_construct()
    return {role: role_config(defaults, role).price for role in ROLES}
