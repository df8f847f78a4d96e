"""The language an answer is written in: the question's.

Small models drift to English, the language of most of their instruction tuning, whatever the
question's language (benchmarks/answer_language.py measures how often, per language and model).
So the system prompt gets one more sentence: it names the question's language when the detector
is sure of it, and otherwise asks for the question's language in general terms.

An English question adds nothing, so English prompts stay exactly as they were (same tokens,
same prefill time). Detection is the knowledge analyzer's (py3langid, offline, well under a
millisecond for a question). On xquad_tune's 7,344 questions in 12 languages, a confidence of at
least 0.7 named the right language for 95% of them and the wrong one for 1; below it the general
sentence is used (short questions such as "Що таке BM25?" are often unsure).
"""

from __future__ import annotations

from ragstage.knowledge.analyzer import tokens
from ragstage.knowledge.languages import UNKNOWN, language_ranking, looks_english

NAMED_LANGUAGE_MIN_CONFIDENCE = 0.7
# ISO 639-1 code -> the language's English name, as the instruction (in English) names it.
LANGUAGE_NAMES: dict[str, str] = {
    "ar": "Arabic", "bg": "Bulgarian", "bn": "Bengali", "ca": "Catalan", "cs": "Czech", "da": "Danish",
    "de": "German", "el": "Greek", "en": "English", "es": "Spanish", "et": "Estonian", "fa": "Persian",
    "fi": "Finnish", "fr": "French", "he": "Hebrew", "hi": "Hindi", "hr": "Croatian", "hu": "Hungarian",
    "id": "Indonesian", "it": "Italian", "ja": "Japanese", "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian",
    "ms": "Malay", "nl": "Dutch", "no": "Norwegian", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian",
    "ru": "Russian", "sk": "Slovak", "sl": "Slovenian", "sr": "Serbian", "sv": "Swedish", "sw": "Swahili",
    "ta": "Tamil", "th": "Thai", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "vi": "Vietnamese",
    "zh": "Chinese",
}
SAME_LANGUAGE_SENTENCE = " Write the answer in the language of the question."
NAMED_LANGUAGE_SENTENCE = " The question is in {name}: write the answer in {name}."


def question_language(question: str) -> tuple[str, float]:
    """The detector's most likely language of the question (ISO 639-1) and its confidence."""
    if not question.strip():
        return UNKNOWN, 0.0
    return language_ranking(question)[0]


def _english(question: str, code: str, confidence: float) -> bool:
    """English, or nothing to go by: the detector's pick, or, when it is unsure (short
    questions: "Why?"), English function words in an English-like share."""
    if code in ("en", "zxx", UNKNOWN):  # zxx: the detector's "no language" (numbers, symbols)
        return True
    words = tokens(question)
    return confidence < NAMED_LANGUAGE_MIN_CONFIDENCE and looks_english(words, len(words))


def answer_language_instruction(question: str) -> str:
    """The sentence appended to the system prompt; "" for an English question."""
    code, confidence = question_language(question)
    if _english(question, code, confidence):
        return ""
    if confidence >= NAMED_LANGUAGE_MIN_CONFIDENCE and code in LANGUAGE_NAMES:
        return NAMED_LANGUAGE_SENTENCE.format(name=LANGUAGE_NAMES[code])
    return SAME_LANGUAGE_SENTENCE
