"""Text to BM25 terms, in the text's own language.

Words are Unicode words that keep their combining marks (Python's `re` cuts Devanagari words
apart at their vowel signs, so the `regex` package segments non-ASCII text). Scripts written
without spaces between words (Han, kana, Hangul, Thai, Lao, Khmer, Myanmar) become overlapping
bigrams of grapheme clusters: a dictionary segmenter did not beat them on xquad_tune (jieba
0.989 vs 0.989 for Chinese, PyThaiNLP's newmm 0.985 vs 0.990 for Thai), and splitting Thai
between a consonant and its vowel sign instead of between clusters cost 0.015.
Each word then goes through its language's rules (knowledge/languages.py): stopwords out,
Snowball stem (or Ukrainian lemma) in. A passage's language is detected; a query is analysed in
the language, among those present in the index, that it most looks like, so it meets the
passages it should (a mixed English and Chinese index answers both).

English text is analysed exactly as before this module learned other languages (same words,
stopwords and stems), so English retrieval quality is unchanged; tests hold it to that.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import metadata

import regex

from ragstage.knowledge.languages import (
    ENGLISH_STOPWORDS,
    UNKNOWN,
    LanguageRules,
    detect_language,
    language_ranking,
    looks_english,
    script_of,
    word_rules,
)

# Bump when analysis changes in a way that changes terms: saved indexes record it and an index
# analysed differently is rebuilt, never misread (the dependencies' versions are recorded too).
ANALYZER_REVISION = 2
STOPWORDS = ENGLISH_STOPWORDS

_ASCII_WORD = re.compile(r"\w+(?:'\w+)*")  # on ASCII text identical to _WORD, and faster
_WORD = regex.compile(r"\w+(?:'\w+)*")
_SPACELESS = r"\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Hangul}\p{scx=Thai}\p{scx=Lao}" \
             r"\p{scx=Khmer}\p{scx=Myanmar}"
_HAS_SPACELESS = regex.compile(rf"[\w&&[{_SPACELESS}]]", regex.V1)
_RUN_OR_WORD = regex.compile(rf"([\w&&[{_SPACELESS}]]+)|([\w--[{_SPACELESS}]]+(?:'[\w--[{_SPACELESS}]]+)*)",
                             regex.V1)
_GRAPHEME = regex.compile(r"\X")
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "\u0307": None})  # U+0307: casefolded Turkish İ

# language -> token -> term ("" for a stopword). A dict lookup per word is what makes bulk
# indexing fast; cleared when full so hostile uploads full of random words cannot grow it forever.
_TERM_CACHE_MAX = 500_000
_term_tables: dict[str, dict[str, str]] = {}


@dataclass(frozen=True)
class AnalyzedText:
    language: str  # ISO 639-1 code, or "" when it could not be told
    terms: list[str]


def bigrams(run: str) -> list[str]:
    """Overlapping pairs of grapheme clusters ("东京都" -> "东京", "京都"); a lone cluster as is."""
    clusters = _GRAPHEME.findall(run)
    if len(clusters) < 2:
        return [run]
    return [first + second for first, second in zip(clusters, clusters[1:])]


def tokens(text: str) -> list[str]:
    """Normalised, casefolded words and spaceless-script bigrams, in text order."""
    if text.isascii():
        return _ASCII_WORD.findall(text.casefold())
    text = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)
    if not _HAS_SPACELESS.search(text):
        return _WORD.findall(text)
    found: list[str] = []
    for run, word in _RUN_OR_WORD.findall(text):
        if run:
            found.extend(bigrams(run))
        else:
            found.append(word)
    return found


def _learn(table: dict[str, str], language: str, words: Iterable[str]) -> dict[str, str]:
    """The terms of `words` (new to `table`), added to it; each rule set's words stemmed in one call.

    Returned too, so a caller never depends on the table (another thread may clear it when full).
    """
    if sum(map(len, _term_tables.values())) > _TERM_CACHE_MAX:
        for other in _term_tables.values():
            other.clear()
    groups: dict[str, tuple[LanguageRules | None, list[str]]] = {}
    rules_of_script: dict[str, LanguageRules | None] = {}
    for word in dict.fromkeys(words):
        script = "LATIN" if word.isascii() else script_of(word)  # digits: no stemmer changes them
        if script not in rules_of_script:
            rules_of_script[script] = word_rules(language, script)
        rules = rules_of_script[script]
        groups.setdefault(rules.code if rules else UNKNOWN, (rules, []))[1].append(word)
    learned: dict[str, str] = {}
    for rules, new in groups.values():
        if rules is None:
            learned.update(zip(new, new))
            continue
        stems = rules.stem_words(new) if rules.stem_words else new
        learned.update((word, "" if word in rules.stopwords else stem) for word, stem in zip(new, stems))
    table.update(learned)
    return learned


def terms_of(words: list[str], language: str) -> list[str]:
    """BM25 terms of already tokenized `words` read as `language` (stopwords dropped)."""
    table = _term_tables.get(language)
    if table is None:
        table = _term_tables.setdefault(language, {})
    terms = list(map(table.get, words))
    if None in terms:
        learned = _learn(table, language, [word for word, term in zip(words, terms) if term is None])
        terms = [learned[word] if term is None else term for word, term in zip(words, terms)]
    return [term for term in terms if term]


def analyze_passage(text: str) -> AnalyzedText:
    """Terms of a passage in its detected language (English recognised without the detector)."""
    words = tokens(text)
    language = "en" if looks_english(words, len(words)) else detect_language(text)
    return AnalyzedText(language, terms_of(words, language))


def query_language(query: str, index_languages: Iterable[str]) -> str:
    """The language, among those of the indexed passages, that `query` is most likely written in."""
    candidates = {code for code in index_languages if code != UNKNOWN}
    if len(candidates) <= 1:
        return next(iter(candidates), UNKNOWN)  # a one-language index needs no detection
    return next((code for code, _ in language_ranking(query) if code in candidates), UNKNOWN)


def analyze_query(query: str, index_languages: Iterable[str]) -> list[str]:
    """Terms of a search query, analysed like the passages it should meet."""
    return terms_of(tokens(query), query_language(query, index_languages))


def analyze(text: str, language: str | None = None) -> list[str]:
    """Index and query terms of `text`, in order (repeats kept: BM25 counts them).

    `language` is an ISO 639-1 code; None detects it (see `analyze_passage`).
    """
    if language is None:
        return analyze_passage(text).terms
    return terms_of(tokens(text), language)


@cache
def analyzer_version() -> str:
    """What a saved index must have been analysed with to be read back as it is."""
    libraries = ("PyStemmer", "py3langid", "simplemma", "stopwordsiso", "regex")
    versions = "; ".join(f"{name} {metadata.version(name)}" for name in libraries)
    return f"ragstage-analyzer {ANALYZER_REVISION}; unicode {unicodedata.unidata_version}; {versions}"
