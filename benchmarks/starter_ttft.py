"""Time to first token of the SLM on the default knowledge's starter questions, as a presenter
clicking them would see it: cold (prompt cache off, every prompt processed in full) and warmed
(the app's default: the starters' prompts processed after launch, `Runtime.warm_questions`).

Each starter is asked once per condition through the app's own pipeline (slm mode, default
settings, embedded servers). Prints every TTFT, the p50 of each condition against the target
(<= 4 s), the prompt size and the 1-minute load average (a busy machine makes prefill slower).

Usage: nice .venv/bin/python benchmarks/starter_ttft.py [--repeat 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Sequence

from ragstage.runtime import Runtime
from ragstage.settings import Settings
from ragstage.ui.welcome import starters

TARGET_S = 4.0


async def ttfts(settings: Settings, questions: Sequence[str], warm: bool, repeat: int) -> list[tuple[float, int]]:
    """(TTFT s, prompt tokens) of each question, after warming the prompts when `warm`."""
    async with await Runtime.start(settings, warm_roles=("slm",)) as runtime:
        if warm:
            started = time.perf_counter()
            warmed = await runtime.warm_questions(questions)
            print(f"warmed {warmed} starter prompts in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        found = []
        for _ in range(repeat):
            for question in questions:
                result = await runtime.answer(question, runtime.options(mode="slm"))
                found.append((result.metrics.ttft_ms / 1000, result.metrics.usage.prompt_tokens))
                print(f"{'warm' if warm else 'cold'} {found[-1][0]:5.2f} s  {question}", file=sys.stderr, flush=True)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="times each starter is asked per condition")
    args = parser.parse_args(argv)
    questions = [starter.message for starter in starters()]
    settings = Settings(backend="embedded")
    cold = asyncio.run(ttfts(settings.model_copy(update={"embedded_prompt_cache_mb": 0}), questions, False, args.repeat))
    warm = asyncio.run(ttfts(settings, questions, True, args.repeat))
    print(f"{len(questions)} starters, context budget {settings.context_budget_tokens}, top-k {settings.top_k}, "
          f"prompt tokens (o200k) {statistics.mean(t for _, t in cold):.0f} mean, load {os.getloadavg()}")
    for name, found in (("cold (no prompt cache)", cold), ("warmed at launch (default)", warm)):
        p50 = statistics.median(s for s, _ in found)
        verdict = "met" if p50 <= TARGET_S else "missed"
        print(f"SLM TTFT p50 {name}: {p50:.2f} s (target <= {TARGET_S:g} s: {verdict}); "
              f"all: {', '.join(f'{s:.2f}' for s, _ in found)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
