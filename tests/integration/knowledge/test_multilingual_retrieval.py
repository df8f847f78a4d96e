"""Retrieval in the languages of xquad_tune (../shared/datasets), and English exactly as before.

XQuAD's paragraphs are professional translations of the same English text, so every language
answers the same questions. Before ragstage analysed text per language, Chinese found the gold
passage in the top 5 for 22% of the questions, and keeping combining marks without splitting Thai
into bigrams made Thai collapse to 37%; both would fail here.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
import Stemmer

from ragstage.knowledge import ChunkIndex, Document
from ragstage.knowledge.analyzer import STOPWORDS, analyze_passage

DATASETS = Path(__file__).resolve().parents[3] / ".." / "shared" / "datasets"
XQUAD = DATASETS / "xquad_tune"
LANGUAGES = ("en", "vi", "es", "ro", "de", "el", "ar", "ru", "tr", "th", "hi", "zh")
QUESTIONS_PER_LANGUAGE = 100  # a fixed-seed sample of the 612; benchmarks/retrieval.py runs them all
MIN_HIT_AT_5 = 0.95  # the full sets measure 0.97-0.99 (benchmarks/retrieval.py)

pytestmark = pytest.mark.skipif(not XQUAD.is_dir(), reason=f"xquad_tune not found at {XQUAD}")


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("language", LANGUAGES)
def test_gold_passage_is_in_the_top_5_in_every_language(language: str):
    index = ChunkIndex()
    index.add_many(Document(f"{p['id']}.txt", p["title"], f"{p['title']}\n\n{p['text']}", "txt", "0" * 64)
                   for p in read_jsonl(XQUAD / f"passages.{language}.jsonl"))
    questions = random.Random(17).sample(read_jsonl(XQUAD / f"qa.{language}.jsonl"), QUESTIONS_PER_LANGUAGE)
    found = sum(any(hit.chunk.source == f"{q['passage_id']}.txt" for hit in index.search(q["question"], 5))
                for q in questions)
    print(f"\n{language}: hit@5 {found / len(questions):.2f}")
    assert found / len(questions) >= MIN_HIT_AT_5
    assert set(index.languages) == {language}  # every passage recognised as what it is


@pytest.mark.parametrize("collection", ["cranfield", "cisi"])
def test_english_collections_get_exactly_the_terms_of_the_english_only_analyzer(collection: str):
    """Same terms for every document means the same BM25 scores, rankings and nDCG as before."""
    corpus = DATASETS / collection / "corpus.jsonl"
    if not corpus.is_file():
        pytest.skip(f"{corpus} not found")
    stemmer = Stemmer.Stemmer("english")

    def english_only(text: str) -> list[str]:
        words = re.findall(r"\w+(?:'\w+)*", text.casefold().replace("’", "'"))
        return [stemmer.stemWord(word) for word in words if word not in STOPWORDS]

    for doc in read_jsonl(corpus):
        text = doc["text"] or doc["title"]
        analysed = analyze_passage(text)
        assert analysed.terms == english_only(text), doc["id"]
        assert analysed.language in ("en", ""), doc["id"]
