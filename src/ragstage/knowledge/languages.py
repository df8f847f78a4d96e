"""Which language a text is written in, and the rules that turn that language's words into terms.

Detection is py3langid (a maintained fork of langid.py: 139 languages, numpy only, offline).
It costs about half a millisecond per 700-character passage, so it reads a bounded sample, and
English, by far the most common case, is recognised first from its function words alone: an
English knowledge folder is indexed as fast as before (benchmarks/retrieval.py measures it).

Rules per language: a Snowball stemmer where PyStemmer has one, simplemma's lemmatizer for
Ukrainian (no Snowball stemmer exists; benchmarks/ukrainian_stemming.py compares the options),
and stopword lists from stopwords-iso (`stopwordsiso`). English keeps ragstage's own short list:
stopwords-iso's English list drops content words people ask about ("small", "large", "first").
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

import Stemmer

# Our own list of English function words (articles, pronouns, auxiliaries, prepositions,
# conjunctions, a few fillers). Content words such as "small", "large" or "first" stay
# searchable on purpose: people ask about them.
ENGLISH_STOPWORDS: frozenset[str] = frozenset(
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

# ISO 639-1 code -> PyStemmer (Snowball) algorithm.
SNOWBALL_ALGORITHMS: dict[str, str] = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "cs": "czech", "da": "danish",
    "nl": "dutch", "en": "english", "eo": "esperanto", "et": "estonian", "fi": "finnish", "fr": "french",
    "de": "german", "el": "greek", "hi": "hindi", "hu": "hungarian", "id": "indonesian", "ga": "irish",
    "it": "italian", "lt": "lithuanian", "ne": "nepali", "no": "norwegian", "fa": "persian", "pl": "polish",
    "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian", "st": "sesotho", "es": "spanish",
    "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}
LEMMATIZED_LANGUAGES = frozenset({"uk"})  # simplemma

# Scripts (first word of a letter's Unicode name) that a language's rules apply to; Latin if
# not listed. A word in another script (an English term in a Russian text) is analysed by its
# own script's default language instead, so query and passage spell it the same way.
LANGUAGE_SCRIPTS: dict[str, frozenset[str]] = {
    **dict.fromkeys(("ar", "fa", "ur", "ku"), frozenset({"ARABIC"})),
    **dict.fromkeys(("ru", "uk", "bg", "mk", "be", "kk", "ky", "mn", "tg", "tt", "ba"), frozenset({"CYRILLIC"})),
    **dict.fromkeys(("hi", "mr", "ne", "sa"), frozenset({"DEVANAGARI"})),
    **dict.fromkeys(("he", "yi"), frozenset({"HEBREW"})),
    "sr": frozenset({"CYRILLIC", "LATIN"}), "el": frozenset({"GREEK"}), "hy": frozenset({"ARMENIAN"}),
    "ta": frozenset({"TAMIL"}), "bn": frozenset({"BENGALI"}), "gu": frozenset({"GUJARATI"}),
    # Written without spaces: their text becomes bigrams (analyzer.py), never words to stem.
    "zh": frozenset({"CJK"}), "ja": frozenset({"CJK", "HIRAGANA", "KATAKANA"}), "ko": frozenset({"HANGUL"}),
    "th": frozenset({"THAI"}), "lo": frozenset({"LAO"}), "km": frozenset({"KHMER"}), "my": frozenset({"MYANMAR"}),
}
SPACELESS_LANGUAGES = frozenset({"zh", "ja", "ko", "th", "lo", "km", "my"})
SCRIPT_DEFAULT_LANGUAGE: dict[str, str] = {
    "LATIN": "en", "CYRILLIC": "ru", "GREEK": "el", "ARABIC": "ar", "DEVANAGARI": "hi", "ARMENIAN": "hy",
    "TAMIL": "ta", "HEBREW": "he", "BENGALI": "bn", "GUJARATI": "gu",
}
# Detector labels that are varieties of a language whose rules apply (Wu and Cantonese Chinese
# are written with the same Han characters; Egyptian and Moroccan Arabic with the same letters).
LABEL_ALIASES: dict[str, str] = {"wuu": "zh", "yue": "zh", "arz": "ar", "ary": "ar"}

UNKNOWN = ""  # no confident detection: every word is analysed by its script's default language
DETECT_SAMPLE_CHARS = 300
# Below this probability the detector abstains (titles, numbers, code, single words).
MIN_CONFIDENCE = 0.5
# English function words are 32-55% of the words of English passages and at most 15% of
# German, Spanish, Romanian, Turkish or Vietnamese ones (xquad_tune): a share this high is English.
ENGLISH_FUNCTION_WORD_SHARE = 0.25


@dataclass(frozen=True)
class LanguageRules:
    code: str
    scripts: frozenset[str]
    stopwords: frozenset[str]
    stem_words: Callable[[list[str]], list[str]] | None  # None: words are terms as they are


def _stopwords(code: str) -> frozenset[str]:
    if code == "en":
        return ENGLISH_STOPWORDS
    import stopwordsiso

    if not stopwordsiso.has_lang(code):
        return frozenset()
    # Single words only (the analyzer never produces "bao giờ"), and never digits: "5" is content.
    return frozenset(w.casefold() for w in stopwordsiso.stopwords(code)
                     if " " not in w and any(c.isalpha() for c in w))


def _lemmatizer(code: str) -> Callable[[list[str]], list[str]]:
    import simplemma

    def lemmatize(words: list[str]) -> list[str]:
        return [simplemma.lemmatize(word, lang=code).casefold() for word in words]

    return lemmatize


@cache
def rules_for(code: str) -> LanguageRules | None:
    """The rules of language `code`, or None when ragstage has neither stemmer nor stopwords for it."""
    stem_words = None
    if code in SNOWBALL_ALGORITHMS and SNOWBALL_ALGORITHMS[code] in Stemmer.algorithms():
        stem_words = Stemmer.Stemmer(SNOWBALL_ALGORITHMS[code]).stemWords
    elif code in LEMMATIZED_LANGUAGES:
        stem_words = _lemmatizer(code)
    # Stopword lists hold words; a spaceless language's terms are bigrams, which they never match.
    stopwords = _stopwords(code) if code and code not in SPACELESS_LANGUAGES else frozenset()
    if stem_words is None and not stopwords:
        return None
    return LanguageRules(code, LANGUAGE_SCRIPTS.get(code, frozenset({"LATIN"})), stopwords, stem_words)


def script_of(word: str) -> str:
    """The script of a word's first letter ("LATIN", "CYRILLIC", ...); "COMMON" for 2061 or _."""
    for char in word:
        if char.isalpha():
            return unicodedata.name(char, "COMMON ?").split(" ", 1)[0]
    return "COMMON"


def word_rules(language: str, script: str) -> LanguageRules | None:
    """The rules for a word in `script` inside a text in `language` (see LANGUAGE_SCRIPTS)."""
    rules = rules_for(language)
    if rules is not None and (script == "COMMON" or script in rules.scripts):
        return rules
    return rules_for(SCRIPT_DEFAULT_LANGUAGE.get(script, UNKNOWN))


_identifier_lock = threading.Lock()


@cache
def _identifier():  # type: ignore[no-untyped-def]
    """py3langid's model, loaded on first use (~0.8 s); classify/rank never mutate it."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _loaded_identifier():  # type: ignore[no-untyped-def]
    with _identifier_lock:  # two threads must not both spend the load time
        return _identifier()


def language_ranking(text: str) -> list[tuple[str, float]]:
    """Every language the detector knows, most likely first (aliases folded into their language)."""
    ranked: dict[str, float] = {}
    for label, probability in _loaded_identifier().rank(text):
        code = LABEL_ALIASES.get(label, label)
        ranked[code] = ranked.get(code, 0.0) + probability
    return sorted(ranked.items(), key=lambda item: -item[1])


def detect_language(text: str) -> str:
    """ISO 639-1 code of `text`, or UNKNOWN ("") when the detector is not confident."""
    code, probability = language_ranking(text[:DETECT_SAMPLE_CHARS])[0]
    return UNKNOWN if probability < MIN_CONFIDENCE or code == "zxx" else code


def looks_english(words: Iterable[str], count: int) -> bool:
    """True when English function words make up an English-like share of `count` words."""
    return count > 0 and sum(map(ENGLISH_STOPWORDS.__contains__, words)) >= ENGLISH_FUNCTION_WORD_SHARE * count
