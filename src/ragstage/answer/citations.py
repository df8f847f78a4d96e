"""Which numbered sources an answer cites, mapped back to their chunks: the [n] the model wrote,
and, after sentence attribution, the passages that support its sentences."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ragstage.answer.result import Citation

if TYPE_CHECKING:
    from ragstage.answer.attribution import Attribution
    from ragstage.knowledge import Hit

# [1], [1, 3] and [1][2] all count; out-of-range numbers (the model inventing [7]) are ignored.
_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


def cited_numbers(text: str) -> list[int]:
    """The distinct [n] in `text`, in ascending order."""
    numbers = {int(n) for group in _CITATION.findall(text) for n in group.split(",")}
    return sorted(numbers)


def citations_for(text: str, sources: Sequence[Hit]) -> tuple[Citation, ...]:
    """Citations of the numbered `sources` ([1] is sources[0]) that `text` uses."""
    return tuple(
        Citation(n=n, chunk=sources[n - 1].chunk, score=sources[n - 1].score)
        for n in cited_numbers(text)
        if 1 <= n <= len(sources)
    )


def attributed_citations(attribution: Attribution, sources: Sequence[Hit]) -> tuple[Citation, ...]:
    """The passages an attributed answer cites, in [n] order: `model` where the model's own [n]
    was kept (or stood in a sentence with nothing to check), `computed` where attribution alone
    found the passage. A wrong [n] the model wrote is not a citation."""
    model = {c.n for s in attribution.sentences for c in s.citations if c.origin == "model"}
    model |= {n for s in attribution.sentences if not s.is_claim for n in s.written}
    computed = {c.n for s in attribution.sentences for c in s.citations} - model
    numbers = sorted(n for n in model | computed if 1 <= n <= len(sources))
    return tuple(
        Citation(n, sources[n - 1].chunk, sources[n - 1].score, "model" if n in model else "computed")
        for n in numbers
    )
