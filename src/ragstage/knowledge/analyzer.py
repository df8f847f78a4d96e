"""Text to BM25 terms: lowercase, Unicode words, no English stopwords, Snowball stems.

Stemming lets "models" match "model" and dropping function words keeps them from swamping
scores; together they measurably beat a plain whitespace tokenizer on a real test collection
(see tests/integration/knowledge/test_retrieval_quality.py).
"""

from __future__ import annotations

import re

import Stemmer

# Our own list of English function words (articles, pronouns, auxiliaries, prepositions,
# conjunctions, a few fillers). Content words such as "small", "large" or "first" stay
# searchable on purpose: people ask about them.
STOPWORDS: frozenset[str] = frozenset(
    """
    a an the this that these those there here
    i me my mine we us our ours you your yours he him his she her hers it its they them their theirs
    myself ourselves yourself yourselves himself herself itself themselves
    am is are was were be been being have has had having do does did doing done
    will would shall should can could may might must ought
    and or but nor so yet if then else than because as while until unless though although whether
    of at by for with about against between into through during before after above below
    to from up down in out on off over under again further once onto upon within without via
    what which who whom whose when where why how
    all any both each few more most other some such only own same very just also too
    no not don't isn't aren't wasn't weren't doesn't didn't won't can't cannot
    s t d ll m re ve
    """.split()
)

_WORD = re.compile(r"\w+(?:'\w+)*")
_stemmer = Stemmer.Stemmer("english")
# word -> its term ("" for a stopword). A dict lookup per word is what makes bulk indexing fast;
# it is cleared when full so hostile uploads full of random words cannot grow it without bound.
_TERM_CACHE_MAX = 500_000
_term_of: dict[str, str] = {}


def _learn(words: list[str]) -> None:
    if len(_term_of) > _TERM_CACHE_MAX:
        _term_of.clear()
    new = [word for word in dict.fromkeys(words) if word not in _term_of]
    for word, stem in zip(new, _stemmer.stemWords(new)):
        _term_of[word] = "" if word in STOPWORDS else stem


def analyze(text: str) -> list[str]:
    """Index and query terms of `text`, in order (repeats kept: BM25 counts them)."""
    words = _WORD.findall(text.casefold().replace("’", "'"))
    terms = list(map(_term_of.get, words))
    if None in terms:
        _learn(words)
        terms = list(map(_term_of.__getitem__, words))
    return [term for term in terms if term]
