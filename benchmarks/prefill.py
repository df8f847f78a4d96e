"""Prefill speed of the app's embedded server against raw llama-cpp-python, same model, same
prompt, same run.

The prompt is the app's own grounded prompt for one question over the default knowledge folder
(`ground()`, today's budget). Raw: `llama_cpp.Llama` in this process with each thread count from
1 to the usable CPUs; the best one is the baseline. App: the embedded server the app starts
(`ModelCatalog`, the role's settings: automatic threads, prompt cache). Both stream the same
messages; prefill tok/s = prompt tokens / time to the first streamed token. Each trial starts
the system message with a different run number so no prefix cache can skip the work. Rounds
alternate raw and app so that load from other processes hits both alike; medians are printed
with the ratio app / best raw and the 1-minute load average.

Usage: nice .venv/bin/python benchmarks/prefill.py [--role slm] [--rounds 3] [--question "..."]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

import httpx

from ragstage.answer import ground
from ragstage.models.threads import usable_cpus
from ragstage.models.weights import embedded_spec
from ragstage.runtime import Runtime
from ragstage.settings import Settings

QUESTION = "What is the difference between time to first token and decode speed?"


def _trial_messages(messages: list[dict[str, str]], trial: int) -> list[dict[str, str]]:
    first = dict(messages[0])
    first["content"] = f"Run {trial}. {first['content']}"
    return [first, *messages[1:]]


def raw_prefill(llm: Any, messages: list[dict[str, str]]) -> tuple[int, float]:
    """(prompt tokens, seconds to the first token) for one streamed chat completion."""
    llm.reset()
    prompt_tokens = len(llm.tokenize(_chat_text(llm, messages).encode(), add_bos=False, special=True))
    started = time.perf_counter()
    for chunk in llm.create_chat_completion(messages=messages, max_tokens=2, temperature=0.0, stream=True):
        if chunk["choices"][0]["delta"].get("content"):
            break
    return prompt_tokens, time.perf_counter() - started


def _chat_text(llm: Any, messages: list[dict[str, str]]) -> str:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llm.metadata["tokenizer.chat_template"]
    formatter = Jinja2ChatFormatter(template, eos_token="<|im_end|>", bos_token="")
    return formatter(messages=messages).prompt


async def app_prefill(base_url: str, model_id: str, messages: list[dict[str, str]]) -> float:
    """Seconds to the first streamed token from the app's embedded server."""
    body = {"model": model_id, "messages": messages, "max_tokens": 2, "temperature": 0.0, "stream": True}
    async with httpx.AsyncClient(timeout=600) as http:
        started = time.perf_counter()
        async with http.stream("POST", f"{base_url}/chat/completions", json=body) as reply:
            async for line in reply.aiter_lines():
                if line.startswith("data: {") and json.loads(line[6:])["choices"][0]["delta"].get("content"):
                    return time.perf_counter() - started
    raise RuntimeError("the server streamed no token")


def _median_rate(tokens: int, seconds: Sequence[float]) -> float:
    return tokens / statistics.median(seconds)


async def main_async(args: argparse.Namespace) -> int:
    from llama_cpp import Llama

    settings = Settings(backend="embedded")
    async with await Runtime.start(settings, warm_roles=()) as runtime:
        options = runtime.options()
        messages = ground(args.question, runtime.knowledge.index, options).prompt.as_list()
        endpoint = await runtime.catalog.resolve(args.role)
        server = runtime.catalog.embedded_server(args.role)
        spec = embedded_spec(args.role, settings)
        threads = list(range(1, usable_cpus() + 1))
        raw = {t: Llama(str(spec.path), n_ctx=settings.embedded_ctx_tokens, n_threads=t, n_threads_batch=t,
                        logits_all=False, verbose=False) for t in threads}
        raw_s: dict[int, list[float]] = {t: [] for t in threads}
        app_s: list[float] = []
        tokens = 0
        trial = 0
        for round_no in range(args.rounds + 1):  # round 0 warms both up and is not counted
            for t in threads:
                trial += 1
                tokens, seconds = raw_prefill(raw[t], _trial_messages(messages, trial))
                if round_no:
                    raw_s[t].append(seconds)
            trial += 1
            seconds = await app_prefill(endpoint.base_url, endpoint.model_id, _trial_messages(messages, trial))
            if round_no:
                app_s.append(seconds)
            print(f"round {round_no}: load {os.getloadavg()[0]:.2f}", file=sys.stderr, flush=True)
        rates = {t: _median_rate(tokens, s) for t, s in raw_s.items()}
        best = max(rates, key=rates.get)
        app_rate = _median_rate(tokens, app_s)
        command = server.process.args if server and server.process else []
        print(f"model {spec.path.name}, prompt {tokens} tokens, {args.rounds} rounds, load {os.getloadavg()}")
        for t, rate in rates.items():
            print(f"raw llama-cpp-python, {t} thread(s): prefill {rate:.1f} tok/s (TTFT {statistics.median(raw_s[t]):.2f} s)")
        print(f"app embedded server ({' '.join(command[command.index('--n_threads'):command.index('--n_threads') + 4])}): "
              f"prefill {app_rate:.1f} tok/s (TTFT {statistics.median(app_s):.2f} s)")
        print(f"ratio app / best raw ({best} threads): {app_rate / rates[best]:.2f} (target >= 0.90)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", default="slm", choices=("slm", "llm"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--question", default=QUESTION)
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
