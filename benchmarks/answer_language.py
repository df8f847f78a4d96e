"""Do the bundled models answer in the question's language? Before and after the instruction.

Questions in Chinese, Russian and German over xquad_tune passages in the same language
(../shared/datasets), and in Ukrainian over the Ukrainian passages written for ragstage
(benchmarks/data/ukrainian_retrieval.jsonl), each answered through ragstage's own pipeline
(`ragstage.answer.answer`: retrieval, grounded prompt, embedded llama.cpp server) with three
versions of the system prompt's language sentence (`ragstage.answer.language`):

- `none`:  no sentence (ragstage before issue 17);
- `same`:  "Write the answer in the language of the question." for every non-English question;
- `named`: what ragstage sends: the language named when the detector is sure, else `same`.

Printed per language and variant: the share of answers written in the question's language (the
detector's top pick for the answer text without its [n] marks), and for xquad the share
containing a gold answer (the eval's `contains_gold`). Temperature 0, fixed sample.

Usage: nice .venv/bin/python benchmarks/answer_language.py --role llm --questions 8 [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ragstage.answer.prompt as prompt_module
from ragstage.answer import AnswerOptions, answer
from ragstage.answer.language import SAME_LANGUAGE_SENTENCE, answer_language_instruction, question_language
from ragstage.evaluation.gold_suite import contains_gold
from ragstage.evaluation.matching import strip_citations
from ragstage.knowledge import ChunkIndex, Document
from ragstage.models import ModelCatalog
from ragstage.settings import Settings

REPO = Path(__file__).resolve().parents[1]
XQUAD = REPO / ".." / "shared" / "datasets" / "xquad_tune"
UKRAINIAN = REPO / "benchmarks" / "data" / "ukrainian_retrieval.jsonl"
VARIANTS: dict[str, Callable[[str], str]] = {
    "none": lambda question: "",
    "same": lambda question: SAME_LANGUAGE_SENTENCE if answer_language_instruction(question) else "",
    "named": answer_language_instruction,
}


@dataclass(frozen=True)
class Case:
    question: str
    answers: tuple[str, ...]  # empty: no gold answer (the Ukrainian set has gold passages only)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _index(passages: list[dict]) -> ChunkIndex:
    index = ChunkIndex()
    index.add_many(Document(f"{p['id']}.txt", p["title"], f"{p['title']}\n\n{p['text']}", "txt", "0" * 64)
                   for p in passages)
    return index


def language_sets(count: int, seed: int) -> dict[str, tuple[ChunkIndex, list[Case]]]:
    sets: dict[str, tuple[ChunkIndex, list[Case]]] = {}
    for lang in ("zh", "ru", "de"):
        questions = random.Random(seed).sample(read_jsonl(XQUAD / f"qa.{lang}.jsonl"), count)
        sets[lang] = (_index(read_jsonl(XQUAD / f"passages.{lang}.jsonl")),
                      [Case(q["question"], tuple(q["answers"])) for q in questions])
    rows = read_jsonl(UKRAINIAN)
    questions = random.Random(seed).sample([r for r in rows if r["kind"] == "question"], count)
    sets["uk"] = (_index([r for r in rows if r["kind"] == "passage"]), [Case(q["question"], ()) for q in questions])
    return sets


def written_in(text: str) -> str:
    body = strip_citations(text).strip()
    return question_language(body)[0] if body else ""


async def measure(settings: Settings, role: str, count: int, seed: int, max_tokens: int) -> list[dict]:
    options = AnswerOptions.from_settings(settings, mode=role, max_answer_tokens=max_tokens, temperature=0.0)
    rows: list[dict] = []
    catalog = ModelCatalog(settings)
    try:
        for lang, (index, cases) in language_sets(count, seed).items():
            for variant, sentence in VARIANTS.items():
                prompt_module.answer_language_instruction = sentence  # the one seam the prompt uses
                results = [await answer(c.question, index=index, catalog=catalog, options=options) for c in cases]
                answered = [(c, r) for c, r in zip(cases, results) if r.answered_by_model and not r.error]
                same = [written_in(r.text) == lang for _, r in answered]
                gold = [contains_gold(r.text, c.answers, lang) for c, r in answered if c.answers]
                rows.append({"lang": lang, "variant": variant, "answers": len(answered),
                             "in_question_language": sum(same) / len(same) if same else None,
                             "contains_gold": sum(gold) / len(gold) if gold else None,
                             "examples": [r.text[:80] for _, r in answered[:2]]})
                print(json.dumps(rows[-1], ensure_ascii=False), file=sys.stderr, flush=True)
    finally:
        prompt_module.answer_language_instruction = answer_language_instruction
        catalog.close()
    return rows


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--role", choices=("slm", "llm"), default="llm", help="bundled SLM (0.5B) or LLM (1.5B)")
    parser.add_argument("--questions", type=int, default=8, help="questions per language")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    settings = Settings(backend="embedded", models_dir=REPO / ".ragstage" / "models", start_embedded_at_launch=False)
    rows = asyncio.run(measure(settings, args.role, args.questions, args.seed, args.max_tokens))
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    model = getattr(settings, f"{args.role}_bundled_model")
    print(f"{model}: {args.questions} questions per language, seed {args.seed}, temperature 0\n")
    print("| lang | variant | answers | in the question's language | contains gold |\n|---|---|---:|---:|---:|")
    for row in rows:
        print(f"| {row['lang']} | {row['variant']} | {row['answers']} | {_share(row['in_question_language'])} "
              f"| {_share(row['contains_gold'])} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
