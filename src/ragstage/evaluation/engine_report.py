"""`engines.md` and `engines.json`: the engine comparison as people read it and as data."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ragstage.evaluation.engine_bench import QUALITY_TOLERANCE, EngineRun, choose_engines, summary_row
from ragstage.evaluation.reports import fmt, machine_info, table, utc_now, write_json

HEADER = ("role", "model", "engine", "load s", "TTFT p50 ms", "TTFT p95 ms", "prefill tok/s", "decode tok/s",
          "total p50 ms", "peak RSS MB", "contains gold", "gold cited")  # fmt: skip


def _cells(row: dict[str, Any]) -> list[str]:
    if row["status"] != "ok":
        return [row["role"], row["model"] or "-", row["engine"], f"failed: {row['error']}", *["-"] * (len(HEADER) - 4)]
    return [row["role"], row["model"], row["engine"], fmt(row["load_s"], 1), fmt(row["ttft_ms_p50"]),
            fmt(row["ttft_ms_p95"]), fmt(row["prefill_tokens_per_s_p50"], 1), fmt(row["decode_tokens_per_s_p50"], 1),
            fmt(row["total_ms_p50"]), fmt(row["peak_rss_mb"]), fmt(row["contains_gold"], 2), fmt(row["gold_cited"], 2)]  # fmt: skip


def engine_markdown(rows: Sequence[dict[str, Any]], choices: dict[str, dict[str, Any]], meta: dict[str, Any]) -> str:
    lines = [
        "# Embedded engines compared", "",
        f"{meta['created']} · {meta['machine']['platform']} · {meta['machine']['cpu_count']} CPUs · "
        f"load average {meta['machine']['load_average_1m']} · threads per server {meta['threads']}", "",
        f"Speed: {meta['prompts']} prompts × {meta['rounds']} rounds after one warm-up answer, temperature 0, "
        f"at most {meta['max_tokens']} answer tokens, the same grounded prompts for every engine. Token counts "
        "are o200k_base for both engines (the same yardstick). Quality: "
        f"{meta['quality_questions']} questions of {meta['quality_suite']} (seed {meta['seed']}), "
        f"at most {meta['quality_max_tokens']} answer tokens.", "",
        table(HEADER, [_cells(row) for row in rows]), "",
        f"Choice per role (the faster engine only where its contains-gold share is within {QUALITY_TOLERANCE} "
        "of the best):", "",
    ]  # fmt: skip
    lines += [f"- {role}: **{choice['engine']}**: {choice['reason']}" for role, choice in choices.items()]
    return "\n".join(lines) + "\n"


def write_engine_report(out: Path, runs: Sequence[EngineRun], meta: dict[str, Any]) -> dict[str, str]:
    meta = {**meta, "created": utc_now(), "machine": machine_info()}
    rows = [summary_row(run) for run in runs]
    choices = choose_engines(rows)
    out.mkdir(parents=True, exist_ok=True)
    markdown = out / "engines.md"
    markdown.write_text(engine_markdown(rows, choices, meta), encoding="utf-8")
    data = write_json(out / "engines.json", {"meta": meta, "summary": rows, "choices": choices, "runs": list(runs)})
    return {"markdown": str(markdown), "json": str(data)}
