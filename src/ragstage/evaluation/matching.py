"""Text normalisation shared by the quality metrics, so that "4,096 tokens", "4096 Tokens"
and "4096-token" are the same fact and a curly apostrophe never hides a refusal.

Both sides of every comparison go through the same `normalise`, so its choices (punctuation
becomes space, digits and letters are split apart) can never make a fact unmatchable.
"""

from __future__ import annotations

import re
import unicodedata

import regex
from collections.abc import Iterable

from ragstage.knowledge.analyzer import analyze

_CITATION_MARK = re.compile(r"\[\d+(?:\s*,\s*\d+)*\]")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_DIGIT_LETTER = re.compile(r"(?<=\d)(?=[^\W\d_])|(?<=[^\W\d_])(?=\d)")
_WORD = re.compile(r"\w+(?:['\u2019.,\-]\w+)*")
# Letters, digits and combining marks are kept: Python's \w has no marks, so Devanagari or
# Thai vowel signs would be "punctuation" and cut words apart ("दिल्ली" -> "द ल ल").
_NOT_WORD = regex.compile(r"[^\w\p{M}]+|_+")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})

def strip_citations(text: str) -> str:
    return _CITATION_MARK.sub(" ", text)


def normalise(text: str) -> str:
    """Lower-case words separated by single spaces, punctuation gone, numbers comparable."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES).replace("'", "")
    text = _THOUSANDS.sub("", text)
    text = _DIGIT_LETTER.sub(" ", text)
    return " ".join(_NOT_WORD.sub(" ", text).split())


def fact_alternatives(fact: str) -> list[str]:
    """`"4096|4,096 tokens"` -> the normalised alternatives, blanks dropped."""
    return [alt for alt in (normalise(part) for part in fact.split("|")) if alt]


def fact_present(fact: str, text: str) -> bool:
    """Any alternative of `fact` occurs in `text` as whole words (case and punctuation ignored)."""
    haystack = f" {normalise(text)} "
    return any(f" {alt} " in haystack for alt in fact_alternatives(fact))


def any_fact_present(facts: Iterable[str], text: str) -> bool:
    return any(fact_present(fact, text) for fact in facts)


def content_terms(text: str) -> list[str]:
    """Stemmed content words in order, by the same analyzer that indexes the knowledge (so
    "models" in an answer matches "model" in a passage); citation marks are not words."""
    return analyze(strip_citations(text))


def word_count(text: str) -> int:
    """Words as a reader counts them: "4,096", "don't" and "1.5" are one word each."""
    return len(_WORD.findall(strip_citations(text)))
