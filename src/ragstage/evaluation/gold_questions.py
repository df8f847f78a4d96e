"""A gold QA folder (`passages.jsonl` + `qa.jsonl`, the squad11_dev_tune layout) as an index and
questions, and the one quality score the engine comparison uses: does the answer contain a
gold answer (SQuAD's normalisation: case, punctuation, articles, spacing), and does it cite the
gold passage.

Small on purpose: `ragstage eval --suite DIR` (branch `answers`) is the full evaluation; this
is what `ragstage bench --engines` needs to tell whether two engines answer equally well.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ragstage.knowledge import ChunkIndex, Document


class GoldFolderError(ValueError):
    """The folder is not a gold QA folder; the message names the file and line."""


@dataclass(frozen=True)
class GoldQuestion:
    qid: str
    question: str
    answers: tuple[str, ...]
    passage_id: str  # the passage (document source) that holds the answer


def _records(path: Path) -> list[dict]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise GoldFolderError(f"{path}: {err.strerror or err}") from None
    records = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except ValueError as err:
                raise GoldFolderError(f"{path}:{number}: not JSON ({err})") from None
    return records


def load_gold_folder(folder: Path) -> tuple[list[Document], list[GoldQuestion]]:
    """Passages as documents (source = passage id) and questions, in file order."""
    try:
        documents = [Document(p["id"], p.get("title") or p["id"], p["text"], "md",
                              hashlib.sha256(p["text"].encode()).hexdigest())
                     for p in _records(folder / "passages.jsonl")]  # fmt: skip
        questions = [GoldQuestion(q["id"], q["question"], tuple(q["answers"]), q["passage_id"])
                     for q in _records(folder / "qa.jsonl")]  # fmt: skip
    except (KeyError, TypeError) as err:
        raise GoldFolderError(f"{folder}: a record lacks the field {err}") from None
    return documents, questions


def gold_index(documents: Sequence[Document], size_tokens: int, overlap_tokens: int) -> ChunkIndex:
    index = ChunkIndex(size_tokens, overlap_tokens)
    index.add_many(documents)
    return index


def sample_questions(questions: Sequence[GoldQuestion], count: int, seed: int) -> list[GoldQuestion]:
    """`count` questions drawn with `seed` (the same ones on every run and engine)."""
    if count >= len(questions):
        return list(questions)
    return random.Random(seed).sample(list(questions), count)


def normalized(text: str) -> str:
    text = "".join(ch for ch in text.lower() if ch not in string.punctuation)
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def contains_gold(text: str, answers: Sequence[str]) -> bool:
    """Some gold answer appears in the text, both normalized."""
    said = f" {normalized(text)} "
    return any(f" {normalized(answer)} " in said for answer in answers if normalized(answer))
