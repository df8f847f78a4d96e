"""GGUF -> ONNX Runtime GenAI model, run INSIDE the conversion tools' environment.

This file is executed by path with the build environment's Python (torch, transformers,
onnxruntime-genai's model builder), never imported by the app: it uses only the standard
library and those build tools, and knows nothing of ragstage. `ragstage.models.onnx_build`
prepares that environment, calls this script, and owns the manifest and the cache.

Two steps, because the builder cannot read a k-quantized GGUF: transformers dequantizes the
GGUF into an ordinary Hugging Face folder, then the builder quantizes that again (int4 blocks)
into `model.onnx` + `genai_config.json` + tokenizer files. Each step prints one line starting
with `STEP` so the caller can show progress, and one line starting with `OPTIONS` names the
builder options used (for the manifest).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

# The builder must never reach for a model hub: everything comes from the local folder.
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}


def step(number: int, total: int, text: str) -> None:
    print(f"STEP {number}/{total} {text}", flush=True)


def gguf_to_hf(gguf: Path, hf_dir: Path) -> None:
    """Dequantize the GGUF into a Hugging Face folder (config, safetensors, tokenizer)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(max(1, len(os.sched_getaffinity(0))))
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # transformers refuses to save a model it still believes quantized; the weights are plain
    # floats now (dequantized on load), so the marker is stale.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.is_quantized = False
    model.save_pretrained(hf_dir)
    tokenizer.save_pretrained(hf_dir)


def embedding_options(hf_dir: Path) -> list[str]:
    """A model that ties its embedding and LM head (SmolLM2) shares one quantized copy; one
    that does not (Qwen2.5 as its GGUF stores it) gets its embedding quantized too, which
    halves the file (834 -> 395 MB for the 0.5B)."""
    config = json.loads((hf_dir / "config.json").read_text(encoding="utf-8"))
    if config.get("tie_word_embeddings"):
        return ["shared_embeddings=true"]
    return ["op_types_to_quantize=MatMul/Gather"]


def build_onnx(hf_dir: Path, out: Path, cache: Path, precision: str, target: str, extra: list[str]) -> None:
    command = [
        sys.executable, "-m", "onnxruntime_genai.models.builder",
        "-i", str(hf_dir), "-o", str(out), "-p", precision, "-e", target, "-c", str(cache),
    ]  # fmt: skip
    if extra:
        command += ["--extra_options", *extra]
    subprocess.run(command, check=True, env={**os.environ, **OFFLINE})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gguf", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="empty folder for the ONNX model")
    parser.add_argument("--work", type=Path, required=True, help="scratch folder, removed afterwards")
    parser.add_argument("--precision", default="int4")
    parser.add_argument("--target", default="cpu", help="execution provider the model is built for")
    parser.add_argument("--extra", nargs="*", default=[], help="builder --extra_options KEY=VALUE")
    args = parser.parse_args(argv)
    os.environ.update(OFFLINE)
    args.gguf, args.out, args.work = args.gguf.resolve(), args.out.resolve(), args.work.resolve()
    hf_dir, cache = args.work / "hf", args.work / "builder-cache"
    started = time.monotonic()
    try:
        step(1, 2, f"dequantizing {args.gguf.name} with transformers")
        gguf_to_hf(args.gguf, hf_dir)
        extra = [*args.extra, *embedding_options(hf_dir)]
        print(f"OPTIONS {' '.join(extra)}", flush=True)
        step(2, 2, f"building the {args.precision} ONNX model for {args.target} ({time.monotonic() - started:.0f} s so far)")
        build_onnx(hf_dir, args.out, cache, args.precision, args.target, extra)
    finally:
        shutil.rmtree(args.work, ignore_errors=True)
    print(f"DONE in {time.monotonic() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
