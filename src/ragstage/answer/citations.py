"""Which numbered sources an answer actually cites, mapped back to their chunks."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ragstage.answer.result import Citation

if TYPE_CHECKING:
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
