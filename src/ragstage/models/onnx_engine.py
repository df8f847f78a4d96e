"""The model side of the ONNX Runtime server: onnxruntime-genai behind a small token-source seam.

`TokenSource` is all the HTTP layer (`onnx_server`) needs: the prompt's token ids for a list of
chat messages, and the answer's text one token at a time until the end-of-sequence token, the
token limit or a cancellation. `GenAISource` is the real one; unit tests pass a fake.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Sampling:
    """What a request asks of generation (already validated by the HTTP layer)."""

    max_tokens: int
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None


class TokenSource(Protocol):
    context_tokens: int  # the longest prompt + answer the model may hold

    def prompt_ids(self, messages: Sequence[dict[str, str]]) -> list[int]: ...

    def pieces(self, ids: list[int], sampling: Sampling, cancelled: threading.Event) -> Iterator[str]:
        """One text piece per generated token ("" while a character is still incomplete)."""
        ...


def thread_overlay(threads: int) -> str:
    """genai_config overlay: the decoder's ONNX Runtime session uses `threads` CPU threads,
    sized like the llama.cpp servers so that both engines get the same cores."""
    options = {"intra_op_num_threads": threads, "inter_op_num_threads": 1}
    return json.dumps({"model": {"decoder": {"session_options": options}}})


class GenAISource:
    """An onnxruntime-genai model folder (genai_config.json, model.onnx, tokenizer files)."""

    def __init__(self, folder: Path, threads: int, context_tokens: int) -> None:
        import onnxruntime_genai as og

        self._og = og
        config = og.Config(str(folder))
        config.clear_providers()  # the CPU, even for a conversion made for WebGPU (tokenizing for the tab)
        config.overlay(thread_overlay(threads))
        self.model = og.Model(config)
        self.tokenizer = og.Tokenizer(self.model)
        limit = json.loads((folder / "genai_config.json").read_text(encoding="utf-8"))["model"]["context_length"]
        self.context_tokens = min(int(limit), context_tokens)

    def prompt_ids(self, messages: Sequence[dict[str, str]]) -> list[int]:
        """The model's own chat template (shipped with the conversion), then its tokenizer."""
        text = self.tokenizer.apply_chat_template(json.dumps(list(messages)), add_generation_prompt=True)
        return [int(token) for token in self.tokenizer.encode(text)]

    def pieces(self, ids: list[int], sampling: Sampling, cancelled: threading.Event) -> Iterator[str]:
        og = self._og
        params = og.GeneratorParams(self.model)
        search: dict[str, object] = {"max_length": min(len(ids) + sampling.max_tokens, self.context_tokens)}
        if sampling.temperature > 0:
            search |= {"do_sample": True, "temperature": sampling.temperature, "top_p": sampling.top_p}
            if sampling.seed is not None:
                search["random_seed"] = sampling.seed
        else:
            search["do_sample"] = False
        params.set_search_options(**search)
        generator = og.Generator(self.model, params)
        stream = self.tokenizer.create_stream()
        generator.append_tokens(ids)  # the prefill
        produced = 0
        while produced < sampling.max_tokens and not generator.is_done() and not cancelled.is_set():
            generator.generate_next_token()
            if generator.is_done() and self._is_end(generator):
                return
            produced += 1
            yield stream.decode(int(generator.get_next_tokens()[0]))

    def _is_end(self, generator: object) -> bool:
        """Whether the last token is an end-of-sequence token (not text to show)."""
        token = int(generator.get_next_tokens()[0])  # type: ignore[attr-defined]
        return token in set(int(t) for t in self.tokenizer.eos_token_ids)
