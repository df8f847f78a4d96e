"""The answer footer names exactly the passages that were in the model's prompt: not the
retrieved hits below the score floor, not the ones the token budget left out."""

from __future__ import annotations

import re

from ragstage.answer import AnswerOptions, answer
from ragstage.knowledge import ChunkIndex, load_bytes
from ragstage.metrics import CallTimings, TokenUsage
from ragstage.models import Completion, ModelEndpoint
from ragstage.ui.citations import sources_footer, sources_to_show

FILLER = " ".join(f"Word{i} plain filler text about other matters." for i in range(40))
DOCUMENTS = {
    "lighthouse.md": f"# Lighthouse\n\nThe lighthouse keeper logs the lamp hours every night. {FILLER}",
    "harbour.md": f"# Harbour\n\nThe harbour lamp and the lighthouse share one keeper. {FILLER}",
    "lamp.md": f"# Lamp\n\nA lamp burns oil; the keeper trims the wick. {FILLER}",
    "weather.md": "# Weather\n\nFog rolls in from the sea most mornings: the lighthouse is hard to see.",
    "boats.md": "# Boats\n\nFishing boats leave before dawn and return by noon.",
    "market.md": "# Market\n\nThe fish market opens at six and sells the morning catch.",
    "school.md": "# School\n\nThe village school has two classrooms and a small library.",
    "church.md": "# Church\n\nThe church bell rings at noon on Sundays.",
}


class SilentModel:
    """Answers without citing anything and keeps the prompt it was sent."""

    def __init__(self) -> None:
        self.prompts: list[str] = []

    async def resolve(self, role: str) -> ModelEndpoint:
        return ModelEndpoint(role, "fake", "http://127.0.0.1:9/v1", "embedded", "Fake", "scripted")

    def report_failure(self, role: str, error: object = None) -> None:
        raise AssertionError(f"no failure expected: {error}")

    async def stream_chat(self, endpoint, messages, params):
        self.prompts.append("\n".join(m["content"] for m in messages))
        yield "I am not sure."
        yield Completion("I am not sure.", "stop", "fake", "embedded", TokenUsage(100, 4, "counted"),
                         CallTimings(5.0, 5.0, 10.0), 0.1)


async def test_the_footer_lists_exactly_the_passages_in_the_prompt() -> None:
    index = ChunkIndex(size_tokens=512, overlap_tokens=0)
    for name, text in DOCUMENTS.items():
        index.add(load_bytes(name, text.encode(), name))
    question = "When does the lighthouse keeper trim the lamp wick?"
    scores = [hit.score for hit in index.search(question, 5)]
    floor = (scores[2] + scores[3]) / 2  # three hits count as relevant, the rest fall below the floor
    options = AnswerOptions("slm", 5, 420, 32, 0.0, False, "never", 0, floor)  # room for fewer than three
    model = SilentModel()

    result = await answer(question, index=index, catalog=model, options=options, stream_fn=model.stream_chat)

    prompt = model.prompts[0]
    given = [int(n) for n in re.findall(r'<source id="(\d+)"', prompt)]
    assert 0 < len(given) < 3 < len(result.hits), "the setup must drop hits by floor and by budget"
    refs, cited = sources_to_show(result)
    assert not cited
    assert [ref.n for ref in refs] == given
    for ref in refs:
        assert re.search(rf'<source id="{ref.n}" title="{ref.chunk.title}"', prompt)
    footer = sources_footer(refs, cited)
    assert footer.count("[") == len(given)
