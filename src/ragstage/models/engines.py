"""The embedded engines: which one serves a role, and the command that starts its server.

Two engines serve the same bundled GGUF models behind the same OpenAI-compatible API:
llama.cpp (`llama_cpp.server`, the GGUF itself) and ONNX Runtime (`ragstage.models.onnx_server`,
a conversion of the GGUF made once by `ragstage models build-onnx`). A role's setting
(`RAGSTAGE_<ROLE>_ENGINE`, read through the role table) names one, or `auto`: the engine
measured faster for that model with answers as good (`FASTER_ENGINE`, from `ragstage bench
--engines`, docs/engines.md), where it is available, else llama.cpp.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from pathlib import Path
from typing import Literal

from ragstage.models.onnx_models import find_conversion, require_conversion
from ragstage.models.roles import Role, role_config
from ragstage.models.threads import thread_counts
from ragstage.models.weights import EmbeddedModelSpec, embedded_spec, smollm2_path
from ragstage.settings import Settings

Engine = Literal["llama.cpp", "onnxruntime"]
ENGINES: tuple[Engine, ...] = ("llama.cpp", "onnxruntime")
DEFAULT_ENGINE: Engine = "llama.cpp"
# Per bundled model (its alias): the engine `ragstage bench --engines` measured faster with
# answer quality within 0.03 of the other (docs/engines.md). Models not listed keep llama.cpp:
# Qwen2.5-Coder-0.5B answers faster on ONNX Runtime but contains the gold answer far less often
# (0.14 vs 0.48) after its int4 re-quantization.
FASTER_ENGINE: dict[str, Engine] = {"smollm2-135m-instruct": "onnxruntime"}


BROWSER_BUILD_COMMAND = "ragstage models build-onnx --browser"


def build_command(role: Role) -> str:
    return f"ragstage models build-onnx --role {role}"


def in_tab_gguf() -> Path:
    """The model the browser tab runs (SmolLM2-135M: small enough for a tab), as a GGUF; the
    WebGPU engine runs its conversion, the WebAssembly engine the GGUF itself."""
    return smollm2_path()


def onnxruntime_installed() -> bool:
    return importlib.util.find_spec("onnxruntime_genai") is not None


def onnx_ready(spec: EmbeddedModelSpec, settings: Settings) -> bool:
    """ONNX Runtime can serve this model now: installed, and the GGUF converted for the CPU."""
    return onnxruntime_installed() and find_conversion(settings.onnx_dir, spec.path, "cpu") is not None


def chosen_engine(role: Role, settings: Settings, spec: EmbeddedModelSpec) -> Engine:
    """The role's setting, or for `auto` the measured faster engine where it is available."""
    setting = role_config(settings, role).engine
    if setting in ENGINES:
        return setting  # type: ignore[return-value]
    preferred = FASTER_ENGINE.get(spec.alias, DEFAULT_ENGINE)
    if preferred == "onnxruntime" and not onnx_ready(spec, settings):
        return DEFAULT_ENGINE
    return preferred


def served_spec(role: Role, settings: Settings, engine: Engine | None = None) -> EmbeddedModelSpec:
    """What the role's embedded server runs: the GGUF (llama.cpp) or its conversion (ONNX
    Runtime). Raises WeightsError, or OnnxModelMissing naming the command that converts it."""
    spec = embedded_spec(role, settings)
    engine = engine or chosen_engine(role, settings, spec)
    if engine == "llama.cpp":
        return spec
    model = require_conversion(settings.onnx_dir, spec.path, "cpu", build_command(role))
    return replace(spec, path=model.folder, engine="onnxruntime")


def onnx_server_command(spec: EmbeddedModelSpec, port: int, settings: Settings, safe_cpu: bool = False) -> list[str]:
    """Our onnxruntime-genai server, with the same threads and context as a llama.cpp server."""
    return [
        sys.executable, "-m", "ragstage.models.onnx_server",
        "--model", str(spec.path),
        "--model_alias", spec.alias,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", str(settings.embedded_ctx_tokens),
        "--threads", str(thread_counts(role_config(settings, spec.role).threads)[1]),
    ]  # fmt: skip
