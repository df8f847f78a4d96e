"""A gold suite in one or several languages (`ragstage eval --suite DIR --lang zh|de,ru|all`).

Each language is its own knowledge folder and its own questions; the same `--sample`/`--seed`
draws the same positions in every language, which in a translated suite such as xquad_tune are
the same questions, so the languages are compared on equal terms. The model servers are started
once and shared by every language (one catalog); languages run one after the other (2 cores).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ragstage.evaluation.evaluate import ModeRun
from ragstage.evaluation.gold_eval import GoldSummary, run_gold_eval, summarize_gold
from ragstage.evaluation.gold_suite import GoldQuestion, GoldSuite, build_knowledge_folder
from ragstage.settings import Settings

BASELINE_LANGUAGE = "en"


@dataclass(frozen=True)
class LanguageRun:
    suite: GoldSuite
    knowledge: Path  # the knowledge folder built from the suite's passages
    questions: tuple[GoldQuestion, ...]  # the sample answered
    runs: tuple[ModeRun, ...]
    summaries: tuple[GoldSummary, ...]

    @property
    def lang(self) -> str:
        return self.suite.lang


async def run_languages(settings: Settings, suites: Sequence[tuple[GoldSuite, Sequence[GoldQuestion]]],
                        modes: Sequence[str], max_tokens: int,
                        answer_done: Callable[[str], None] = lambda _label: None) -> list[LanguageRun]:
    """Every mode on every (suite, questions) pair, in order; `answer_done` gets "<lang> <mode>"."""
    from ragstage.knowledge import KnowledgeBase
    from ragstage.models import ModelCatalog
    from ragstage.runtime import Runtime
    from ragstage.tokens import encoding

    await asyncio.to_thread(encoding)  # loaded before the first prompt, so its prep time is honest
    catalog = ModelCatalog(settings)
    done: list[LanguageRun] = []
    try:
        for suite, questions in suites:
            local = settings.model_copy(update={"knowledge_dir": build_knowledge_folder(suite, settings.cache_dir)})
            knowledge = await asyncio.to_thread(KnowledgeBase.open, local.knowledge_dir, local)
            runtime = Runtime(local, knowledge, catalog)
            runs = await run_gold_eval(runtime, modes, questions, max_tokens, suite.lang,
                                       lambda mode, lang=suite.lang: answer_done(f"{lang} {mode}"))
            summaries = tuple(summarize_gold(run, suite.lang) for run in runs)
            done.append(LanguageRun(suite, local.knowledge_dir, tuple(questions), tuple(runs), summaries))
    finally:
        await catalog.aclose()
    return done


def relative_to_baseline(runs: Sequence[LanguageRun]) -> dict[tuple[str, str], float | None]:
    """(lang, mode) -> contains-gold share divided by English's in the same mode (None without
    an English run or when English found nothing): the issue's ">= 0.8x English" target."""
    baseline = {s.mode: s.contains_gold for run in runs if run.lang == BASELINE_LANGUAGE for s in run.summaries}
    ratios: dict[tuple[str, str], float | None] = {}
    for run in runs:
        for summary in run.summaries:
            english = baseline.get(summary.mode)
            usable = english and summary.contains_gold is not None
            ratios[(run.lang, summary.mode)] = summary.contains_gold / english if usable else None
    return ratios
