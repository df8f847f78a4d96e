"""Does an answer decline? The one refusal detector: hybrid escalation refines a draft that
declines, and evaluation scores declined answers with it.

Models phrase "the sources don't say" in many ways; the check has
to catch the variants (contractions, curly quotes, "context" for "sources") without mistaking a
real answer that mentions a negation ("no data leaves the machine") for a refusal.

Only the opening of the answer is read (its first two sentences): a refusal comes first, while
a right answer may legitimately say later that something "is not covered in" a document.
"""

from __future__ import annotations

import re
import unicodedata

_CONTRACTIONS = (
    (re.compile(r"\bcan'?t\b"), "cannot"),
    (re.compile(r"\bwon'?t\b"), "will not"),
    (re.compile(r"\b(do|does|did|is|are|was|were|have|has|could|would)n'?t\b"), r"\1 not"),
    (re.compile(r"\bi'?m\b"), "i am"),
    (re.compile(r"\bcan not\b"), "cannot"),
)
_SOURCE_WORDS = r"(?:sources?|context|documents?|passages?|texts?|knowledge(?: base)?|materials?|information provided)"
_VERBS = (
    r"(?:contain|cover|mention|provide|include|say|specify|state|answer|address|discuss|describe"
    r"|explain|give|list|offer|have)"
)
_REFUSAL = re.compile(
    "|".join(
        (
            rf"\b(?:do|does|did) not (?:seem to |appear to )?{_VERBS}\b",
            r"\b(?:cannot|unable to|not able to|not possible to) (?:answer|find|determine|tell|say|provide|locate"
            r"|confirm|know|help)\b",
            r"\b(?:cannot|could not|can not) be (?:answered|determined|found)\b",
            r"\bnot (?:mentioned|covered|provided|specified|stated|found|included|addressed|described"
            rf"|given|available|present|discussed) (?:in|by|within|among) (?:the |any |these |those )?(?:provided |given |numbered )?{_SOURCE_WORDS}",
            r"\b(?:no|not enough|insufficient|no relevant) (?:information|details?|mention|evidence) "
            r"(?:about|on|regarding|concerning|in|for|of|that|to answer|available|provided|given)\b",
            r"\bnot enough (?:information|details?|context)\b",
            r"\bi do not (?:know|have (?:enough )?information)\b",
            rf"\b(?:no|none of the) (?:relevant |matching )?{_SOURCE_WORDS}\b",
            rf"\boutside (?:the scope of )?(?:the |these )?(?:provided |given )?{_SOURCE_WORDS}",
            r"\bunanswerable\b",
            r"\bthe knowledge base does not cover\b",
        )
    )
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def _prepare(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())


def opening(text: str, sentences: int = 2) -> str:
    parts = [part for part in _SENTENCE_END.split(text.strip()) if part.strip()]
    return " ".join(parts[:sentences])


def is_refusal(text: str) -> bool:
    """True when the answer says, up front, that the sources do not hold the answer."""
    return bool(_REFUSAL.search(_prepare(opening(text))))
