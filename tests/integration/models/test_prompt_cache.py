"""The embedded servers' prompt cache and starter warming: a question whose prompt was warmed
at launch resumes from the saved state instead of processing its prompt again (what makes a
presenter's first click on a starter answer at once), and the answer is unchanged."""

from __future__ import annotations

from pathlib import Path

from ragstage.knowledge import KnowledgeBase
from ragstage.runtime import Runtime
from ragstage.ui.welcome import starters

REPO = Path(__file__).resolve().parents[3]


def _log(runtime: Runtime) -> str:
    server = runtime.catalog.embedded_server("slm")
    assert server is not None and server.log_path is not None
    return server.log_path.read_text(encoding="utf-8", errors="replace")


async def test_a_warmed_starter_resumes_from_the_prompt_cache(embedded_settings, embedded_catalog):
    settings = embedded_settings.model_copy(update={"knowledge_dir": REPO / "knowledge", "max_answer_tokens": 12})
    assert settings.embedded_prompt_cache_mb > 0 and settings.default_mode == "slm"
    runtime = Runtime(settings, KnowledgeBase.open(settings.knowledge_dir, settings), embedded_catalog)
    question = starters()[1].message  # the catalog is shared with other tests: no aclose here
    cold = await runtime.answer(question)

    assert await runtime.warm_questions([question, "zzqxv wvkjq"]) == 1  # not covered: skipped
    await runtime.answer("What is quantization?")  # another prompt in between: the live context moves on
    hits = _log(runtime).count("cache hit")
    warm = await runtime.answer(question)

    assert warm.error is None and cold.error is None
    assert _log(runtime).count("cache hit") == hits + 1
    assert warm.text == cold.text  # same prompt, temperature 0: the saved state changes nothing
