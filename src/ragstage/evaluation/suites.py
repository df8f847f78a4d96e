"""The fixed question sets bench and eval run: shipped in `ragstage/data`, replaceable by a file.

A suite is JSONL so that people can write their own with any editor and diff it in review.
Every line is checked when loaded: a typo must fail with its line number, not as a silently
wrong score half an hour into a run.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class SuiteError(Exception):
    """A suite file that cannot be used; `str(err)` names the file and line."""


@dataclass(frozen=True)
class EvalCase:
    case_id: str
    question: str
    answerable: bool
    facts: tuple[str, ...]  # each must appear in a right answer; "a|b" accepts either
    source: str | None  # gold document, relative to the knowledge folder


@dataclass(frozen=True)
class BenchPrompt:
    prompt_id: str
    question: str


def default_eval_suite_path() -> Path:
    return Path(str(resources.files("ragstage") / "data" / "eval_suite.jsonl"))


def default_bench_prompts_path() -> Path:
    return Path(str(resources.files("ragstage") / "data" / "bench_prompts.jsonl"))


def jsonl_records(path: Path, what: str = "questions") -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) of every non-blank line; any other content is a SuiteError."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise SuiteError(f"{path}: cannot read ({err.strerror or err})") from None
    records: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise SuiteError(f"{path}:{number}: not valid JSON ({err.msg})") from None
        if not isinstance(record, dict):
            raise SuiteError(f"{path}:{number}: expected a JSON object")
        records.append((number, record))
    if not records:
        raise SuiteError(f"{path}: no {what} in the file")
    return records


def text_field(record: dict[str, Any], key: str, where: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SuiteError(f"{where}: '{key}' must be a non-empty string")
    return value.strip()


def _eval_case(record: dict[str, Any], where: str) -> EvalCase:
    answerable = record.get("answerable")
    if not isinstance(answerable, bool):
        raise SuiteError(f"{where}: 'answerable' must be true or false")
    facts = record.get("facts", [])
    if not isinstance(facts, list) or not all(isinstance(f, str) and f.strip() for f in facts):
        raise SuiteError(f"{where}: 'facts' must be a list of non-empty strings")
    if answerable and not facts:
        raise SuiteError(f"{where}: an answerable question needs at least one fact")
    source = record.get("source")
    if source is not None and (not isinstance(source, str) or not source.strip()):
        raise SuiteError(f"{where}: 'source' must be a file name or null")
    return EvalCase(
        case_id=text_field(record, "id", where),
        question=text_field(record, "question", where),
        answerable=answerable,
        facts=tuple(f.strip() for f in facts),
        source=source.strip() if source else None,
    )


def _unique(ids: list[str], path: Path) -> None:
    seen: set[str] = set()
    for case_id in ids:
        if case_id in seen:
            raise SuiteError(f"{path}: id {case_id!r} appears more than once")
        seen.add(case_id)


def load_eval_suite(path: Path | None = None) -> list[EvalCase]:
    """Questions with the facts a right answer states (or none, when the answer is to decline)."""
    path = path or default_eval_suite_path()
    cases = [_eval_case(record, f"{path}:{number}") for number, record in jsonl_records(path)]
    _unique([case.case_id for case in cases], path)
    return cases


def load_bench_prompts(path: Path | None = None) -> list[BenchPrompt]:
    path = path or default_bench_prompts_path()
    prompts = [
        BenchPrompt(text_field(record, "id", f"{path}:{n}"), text_field(record, "question", f"{path}:{n}"))
        for n, record in jsonl_records(path)
    ]
    _unique([prompt.prompt_id for prompt in prompts], path)
    return prompts


def sample_cases(cases: Sequence[T], n: int | None, seed: int) -> list[T]:
    """`n` cases drawn with `seed` (all when n is None or not smaller), kept in file order, so
    that the same n and seed give the same questions on every machine and in every run."""
    if n is None or n >= len(cases):
        return list(cases)
    picked = sorted(random.Random(seed).sample(range(len(cases)), n))
    return [cases[i] for i in picked]
