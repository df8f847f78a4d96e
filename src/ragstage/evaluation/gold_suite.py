"""Suites of questions with gold answers and gold passages (`ragstage eval --suite DIR`).

A folder such as `squad11_dev_tune` holds `passages.jsonl` (`{"id", "title", "text"}`) and
`qa.jsonl` (`{"id", "question", "answers", "passage_id"}`); `xquad_tune` holds the same pair per
language (`passages.<lang>.jsonl`, `qa.<lang>.jsonl`), which `lang` selects. The passages become
a knowledge folder (one `<id>.txt` each: title line, blank line, text) built once per content
hash under the cache folder, so the pipeline under test is the app's own, files and all.

Scores per answer: whether retrieval found the gold passage (its rank within top-k), whether the
answer contains a gold answer (NFKC, casefold, punctuation removed, whole words; English articles
dropped as SQuAD's own scorer does), whether it cites the gold passage, and its latency.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragstage.evaluation.matching import normalise, strip_citations
from ragstage.evaluation.suites import SuiteError, jsonl_records, text_field

_SAFE_ID = re.compile(r"[\w][\w.()\-,']*")
# Words a gold answer may carry or drop without changing the fact, per language (SQuAD drops
# English articles); a language missing here keeps every word.
_DROPPED_WORDS: dict[str, frozenset[str]] = {"en": frozenset({"a", "an", "the"})}
# Scripts written without spaces between words: compared with spaces removed.
_SPACELESS_LANGUAGES = frozenset({"zh", "ja", "th"})
_READY_MARKER = ".complete"


@dataclass(frozen=True)
class GoldPassage:
    passage_id: str
    title: str
    text: str

    @property
    def source(self) -> str:
        return passage_file(self.passage_id)


@dataclass(frozen=True)
class GoldQuestion:
    question_id: str
    question: str
    answers: tuple[str, ...]  # any of them counts
    passage_id: str

    @property
    def source(self) -> str:
        return passage_file(self.passage_id)


@dataclass(frozen=True)
class GoldSuite:
    folder: Path
    lang: str  # "en" for a single-language folder
    passages: tuple[GoldPassage, ...]
    questions: tuple[GoldQuestion, ...]
    content_sha256: str  # of the passages file: names the built knowledge folder


def suite_languages(folder: Path) -> tuple[str, ...]:
    """The languages of a per-language folder (a `passages.<lang>.jsonl` with its `qa.<lang>.jsonl`),
    English first, then alphabetical; () for a single-language folder."""
    found = {p.name.split(".")[1] for p in folder.glob("passages.*.jsonl") if p.name.count(".") == 2}
    found = {lang for lang in found if (folder / f"qa.{lang}.jsonl").is_file()}
    return tuple(sorted(found, key=lambda lang: (lang != "en", lang)))


def parse_languages(value: str, available: Sequence[str]) -> list[str]:
    """`--lang`: one code, several comma-separated, or `all` -> the languages to run, in the
    folder's order (English first: the others are compared with it)."""
    if not available:
        raise SuiteError("--lang needs a folder with one suite per language (passages.<lang>.jsonl + qa.<lang>.jsonl)")
    wanted = [part.strip().lower() for part in value.split(",") if part.strip()]
    if not wanted:
        raise SuiteError(f"--lang is empty; choose from {', '.join(available)} or all")
    if "all" in wanted:
        return list(available)
    unknown = [lang for lang in wanted if lang not in available]
    if unknown:
        raise SuiteError(f"no suite for language {', '.join(unknown)}; this folder has {', '.join(available)} (or all)")
    return [lang for lang in available if lang in wanted]


def _suite_files(folder: Path, lang: str | None) -> tuple[Path, Path]:
    if lang is not None:
        return folder / f"passages.{lang}.jsonl", folder / f"qa.{lang}.jsonl"
    passages, questions = folder / "passages.jsonl", folder / "qa.jsonl"
    per_language = suite_languages(folder)
    if not passages.is_file() and per_language:
        raise SuiteError(f"{folder} holds one suite per language ({', '.join(per_language)}); "
                         "choose with --lang (a code, several comma-separated, or all)")
    return passages, questions


def _rows(path: Path, what: str) -> list[tuple[str, dict[str, Any]]]:
    return [(f"{path}:{number}", row) for number, row in jsonl_records(path, what)]


def passage_file(passage_id: str) -> str:
    """A passage's file name in the built knowledge folder, which is its hits' `chunk.source`."""
    return f"{passage_id}.txt"


def _passage(row: dict[str, Any], where: str) -> GoldPassage:
    passage_id = text_field(row, "id", where)
    if not _SAFE_ID.fullmatch(passage_id):
        raise SuiteError(f"{where}: passage id {passage_id!r} cannot be a file name")
    return GoldPassage(passage_id, text_field(row, "title", where), text_field(row, "text", where))


def _question(row: dict[str, Any], where: str, passage_ids: set[str]) -> GoldQuestion:
    answers = row.get("answers")
    if not isinstance(answers, list) or not answers or not all(isinstance(a, str) and a.strip() for a in answers):
        raise SuiteError(f"{where}: 'answers' must be a non-empty list of strings")
    passage_id = text_field(row, "passage_id", where)
    if passage_id not in passage_ids:
        raise SuiteError(f"{where}: passage_id {passage_id!r} is not in the passages file")
    return GoldQuestion(text_field(row, "id", where), text_field(row, "question", where),
                        tuple(a.strip() for a in answers), passage_id)


def load_gold_suite(folder: Path, lang: str | None = None) -> GoldSuite:
    """Read and check a gold suite folder; every problem names its file and line."""
    if not folder.is_dir():
        raise SuiteError(f"{folder}: not a folder")
    passages_file, questions_file = _suite_files(folder, lang)
    passages = tuple(_passage(row, where) for where, row in _rows(passages_file, "passages"))
    ids = {p.passage_id for p in passages}
    if len(ids) != len(passages):
        raise SuiteError(f"{passages_file}: a passage id appears more than once")
    questions = tuple(_question(row, where, ids) for where, row in _rows(questions_file, "questions"))
    digest = hashlib.sha256(passages_file.read_bytes()).hexdigest()
    return GoldSuite(folder, lang or "en", passages, questions, digest)


def build_knowledge_folder(suite: GoldSuite, cache_dir: Path) -> Path:
    """The suite's passages as a knowledge folder under `cache_dir`, written once per content
    hash (a half-written folder is never used: it is completed under a temporary name)."""
    folder = Path(cache_dir) / "suites" / f"{suite.lang}-{suite.content_sha256[:16]}"
    if (folder / _READY_MARKER).is_file():
        return folder
    staging = folder.with_name(f"{folder.name}.{os.getpid()}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for passage in suite.passages:
        (staging / passage.source).write_text(f"{passage.title}\n\n{passage.text}\n", encoding="utf-8")
    (staging / _READY_MARKER).write_text(str(suite.folder), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(staging, folder)
    return folder


def _answer_form(text: str, lang: str) -> str:
    words = normalise(strip_citations(text)).split()
    dropped = _DROPPED_WORDS.get(lang, frozenset())
    joiner = "" if lang in _SPACELESS_LANGUAGES else " "
    return joiner.join(word for word in words if word not in dropped)


def contains_gold(answer: str, gold_answers: Sequence[str], lang: str = "en") -> bool:
    """Any gold answer appears in the answer as whole words, after the same normalisation of
    both (for spaceless scripts, as a substring with spaces removed)."""
    pad = "" if lang in _SPACELESS_LANGUAGES else " "
    haystack = f"{pad}{_answer_form(answer, lang)}{pad}"
    return any(form and f"{pad}{form}{pad}" in haystack for form in (_answer_form(g, lang) for g in gold_answers))
