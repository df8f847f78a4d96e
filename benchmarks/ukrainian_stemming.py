"""Ukrainian has no Snowball stemmer: which word normaliser should ragstage use?

Measured on Ukrainian texts written for ragstage (benchmarks/data/, not copied from anywhere):
- `ukrainian_retrieval.jsonl`: 30 short passages (several per topic, so there are near misses)
  and 72 questions worded with other inflections than their passage; BM25 over words segmented
  by ragstage's analyzer, ranks of the gold passage -> hit@1, hit@3, MRR.
- `ukrainian_word_forms.txt`: 30 words with 4-10 inflected forms each -> the share of form pairs
  that meet at one term, and how many words share a term with another word (false merges).

Candidates: no stemming; the Russian Snowball stemmer (a cheap stand-in some tools use);
simplemma's Ukrainian lemmatizer (what ragstage uses); pymorphy3 with pymorphy3-dicts-uk (first
parse's normal form), measured only when installed (`pip install pymorphy3 pymorphy3-dicts-uk`).
CPU time per previously unseen word is printed too (terms are cached per word afterwards).

Usage: .venv/bin/python benchmarks/ukrainian_stemming.py
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import rank_bm25

DATA = Path(__file__).resolve().parent / "data"


def candidates() -> dict[str, Callable[[str], str]]:
    import simplemma
    import Stemmer

    russian = Stemmer.Stemmer("russian")
    found: dict[str, Callable[[str], str]] = {
        "no stemming": lambda word: word,
        "Russian Snowball": russian.stemWord,
        "simplemma (ragstage)": lambda word: simplemma.lemmatize(word, lang="uk").casefold(),
    }
    try:
        import pymorphy3
    except ImportError:
        print("pymorphy3 not installed: skipped")
        return found
    morph = pymorphy3.MorphAnalyzer(lang="uk")
    found["pymorphy3 + dicts-uk"] = lambda word: morph.parse(word)[0].normal_form
    return found


def retrieval(normalise: Callable[[str], str], stopwords: frozenset[str]) -> dict[str, float]:
    from ragstage.knowledge.analyzer import tokens

    rows = [json.loads(line) for line in (DATA / "ukrainian_retrieval.jsonl").read_text(encoding="utf-8").splitlines()]
    passages = [row for row in rows if row["kind"] == "passage"]
    questions = [row for row in rows if row["kind"] == "question"]

    def terms(text: str) -> list[str]:
        return [normalise(word) for word in tokens(text) if word not in stopwords]

    bm25 = rank_bm25.BM25Okapi([terms(f"{p['title']}\n\n{p['text']}") for p in passages])
    ids = [p["id"] for p in passages]
    ranks = []
    for question in questions:
        order = np.argsort(-bm25.get_scores(terms(question["question"])), kind="stable")
        ranks.append([ids[i] for i in order].index(question["passage_id"]) + 1)
    return {"hit@1": np.mean([r == 1 for r in ranks]), "hit@3": np.mean([r <= 3 for r in ranks]),
            "MRR": np.mean([1 / r for r in ranks])}


def conflation(normalise: Callable[[str], str]) -> dict[str, float]:
    lines = (DATA / "ukrainian_word_forms.txt").read_text(encoding="utf-8").splitlines()
    groups = [line.split() for line in lines if line.strip() and not line.startswith("#")]
    term_sets = [{normalise(form) for form in forms} for forms in groups]
    pairs = [(normalise(a), normalise(b)) for forms in groups for a, b in itertools.combinations(forms, 2)]
    started = time.process_time()
    words = {form for forms in groups for form in forms}
    for word in words:
        normalise(word)
    return {"same term": np.mean([a == b for a, b in pairs]),
            "false merges": sum(bool(a & b) for a, b in itertools.combinations(term_sets, 2)),
            "us/word": (time.process_time() - started) / len(words) * 1e6}


def main() -> None:
    from ragstage.knowledge.languages import rules_for

    stopwords = rules_for("uk").stopwords
    print(f"{'candidate':<24}{'hit@1':>7}{'hit@3':>7}{'MRR':>7}{'  +stopwords: hit@1 hit@3 MRR':>30}"
          f"{'same-term pairs':>17}{'false merges':>14}{'us/word':>9}")
    for name, normalise in candidates().items():
        plain, stopped, forms = retrieval(normalise, frozenset()), retrieval(normalise, stopwords), conflation(normalise)
        print(f"{name:<24}" + "".join(f"{plain[k]:>7.3f}" for k in ("hit@1", "hit@3", "MRR"))
              + " " * 9 + "".join(f"{stopped[k]:>7.3f}" for k in ("hit@1", "hit@3", "MRR"))
              + f"{forms['same term']:>17.3f}{forms['false merges']:>14}{forms['us/word']:>9.1f}")


if __name__ == "__main__":
    main()
