"""Retrieval quality for benchmarks/retrieval.py: English test collections and XQuAD in 12 languages.

Every function here uses only the public `ragstage.knowledge` interface that the baseline
(English-only analyzer) also has, so the same code measures "before" and "after": the baseline
runs in a child process whose PYTHONPATH points at the baseline's sources.

- `english_ndcg_at_10()`: mean nDCG@10 on Cranfield and CISI (judged queries only), one chunk
  per abstract, as tests/integration/knowledge/test_retrieval_quality.py indexes them.
- `xquad_hit_at_5()`: per language, the 120 xquad_tune passages written as the dataset README
  says (title line, blank line, text; default chunking) and all 612 questions: the share whose
  gold passage is among the sources of the top 5 hits.
- `detector_report()`: the chunk language detector against xquad_tune's labels, and its cost.
"""

from __future__ import annotations

import csv
import json
import math
import time
from collections import defaultdict
from pathlib import Path

DATASETS = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"
XQUAD = DATASETS / "xquad_tune"
XQUAD_LANGUAGES = ("en", "vi", "es", "ro", "de", "el", "ar", "ru", "tr", "th", "hi", "zh")


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _judgments(folder: Path) -> dict[str, set[str]]:
    relevant: dict[str, set[str]] = defaultdict(set)
    with open(folder / "qrels.tsv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if int(row["relevance"]) > 0:
                relevant[row["query-id"]].add(row["doc-id"])
    return relevant


def _ndcg(ranked: list[str], relevant: set[str]) -> float:
    gain = sum(1 / math.log2(rank + 2) for rank, doc in enumerate(ranked[:10]) if doc in relevant)
    return gain / sum(1 / math.log2(rank + 2) for rank in range(min(len(relevant), 10)))


def collection_ndcg_at_10(folder: Path) -> float:
    from ragstage.knowledge import ChunkIndex, Document

    relevant = _judgments(folder)
    index = ChunkIndex(size_tokens=2048, overlap_tokens=0)
    index.add_many(Document(d["id"], d["title"], d["text"] or d["title"], "txt", "0" * 64)
                   for d in read_jsonl(folder / "corpus.jsonl"))
    queries = [q for q in read_jsonl(folder / "queries.jsonl") if q["id"] in relevant]
    scores = [_ndcg([hit.chunk.source for hit in index.search(q["text"], 10)], relevant[q["id"]]) for q in queries]
    return sum(scores) / len(scores)


def english_ndcg_at_10() -> dict[str, float]:
    return {name: collection_ndcg_at_10(DATASETS / name) for name in ("cranfield", "cisi")}


def xquad_documents(language: str) -> list:
    from ragstage.knowledge import Document

    return [Document(f"{p['id']}.txt", p["title"], f"{p['title']}\n\n{p['text']}", "txt", "0" * 64)
            for p in read_jsonl(XQUAD / f"passages.{language}.jsonl")]


def hit_at_5(index, questions: list[dict]) -> float:
    found = sum(any(hit.chunk.source == f"{q['passage_id']}.txt" for hit in index.search(q["question"], 5))
                for q in questions)
    return found / len(questions)


def xquad_hit_at_5() -> dict[str, float]:
    from ragstage.knowledge import ChunkIndex

    results = {}
    for language in XQUAD_LANGUAGES:
        index = ChunkIndex()
        index.add_many(xquad_documents(language))
        results[language] = hit_at_5(index, read_jsonl(XQUAD / f"qa.{language}.jsonl"))
    return results


def _labelled(loader: str, field: str) -> list[tuple[str, str]]:
    return [(language, row[field]) for language in XQUAD_LANGUAGES
            for row in read_jsonl(XQUAD / f"{loader}.{language}.jsonl")]


def _accuracy_and_cost(label_of, texts: list[tuple[str, str]]) -> tuple[float, float]:
    started = time.process_time()
    correct = sum(label_of(text) == language for language, text in texts)
    return correct / len(texts), (time.process_time() - started) / len(texts) * 1e6


def detector_report() -> dict[str, float]:
    """Accuracy of language detection on xquad_tune passages and questions, and its CPU cost:
    the detector alone, and the whole chunk analysis (English recognised without the detector)."""
    from ragstage.knowledge.analyzer import analyze_passage
    from ragstage.knowledge.languages import detect_language

    started = time.process_time()
    detect_language("load the model first")
    report = {"model_load_s": time.process_time() - started}
    passages, questions = _labelled("passages", "text"), _labelled("qa", "question")
    for name, label_of, texts in (("detector_passages", detect_language, passages),
                                  ("detector_questions", detect_language, questions),
                                  ("chunk_analysis_passages", lambda t: analyze_passage(t).language, passages)):
        report[f"{name}_accuracy"], report[f"{name}_us"] = _accuracy_and_cost(label_of, texts)
    return report
