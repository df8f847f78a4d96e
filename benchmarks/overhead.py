"""What ragstage's answer pipeline costs on top of a bare streaming call.

The same question and prompt go (a) through a bare `AsyncOpenAI` streaming loop and (b) through
`ragstage.answer.answer_stream` (retrieval, prompt budget, stage bookkeeping), to the same
server, alternating which goes first, for N rounds. The prompt sent by (a) is the one the
pipeline itself built, captured in an untimed warm-up, so both prefill the same tokens.

llama.cpp reuses the KV cache of a prompt prefix it has just seen, which would let the second
call of a pair skip its prefill; an untimed one-token request with an unrelated prompt runs
before every measured call, so each one pays its full prefill.

Targets (issue 3): pipeline TTFT <= 1.05 x bare + retrieval time; decode tokens/s >= 0.95 x bare.

    .venv/bin/python benchmarks/overhead.py [--rounds 10] [--role slm] [--max-tokens 48] [--json]

With --json the last line is one JSON object (medians, `ttft_ratio`, `decode_tps_ratio`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from openai import AsyncOpenAI

from ragstage.answer import AnswerOptions, Done, Retrieved, Token, answer_stream
from ragstage.models import ROLES, ModelEndpoint, stream_chat
from ragstage.runtime import Runtime
from ragstage.settings import Settings

QUESTION = "How does hybrid mode decide when to send the SLM draft to the LLM?"


@dataclass(frozen=True)
class Run:
    ttft_ms: float  # from the call to the first answer token
    decode_tps: float  # tokens after the first / time from first to last token
    tokens: int
    text: str
    retrieval_ms: float = 0.0


def _run(started: float, stamps: Sequence[float], parts: Sequence[str], retrieval_ms: float = 0.0) -> Run:
    if not stamps:
        raise SystemExit("the model produced no token; nothing to measure")
    decode_s = stamps[-1] - stamps[0]
    tps = (len(stamps) - 1) / decode_s if decode_s > 0 else 0.0
    return Run((stamps[0] - started) * 1000, tps, len(stamps), "".join(parts), retrieval_ms)


async def bare_call(client: AsyncOpenAI, endpoint: ModelEndpoint, messages: list[dict], options: AnswerOptions) -> Run:
    """The baseline: the shortest correct streaming loop over the OpenAI client."""
    stamps: list[float] = []
    parts: list[str] = []
    started = time.perf_counter()
    stream = await client.chat.completions.create(
        model=endpoint.model_id, messages=messages, max_tokens=options.max_answer_tokens,
        temperature=options.temperature, stream=True,
    )  # fmt: skip
    async for chunk in stream:
        text = chunk.choices[0].delta.content if chunk.choices else None
        if text:
            stamps.append(time.perf_counter())
            parts.append(text)
    return _run(started, stamps, parts)


async def pipeline_call(runtime: Runtime, options: AnswerOptions, question: str) -> Run:
    stamps: list[float] = []
    parts: list[str] = []
    retrieval_ms = 0.0
    started = time.perf_counter()
    async for event in runtime.answer_stream(question, options):
        if isinstance(event, Token):
            stamps.append(time.perf_counter())
            parts.append(event.text)
        elif isinstance(event, Retrieved):
            retrieval_ms = event.retrieval_ms
        elif isinstance(event, Done) and event.result.error:
            raise SystemExit(f"pipeline failed: {event.result.error}")
    return _run(started, stamps, parts, retrieval_ms)


async def captured_prompt(runtime: Runtime, options: AnswerOptions, question: str) -> list[dict]:
    """The messages the pipeline sends for `question` (an untimed warm-up call)."""
    sent: list[list[dict]] = []

    async def recording(endpoint: ModelEndpoint, messages: list[dict], params) -> AsyncIterator[object]:
        sent.append(messages)
        async for item in stream_chat(endpoint, messages, params):
            yield item

    async for event in answer_stream(question, index=runtime.knowledge.index, catalog=runtime.catalog,
                                     options=options, stream_fn=recording):  # fmt: skip
        if isinstance(event, Done) and not event.result.answered_by_model:
            raise SystemExit(f"the knowledge base has nothing relevant for {question!r}; pick another --question")
    return sent[0]


async def evict_prompt_cache(client: AsyncOpenAI, endpoint: ModelEndpoint, round_no: int) -> None:
    await client.chat.completions.create(
        model=endpoint.model_id, messages=[{"role": "user", "content": f"Say {round_no}."}], max_tokens=1
    )


async def measure(args: argparse.Namespace) -> dict[str, object]:
    settings = Settings(**({"knowledge_dir": args.knowledge} if args.knowledge else {}))
    async with await Runtime.start(settings, warm_roles=(args.role,)) as runtime:
        options = runtime.options(mode=args.role, max_answer_tokens=args.max_tokens, temperature=0.0)
        endpoint = await runtime.catalog.resolve(args.role)
        client = AsyncOpenAI(base_url=endpoint.base_url, api_key=endpoint.api_key, max_retries=0)
        messages = await captured_prompt(runtime, options, args.question)
        await bare_call(client, endpoint, messages, options)  # warm the client's connection too
        bare: list[Run] = []
        pipeline: list[Run] = []
        for round_no in range(args.rounds):
            order = ("bare", "pipeline") if round_no % 2 == 0 else ("pipeline", "bare")
            for which in order:
                await evict_prompt_cache(client, endpoint, round_no)
                if which == "bare":
                    bare.append(await bare_call(client, endpoint, messages, options))
                else:
                    pipeline.append(await pipeline_call(runtime, options, args.question))
            print(f"round {round_no + 1:2d}: bare ttft {bare[-1].ttft_ms:7.1f} ms {bare[-1].decode_tps:6.1f} tok/s | "
                  f"pipeline ttft {pipeline[-1].ttft_ms:7.1f} ms {pipeline[-1].decode_tps:6.1f} tok/s "
                  f"(retrieval {pipeline[-1].retrieval_ms:.2f} ms)", flush=True)  # fmt: skip
        await client.close()
        return summarize(bare, pipeline, endpoint, messages, args)


def summarize(bare: list[Run], pipeline: list[Run], endpoint: ModelEndpoint, messages: list[dict],
              args: argparse.Namespace) -> dict[str, object]:  # fmt: skip
    median = statistics.median
    bare_ttft, pipe_ttft = median(r.ttft_ms for r in bare), median(r.ttft_ms for r in pipeline)
    bare_tps, pipe_tps = median(r.decode_tps for r in bare), median(r.decode_tps for r in pipeline)
    retrieval = median(r.retrieval_ms for r in pipeline)
    return {
        "model": endpoint.label(),
        "rounds": args.rounds,
        "max_tokens": args.max_tokens,
        "prompt_chars": sum(len(m["content"]) for m in messages),
        "bare_ttft_ms": round(bare_ttft, 2),
        "pipeline_ttft_ms": round(pipe_ttft, 2),
        "retrieval_ms": round(retrieval, 3),
        "bare_decode_tps": round(bare_tps, 2),
        "pipeline_decode_tps": round(pipe_tps, 2),
        "ttft_ratio": round((pipe_ttft - retrieval) / bare_ttft, 4),
        "decode_tps_ratio": round(pipe_tps / bare_tps, 4) if bare_tps else None,
        "same_text": all(b.text == p.text for b, p in zip(bare, pipeline, strict=True)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--role", choices=ROLES, default=ROLES[0])
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--question", default=QUESTION)
    parser.add_argument("--knowledge", type=Path)
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args()
    summary = asyncio.run(measure(args))
    print(f"median TTFT: bare {summary['bare_ttft_ms']} ms, pipeline {summary['pipeline_ttft_ms']} ms "
          f"(retrieval {summary['retrieval_ms']} ms) -> ttft_ratio {summary['ttft_ratio']} (target <= 1.05)")  # fmt: skip
    print(f"median decode: bare {summary['bare_decode_tps']} tok/s, pipeline {summary['pipeline_decode_tps']} tok/s "
          f"-> decode_tps_ratio {summary['decode_tps_ratio']} (target >= 0.95); same text: {summary['same_text']}")  # fmt: skip
    if args.json:
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
