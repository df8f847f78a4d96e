"""Sentence-level attribution: which passage given to the model supports each answer sentence.

Small models often write no `[n]`, or a wrong one, so citations cannot be taken from the model
alone. Support is computed lexically with the knowledge analyzer (`ragstage.knowledge.analyze`:
the same casefolding, stopwords and stems that retrieval uses), so "models" in an answer meets
"model" in a passage exactly as a query does. An answer sentence is supported by a passage when
the passage holds at least `min_coverage` of the sentence's content terms (or when a pair of
passages does together); a model-written `[n]` is kept when passage n is evidence for its
sentence, otherwise it is rejected and the computed evidence takes its place. Every citation
says where it came from (`model` or `computed`), and for each one the passage's own supporting
sentences are given with their character offsets, for highlighting.

Pure: no I/O, no model, no UI. Passages are numbered as in the prompt: `passages[0]` is [1].
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ragstage.answer.citations import cited_numbers
from ragstage.knowledge import analyze

Origin = Literal["model", "computed"]

MIN_COVERAGE = 0.5  # share of a sentence's content terms a passage must hold to support it
MAX_JOINT_PASSAGES = 2  # a sentence may combine facts from this many passages
MAX_HIGHLIGHTS = 3  # supporting sentences shown per passage

_CITATION_MARKS = re.compile(r"\[\d+(?:\s*,\s*\d+)*\]")
# A sentence ends at . ! ? (or an ellipsis) plus closing quotes/brackets and any [n] marks that
# follow it, when the next text starts a new sentence (not a lowercase word: "e.g. the").
_LATIN_END = re.compile(r"""(?:[.!?]+|…)["'”’)]*(?:\s*\[\d+(?:\s*,\s*\d+)*\])*""")
_CJK_END = re.compile(r"[。！？]+[」』”）]*(?:\s*\[\d+(?:\s*,\s*\d+)*\])*")
_LIST_MARKER = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


@dataclass(frozen=True)
class TextSpan:
    """A sentence of a text: `text == source[start:end]` of the text it was split from."""

    start: int
    end: int
    text: str

    def offsets_json(self) -> dict[str, int]:
        return {"start": self.start, "end": self.end}


@dataclass(frozen=True)
class PassageSupport:
    """One citation of an answer sentence: passage `n` ([n] in the prompt), who chose it, how
    much of the sentence it covers, and which of its own sentences carry that evidence."""

    n: int
    origin: Origin
    coverage: float  # share of the answer sentence's content terms found in this passage
    sentences: tuple[TextSpan, ...]  # offsets into the passage text, in passage order

    def to_json(self) -> dict[str, object]:
        return {"n": self.n, "origin": self.origin, "coverage": round(self.coverage, 3),
                "passage_sentences": [span.offsets_json() for span in self.sentences]}  # fmt: skip


@dataclass(frozen=True)
class SentenceAttribution:
    span: TextSpan  # offsets into the answer text
    is_claim: bool  # has content words to check (not "It is." or a lone [n], whose marks are
    # then neither kept nor rejected: there is nothing to check them against)
    supported: bool  # a claim with evidence in the given passages
    citations: tuple[PassageSupport, ...]  # kept model-written citations, else computed ones
    written: tuple[int, ...]  # the [n] the model wrote in this sentence
    rejected: tuple[int, ...]  # written numbers that are not evidence for it (wrong or out of range)

    @property
    def corrected(self) -> bool:
        """The model cited, but wrongly, and computed evidence replaced its citation."""
        return bool(self.rejected) and any(c.origin == "computed" for c in self.citations)

    def to_json(self) -> dict[str, object]:
        return {
            **self.span.offsets_json(), "text": self.span.text, "claim": self.is_claim, "supported": self.supported,
            "written": list(self.written), "rejected": list(self.rejected),
            "citations": [citation.to_json() for citation in self.citations],
        }  # fmt: skip


@dataclass(frozen=True)
class Attribution:
    sentences: tuple[SentenceAttribution, ...]
    support_score: float | None  # supported claims / claims; None when there is no claim

    def cited(self, origin: Origin | None = None) -> tuple[int, ...]:
        """Distinct passage numbers cited anywhere in the answer, optionally of one origin."""
        found = {c.n for s in self.sentences for c in s.citations if origin is None or c.origin == origin}
        return tuple(sorted(found))

    @property
    def unsupported(self) -> tuple[SentenceAttribution, ...]:
        return tuple(s for s in self.sentences if s.is_claim and not s.supported)

    def to_json(self) -> dict[str, object]:
        """Offsets are into the answer text (sentences) and into each passage's text (the
        passage sentences to highlight)."""
        score = None if self.support_score is None else round(self.support_score, 3)
        return {"support_score": score, "sentences": [sentence.to_json() for sentence in self.sentences]}


def _line_spans(text: str) -> list[tuple[int, int]]:
    """Non-blank lines as (start, end), a leading list marker left out of the span."""
    spans, offset = [], 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        marker = _LIST_MARKER.match(body)
        start = offset + (marker.end() if marker else 0)
        if body.strip():
            spans.append((start, offset + len(body)))
        offset += len(line)
    return spans


def _sentence_ends(text: str, start: int, end: int) -> list[int]:
    """Where sentences end inside text[start:end]."""
    ends = [m.end() for m in _CJK_END.finditer(text, start, end)]
    for match in _LATIN_END.finditer(text, start, end):
        if match.end() < end and not text[match.end()].isspace():
            continue  # "1.5B", "v1.1", "example.com"
        rest = text[match.end():end].lstrip()
        if not rest or not rest[0].islower():
            ends.append(match.end())
    return sorted(set(ends) | {end})


def _trimmed(text: str, start: int, end: int) -> TextSpan | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return TextSpan(start, end, text[start:end]) if end > start else None


def _only_marks(span: TextSpan) -> bool:
    return not _CITATION_MARKS.sub("", span.text).strip(" .,;:")


def split_sentences(text: str) -> tuple[TextSpan, ...]:
    """Sentences with their offsets, so that a UI can highlight them in the original text.

    Lines are split first (answers come as bullet lists as often as prose); [n] marks written
    after a full stop stay with the sentence they close, and a line holding only marks joins
    the sentence before it (or the first one, when nothing precedes it)."""
    spans: list[TextSpan] = []
    for line_start, line_end in _line_spans(text):
        cut = line_start
        for end in _sentence_ends(text, line_start, line_end):
            span = _trimmed(text, cut, end)
            cut = end
            if span is None:
                continue
            if spans and _only_marks(span):
                previous = spans.pop()
                span = TextSpan(previous.start, span.end, text[previous.start:span.end])
            spans.append(span)
    if len(spans) > 1 and _only_marks(spans[0]):
        first, second = spans[0], spans[1]
        spans[:2] = [TextSpan(first.start, second.end, text[first.start:second.end])]
    return tuple(spans)


def content_terms(text: str) -> frozenset[str]:
    """The stemmed content words of `text`, citation marks excluded: what support is made of."""
    return frozenset(analyze(_CITATION_MARKS.sub(" ", text)))


# Words with which small models refer to the prompt ("According to the information provided in
# the sources, ..."): they say nothing about the world, so they are neither evidence nor a gap.
_PROMPT_WORDS = content_terms("according information provided sources context passages mentioned")
# "in sources 1 and 2": a citation in words, not a number the sentence claims.
_SOURCES_IN_WORDS = re.compile(r"\bsources?\s+\d+(?:\s*(?:,|and|&)\s*\d+)*", re.IGNORECASE)


def claim_terms(text: str) -> frozenset[str]:
    """What an answer sentence claims: its content terms without the words that refer to the prompt."""
    return content_terms(_SOURCES_IN_WORDS.sub(" ", text)) - _PROMPT_WORDS


@dataclass(frozen=True)
class _Passage:
    text: str
    sentences: tuple[TextSpan, ...]
    sentence_terms: tuple[frozenset[str], ...]
    terms: frozenset[str]


def _prepare(text: str) -> _Passage:
    sentences = split_sentences(text)
    sentence_terms = tuple(content_terms(s.text) for s in sentences)
    return _Passage(text, sentences, sentence_terms, frozenset().union(*sentence_terms))


def _term_weights(passages: Sequence[_Passage]) -> dict[str, float]:
    """Rarer terms among the given passages weigh more when choosing between passages, so that
    a title word every passage repeats does not decide which one is the evidence."""
    counts: dict[str, int] = {}
    for passage in passages:
        for term in passage.terms:
            counts[term] = counts.get(term, 0) + 1
    total = len(passages)
    return {term: math.log(1 + total / count) for term, count in counts.items()}


def _coverage(claim: frozenset[str], terms: frozenset[str]) -> float:
    return len(claim & terms) / len(claim) if claim else 0.0


def _supports(claim: frozenset[str], terms: frozenset[str], min_coverage: float) -> bool:
    """Enough of the sentence is in `terms`: at least `min_coverage` of it and two terms
    (one when the sentence has a single content word), so one shared word is never evidence;
    and every number it states, because a wrong number is the commonest small-model error and
    the rest of such a sentence usually repeats the passage word for word."""
    matched = len(claim & terms)
    numbers = {term for term in claim if term.isdigit()}
    return matched >= min(2, len(claim)) and matched >= min_coverage * len(claim) and numbers <= terms


def _evidence(claim: frozenset[str], passages: Sequence[_Passage], weights: dict[str, float],
              min_coverage: float) -> tuple[int, ...]:
    """0-based indexes of the passages that support `claim`, strongest first: greedily the one
    adding the most (rarity-weighted) uncovered terms; a further passage only when it adds two
    terms or more, so a sentence joining two facts cites both. Empty when they do not suffice."""
    chosen: list[int] = []
    covered: frozenset[str] = frozenset()
    for _ in range(MAX_JOINT_PASSAGES):
        gains = [(sum(weights.get(t, 0.0) for t in (claim & p.terms) - covered), -i)
                 for i, p in enumerate(passages) if i not in chosen]
        best_gain, best = max(gains, default=(0.0, 0))
        added = (claim & passages[-best].terms) - covered if best_gain > 0 else frozenset()
        if not added or (chosen and len(added) < 2):
            break
        chosen.append(-best)
        covered |= added
    return tuple(chosen) if _supports(claim, covered, min_coverage) else ()


def _highlights(claim: frozenset[str], passage: _Passage) -> tuple[TextSpan, ...]:
    """The passage's own sentences that carry the claim's terms: greedily, the sentence adding
    the most not-yet-covered terms, until none adds any (at most `MAX_HIGHLIGHTS`)."""
    picked: list[int] = []
    covered: frozenset[str] = frozenset()
    while len(picked) < MAX_HIGHLIGHTS:
        gains = [(len((claim & terms) - covered), -i) for i, terms in enumerate(passage.sentence_terms)]
        gain, best = max(gains, default=(0, 0))
        if gain == 0:
            break
        picked.append(-best)
        covered |= claim & passage.sentence_terms[-best]
    return tuple(passage.sentences[i] for i in sorted(picked))


def _support(n: int, origin: Origin, claim: frozenset[str], passage: _Passage) -> PassageSupport:
    return PassageSupport(n, origin, _coverage(claim, passage.terms), _highlights(claim, passage))


def _attribute_sentence(span: TextSpan, passages: Sequence[_Passage], weights: dict[str, float],
                        min_coverage: float, restated: frozenset[str]) -> SentenceAttribution:
    claim = claim_terms(span.text) - restated
    written = tuple(cited_numbers(span.text))
    if not claim:
        return SentenceAttribution(span, False, False, (), written, ())
    evidence = {i + 1 for i in _evidence(claim, passages, weights, min_coverage)}
    valid = [n for n in written if 1 <= n <= len(passages)]
    kept = [n for n in valid if n in evidence or _supports(claim, passages[n - 1].terms, min_coverage)]
    rejected = tuple(n for n in written if n not in kept)
    if kept:
        citations = tuple(_support(n, "model", claim, passages[n - 1]) for n in kept)
    else:
        ranked = sorted(evidence, key=lambda n: -_coverage(claim, passages[n - 1].terms))
        citations = tuple(_support(n, "computed", claim, passages[n - 1]) for n in ranked)
    return SentenceAttribution(span, True, bool(citations), citations, written, rejected)


def attribute(answer: str, passages: Sequence[str], *, question: str = "",
              min_coverage: float = MIN_COVERAGE) -> Attribution:
    """Link every sentence of `answer` to the passages (as numbered in the prompt) that support it.

    Why: a reader trusts a cited sentence, so a citation must point at real evidence whether the
    model wrote it or not; a sentence no passage supports is flagged rather than silently shown
    as grounded. The support score (share of claims supported) summarises the whole answer, e.g.
    for deciding whether a draft needs the larger model. Words of the `question` that no passage
    holds ("in 2015" when the passage says "that season") are the question restated, not a claim."""
    prepared = [_prepare(text) for text in passages]
    weights = _term_weights(prepared)
    restated = claim_terms(question) - frozenset().union(*(p.terms for p in prepared))
    sentences = tuple(
        _attribute_sentence(span, prepared, weights, min_coverage, restated) for span in split_sentences(answer)
    )
    claims = [s for s in sentences if s.is_claim]
    score = sum(s.supported for s in claims) / len(claims) if claims else None
    return Attribution(sentences, score)
