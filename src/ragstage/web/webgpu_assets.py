"""The WebGPU in-tab engine's files: ONNX Runtime Web from npm, the in-tab model's WebGPU
conversion from the ONNX cache. Only these allow-listed files are served; when one is missing
the page keeps the WebAssembly engine and `WebGpuModel.reason` says why and what to run.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ragstage.models.engines import BROWSER_BUILD_COMMAND, in_tab_gguf
from ragstage.models.onnx_models import OnnxModel, OnnxModelMissing, require_conversion
from ragstage.models.weights import WeightsError
from ragstage.settings import Settings

ORT_WEB_DIST = Path("node_modules/onnxruntime-web/dist")
# served name -> media type; the WebGPU build of ONNX Runtime Web and its WebAssembly core
ORT_FILES: dict[str, str] = {
    "ort.webgpu.min.mjs": "text/javascript; charset=utf-8",
    "ort-wasm-simd-threaded.asyncify.mjs": "text/javascript; charset=utf-8",
    "ort-wasm-simd-threaded.asyncify.wasm": "application/wasm",
}
MODEL_FILES = ("genai_config.json", "tokenizer.json", "model.onnx", "model.onnx.data")


def folder_with(roots: list[Path], relative: Path, inside: list[str]) -> Path | None:
    """The first `root / relative` holding every file of `inside` (an npm package's files)."""
    for root in roots:
        folder = root / relative
        if all((folder / name).is_file() for name in inside):
            return folder
    return None


def find_ort_web(roots: list[Path]) -> Path | None:
    return folder_with(roots, ORT_WEB_DIST, list(ORT_FILES))


@dataclass(frozen=True)
class WebGpuModel:
    available: bool
    reason: str  # why not, and what to run; "" when available
    ort_dir: Path | None
    model: OnnxModel | None

    def public_description(self, engine_prefix: str, model_prefix: str, model_name: str) -> dict[str, object]:
        if not self.available or self.model is None:
            return {"available": False, "reason": self.reason}
        files = self.model.files()
        return {
            "available": True, "reason": "", "model_name": model_name,
            "module_url": f"{engine_prefix}/ort.webgpu.min.mjs",
            "wasm_module_url": f"{engine_prefix}/ort-wasm-simd-threaded.asyncify.mjs",
            "wasm_url": f"{engine_prefix}/ort-wasm-simd-threaded.asyncify.wasm",
            "model_base_url": f"{model_prefix}/{self.model.version}",
            "files": {name: files[name] for name in MODEL_FILES},
        }  # fmt: skip

    def model_file(self, version: str, name: str) -> Path | None:
        if self.model is None or version != self.model.version or name not in MODEL_FILES:
            return None
        return self.model.folder / name


def locate_webgpu(roots: list[Path], settings: Settings | None = None) -> WebGpuModel:
    """ONNX Runtime Web and the in-tab model's WebGPU conversion, each with what is missing."""
    ort_dir = find_ort_web(roots)
    problems = [] if ort_dir else ["ONNX Runtime Web is not installed: run `npm ci` in the project folder"]
    model = None
    try:
        model = require_conversion((settings or Settings()).onnx_dir, in_tab_gguf(), "webgpu", BROWSER_BUILD_COMMAND)
    except (OnnxModelMissing, WeightsError) as err:
        problems.append(str(err))
    return WebGpuModel(not problems, "; ".join(problems), ort_dir, model)


@lru_cache(maxsize=2)
def _tokenizer_source(folder: str):  # type: ignore[no-untyped-def]
    from ragstage.models.onnx_engine import GenAISource

    return GenAISource(Path(folder), threads=1, context_tokens=8192)


def in_tab_prompt_ids(model: OnnxModel, messages: list[dict[str, str]]) -> list[int]:
    """The prompt as the in-tab model's token ids, with its own chat template (loaded once)."""
    return _tokenizer_source(str(model.folder)).prompt_ids(messages)
