"""Measuring the models: `ragstage bench` (latency, decode speed, memory, cost per target) and
`ragstage eval` (grounded answer quality per mode, beside latency and cost).

Layout: `suites` (the shipped question sets), `matching` / `quality` (per-answer metrics and
the 1-5 rubric; declined answers are found by `ragstage.answer.is_refusal`), `stats` (percentiles), `targets` / `memory` / `bench` /
`bench_summary` (benchmark runs), `evaluate` (quality runs), `reports` / `bench_report` /
`eval_report` (Markdown + JSON) and `charts` (PNG).
"""

from ragstage.evaluation.bench import BenchConfig, TargetRun, run_bench
from ragstage.evaluation.bench_summary import TargetSummary, summarize_target
from ragstage.evaluation.evaluate import ModeRun, ModeSummary, run_eval, summarize_mode
from ragstage.evaluation.quality import AnswerScores, ObservedAnswer, score_answer
from ragstage.evaluation.suites import BenchPrompt, EvalCase, load_bench_prompts, load_eval_suite

__all__ = [
    "AnswerScores",
    "BenchConfig",
    "BenchPrompt",
    "EvalCase",
    "ModeRun",
    "ModeSummary",
    "ObservedAnswer",
    "TargetRun",
    "TargetSummary",
    "load_bench_prompts",
    "load_eval_suite",
    "run_bench",
    "run_eval",
    "score_answer",
    "summarize_mode",
    "summarize_target",
]
