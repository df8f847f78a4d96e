"""`ragstage ask`: a grounded answer in the terminal, streamed, or as one JSON object.

Works on a machine with nothing running: the runtime starts the embedded model servers it
needs and stops them when the command ends.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ragstage.answer import AnswerResult, Done, StageFailed, StageFinished, StageStarted, Token
from ragstage.answer.modes import MODES
from ragstage.cli import UsageError
from ragstage.metrics import StageMetrics
from ragstage.settings import Settings

if TYPE_CHECKING:
    from ragstage.knowledge import Chunk

STAGE_TITLES = {"draft": "draft (SLM)", "refine": "refine (LLM)", "slm": "SLM", "llm": "LLM"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ask", help="answer a question from the knowledge folder")
    parser.add_argument("question", help="the question, in quotes")
    parser.add_argument("--mode", choices=list(MODES), help="slm, llm, hybrid (draft->refine) or compare (default: settings)")
    parser.add_argument("--k", type=int, help="passages to retrieve (default: settings)")
    parser.add_argument("--knowledge", type=Path, help="knowledge folder (default: settings)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of streaming")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not args.question.strip():
        raise UsageError("the question is empty")
    if args.k is not None and args.k < 1:
        raise UsageError("--k must be at least 1")
    overrides: dict[str, object] = {}
    if args.knowledge is not None:
        if not args.knowledge.is_dir():
            raise UsageError(f"{args.knowledge}: no such folder")
        overrides["knowledge_dir"] = args.knowledge
    return asyncio.run(_ask(args, Settings(**overrides)))


async def _ask(args: argparse.Namespace, settings: Settings) -> int:
    from ragstage.runtime import Runtime  # imported late: `ragstage --help` stays fast

    option_overrides = {key: value for key, value in (("mode", args.mode), ("top_k", args.k)) if value is not None}
    async with await Runtime.start(settings, warm_roles=()) as runtime:
        options = runtime.options(**option_overrides)
        printer = None if args.json else StreamPrinter(sys.stdout, show_headers=options.mode in ("hybrid", "compare"))
        result: AnswerResult | None = None
        async for event in runtime.answer_stream(args.question, options):
            if printer is not None:
                printer.show(event)
            if isinstance(event, Done):
                result = event.result
    assert result is not None
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))  # the one answer schema
    else:
        print_summary(result, sys.stdout)
    if result.error:
        print(f"ragstage: error: {result.error}", file=sys.stderr)
        return 1
    return 0


class StreamPrinter:
    """Prints tokens as they come. Concurrent stages (compare) would interleave on one
    terminal, so one stage prints live while later ones are buffered, then printed in turn."""

    def __init__(self, out: TextIO, show_headers: bool) -> None:
        self.out = out
        self.show_headers = show_headers
        self.order: list[str] = []  # stages in the order they started
        self.labels: dict[str, str] = {}
        self.buffers: dict[str, list[str]] = {}
        self.ended: set[str] = set()
        self.live: str | None = None

    def show(self, event: object) -> None:
        if isinstance(event, StageStarted):
            self.order.append(event.stage)
            self.labels[event.stage] = event.endpoint.label()
            self.buffers[event.stage] = []
        elif isinstance(event, Token):
            if event.stage == self.live:
                self._write(event.text)
            else:
                self.buffers[event.stage].append(event.text)
        elif isinstance(event, (StageFinished, StageFailed)):
            self.ended.add(event.stage)
        self._advance()

    def _advance(self) -> None:
        """Close the live stage once it ended; bring on the next one that started."""
        while True:
            if self.live is not None:
                if self.live not in self.ended:
                    return
                self._write("\n\n" if self.show_headers else "\n")
            waiting = [stage for stage in self.order if stage in self.buffers]
            if not waiting:
                self.live = None
                return
            self.live = waiting[0]
            if self.show_headers:
                self._write(f"── {STAGE_TITLES.get(self.live, self.live)} · {self.labels[self.live]} ──\n")
            self._write("".join(self.buffers.pop(self.live)))

    def _write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()


def _stage_line(stage: StageMetrics) -> str:
    usage = stage.usage
    return (
        f"{stage.stage} ({stage.role}) · first token {stage.timings.ttft_ms:.0f} ms · "
        f"{stage.decode_tokens_per_s:.1f} tok/s · {stage.timings.total_ms / 1000:.2f} s · "
        f"{usage.prompt_tokens}→{usage.completion_tokens} tokens ({usage.source}) · ${stage.cost_usd:.6f}"
    )


def print_summary(result: AnswerResult, out: TextIO) -> None:
    if not result.answered_by_model:
        out.write(f"{result.text}\nretrieval {result.metrics.retrieval_ms:.1f} ms · no model called\n")
        out.flush()
        return
    if result.escalation is not None:
        verdict = "refined by the LLM" if result.escalation.escalated else "kept the SLM draft"
        out.write(f"hybrid: {verdict} ({result.escalation.reason})\n")
    _write_citations(result, out)
    for stage in result.metrics.stages:
        out.write(_stage_line(stage) + "\n")
    metrics = result.metrics
    out.write(
        f"retrieval {metrics.retrieval_ms:.1f} ms · total {metrics.total_ms / 1000:.2f} s · "
        f"{metrics.usage.prompt_tokens}→{metrics.usage.completion_tokens} tokens · ${metrics.cost_usd:.6f} emulated\n"
    )
    out.flush()


CITATION_HEADINGS = {"model": "Sources (cited by the model):",
                     "computed": "Sources found by sentence attribution (the model did not cite them):"}


def _write_citations(result: AnswerResult, out: TextIO) -> None:
    """Citations by origin, then the sentences no passage supports and the support score."""
    for origin, heading in CITATION_HEADINGS.items():
        citations = [c for c in result.citations if c.origin == origin]
        if citations:
            out.write(heading + "\n" + "".join(f"  [{c.n}] {_where(c.chunk)}\n" for c in citations))
    attribution = result.attribution
    if attribution is None:
        return
    for sentence in attribution.unsupported:
        out.write(f"unsupported by the sources: \"{sentence.span.text}\"\n")
    for sentence in (s for s in attribution.sentences if s.corrected):
        wrong = ", ".join(f"[{n}]" for n in sentence.rejected)
        right = ", ".join(f"[{c.n}]" for c in sentence.citations)
        out.write(f"corrected {wrong} -> {right}: \"{sentence.span.text}\"\n")
    if attribution.support_score is not None:
        out.write(f"support score {attribution.support_score:.0%} (answer sentences supported by the passages)\n")


def _where(chunk: Chunk) -> str:
    heading = f" › {chunk.heading}" if chunk.heading else ""
    page = f" (p. {chunk.page})" if chunk.page is not None else ""
    return f"{chunk.source}{heading}{page}"
